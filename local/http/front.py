"""The local stack's HTTP front: Chalice's own local server running the app, behind the edge
that API Gateway is on AWS, with everything under /_local/ handed to the console.

The edge answers like the deployed gateway's configured responses (infra/gateway.py): an
unknown path is a 404 and a known path with a method it lacks a 405 with `Allow`, both
problem+json, as every error of the API is; Chalice's local server would answer a 403
"Missing Authentication Token" and a JSON 405 of its own. The routes with a Cognito
authorizer get API Gateway's check of the token (local/http/authorizer.py), where Chalice's
local server takes any token it can decode.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chalice import Chalice
from chalice.cli.factory import CLIFactory
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    RouteMatcher,
    ThreadedHTTPServer,
)

from chalicelib.http import edges
from infra.definition import ROOT
from local.http import replies
from local.http.authorizer import CognitoAuthorizers, install
from local.state.counters import CallCounter

if TYPE_CHECKING:
    from local.emulator import Emulator

LOCAL_PREFIX = "/_local"
TRACE_HEADER = "X-Amzn-Trace-Id"
# Answers one request under /_local/ on an http.server request handler (the console's).
LocalPages = Callable[[Any], None]


def is_local(path: str) -> bool:
    return path == LOCAL_PREFIX or path.startswith(LOCAL_PREFIX + "/")


class Edge:
    """What the gateway answers before the app sees a request: None lets it through.

    Every path has every method API Gateway routes (chalicelib/http/edges.py answers the ones
    it lacks with 405); what is left here is an unknown path, and a method API Gateway does not
    route at all (TRACE, QUERY...).
    """

    def __init__(self, app: Chalice, stage: str) -> None:
        self._stage = stage
        self._allowed = {
            path: sorted(
                method
                for method, entry in entries.items()
                if entry.view_name != edges.METHOD_NOT_ALLOWED_VIEW
            )
            for path, entries in app.routes.items()
        }
        self._matcher = RouteMatcher(list(app.routes))

    def refuse(self, method: str, target: str) -> replies.Reply | None:
        try:
            route = self._matcher.match_route(target).route
        except ValueError:
            return replies.unknown_path(urlsplit(target).path, self._stage)
        if method not in edges.ALL_METHODS:
            return replies.problem(edges.method_not_allowed(self._allowed[route]))
        return None


def api_server(
    app: Chalice,
    stage: str,
    local_pages: LocalPages,
    api_requests: CallCounter,
    *,
    host: str,
    port: int,
    verbose: bool = False,
    authorizers: CognitoAuthorizers | None = None,
    traced: Emulator | None = None,
) -> LocalDevServer:
    """Chalice's own local server, with the edge in front of the app, the Cognito authorizers
    checking tokens, and /_local/ handed to `local_pages`; each API request traced as API
    Gateway and Lambda trace it (`traced`)."""
    edge = Edge(app, stage)

    class BackloggedServer(ThreadedHTTPServer):
        # socketserver's default backlog of 5 refuses connections under a modest load.
        request_queue_size = 256

        def serve_forever(self, poll_interval: float = 0.05) -> None:
            # Told to stop, it stops within 50 ms (socketserver's default, 0.5 s, is a wait on
            # each Ctrl-C and each test's teardown).
            super().serve_forever(poll_interval)

    class LocalApiHandler(ChaliceRequestHandler):
        # Headers and body leave in separate writes; with Nagle's algorithm on, a kept-alive
        # connection waits for the client's delayed ACK (~40 ms) between them.
        disable_nagle_algorithm = True

        status: int | None = None

        def _generic_handle(self) -> None:
            path = urlsplit(self.path).path
            if is_local(path):
                local_pages(self)
                return
            api_requests.add(self.command)
            self.status = None
            if traced is None:
                self._answer(None)
                return
            with traced.api_request(self.command, path, self.headers.get(TRACE_HEADER)) as request:
                self._answer(request)
                request.status = self.status

        def _answer(self, request: Any) -> None:
            refused = edge.refuse(self.command, self.path)
            if refused is not None:
                replies.send(self, replies.read_body(self) or refused)
                return
            if authorizers is not None:
                install(self.local_gateway, authorizers)
            if request is None or traced is None:
                super()._generic_handle()
            else:
                with traced.api_function(request):
                    super()._generic_handle()

        def send_response(self, code: int, message: str | None = None) -> None:
            self.status = code
            super().send_response(code, message)

        def __getattr__(self, name: str) -> Any:
            # http.server looks up do_<METHOD>; every method, known or not (TRACE, QUERY...),
            # goes to the edge as on API Gateway, where http.server would answer 501.
            if name.startswith("do_"):
                return self._generic_handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            if verbose:
                super().log_message(format, *args)

    # The base class binds the verbs it knows to its own method; bind them to ours.
    for method in edges.ALL_METHODS:
        setattr(LocalApiHandler, f"do_{method}", LocalApiHandler._generic_handle)

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(
        app,
        config,
        host,
        port,
        handler_cls=functools.partial(LocalApiHandler),
        server_cls=BackloggedServer,
    )
