"""The local stack's HTTP front: Chalice's own local server running the app, behind the edge
that API Gateway is on AWS, with the local-only pages under /_local/.

The edge answers like the deployed gateway's configured responses (infra/template.py): an
unknown path is a 404 and a known path with a method it lacks a 405 with `Allow`, both
problem+json, as every error of the API is; Chalice's local server would answer a 403
"Missing Authentication Token" and a JSON 405 of its own.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

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
from chalicelib.http.problems import PROBLEM_CONTENT_TYPE, Problem
from infra import gateway
from infra.definition import ROOT
from local.metrics import CallCounter
from local.options import Options
from local.webconsole import Console

logger = logging.getLogger(__name__)
LOCAL_PREFIX = "/_local"
EXECUTIONS_PATH = f"{LOCAL_PREFIX}/executions"
METRICS_PATH = f"{LOCAL_PREFIX}/metrics"

Reply = tuple[int, Any, dict[str, str]]  # status, JSON body, extra headers
LocalRoute = Callable[[str, str], Reply]  # (method, path below /_local) -> reply


def problem_reply(problem: Problem) -> Reply:
    response = problem.to_response()
    headers = {name: str(value) for name, value in response.headers.items()}
    return problem.status, json.loads(response.body), headers


def not_found(path: str, stage: str) -> Reply:
    """What the gateway answers for a path it does not have (infra/gateway.py)."""
    answer = gateway.answer("MISSING_AUTHENTICATION_TOKEN", stage)
    body = answer.body(f"nothing is served at {path}")
    return answer.status, body, {"Content-Type": PROBLEM_CONTENT_TYPE}


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

    def refuse(self, method: str, path: str) -> Reply | None:
        try:
            route = self._matcher.match_route(path).route
        except ValueError:
            return not_found(urlsplit(path).path, self._stage)
        if method not in edges.ALL_METHODS:
            return problem_reply(edges.method_not_allowed(self._allowed[route]))
        return None


def _is_local_page(path: str) -> bool:
    return path in (EXECUTIONS_PATH, METRICS_PATH) or path.startswith(EXECUTIONS_PATH + "/")


def local_pages(view: Any, metrics: Callable[[], dict[str, Any]]) -> LocalRoute:
    """The JSON pages under /_local/ beside the console: executions with their history (for
    `make executions` and `make demo`), and metrics."""

    def route(method: str, path: str) -> Reply:
        if method != "GET":
            return problem_reply(edges.method_not_allowed(["GET"]))
        if path == METRICS_PATH:
            return 200, metrics(), {}
        operation_id = unquote(path[len(EXECUTIONS_PATH) :].strip("/"))
        if not operation_id:
            return 200, {"executions": view.listing()}, {}
        found = view.history(operation_id)
        if found is None:
            return problem_reply(
                Problem(404, "not-found", "Not found", "no execution for this operation")
            )
        return 200, found, {}

    return route


def api_server(
    app: Chalice,
    options: Options,
    local: LocalRoute,
    api_requests: CallCounter,
    console: Console,
) -> LocalDevServer:
    """Chalice's own local server, with the edge and /_local/ in front of the app: the JSON
    pages (executions, metrics) and the console (local/webconsole)."""
    edge = Edge(app, options.stage)

    class BackloggedServer(ThreadedHTTPServer):
        # socketserver's default backlog of 5 refuses connections under a modest load.
        request_queue_size = 256

    class LocalApiHandler(ChaliceRequestHandler):
        # Headers and body leave in separate writes; with Nagle's algorithm on, a kept-alive
        # connection waits for the client's delayed ACK (~40 ms) between them.
        disable_nagle_algorithm = True

        def _generic_handle(self) -> None:
            path = urlsplit(self.path).path
            if _is_local_page(path):
                self._reply(*local(self.command, path))
                return
            if path == LOCAL_PREFIX or path.startswith(LOCAL_PREFIX + "/"):
                console.handle(self)
                return
            api_requests.add(self.command)
            refused = edge.refuse(self.command, self.path)
            if refused is not None:
                self._reply(*refused)
            else:
                super()._generic_handle()

        def _reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
            payload = json.dumps(body, default=str).encode()
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def __getattr__(self, name: str) -> Any:
            # http.server looks up do_<METHOD>; every method, known or not (TRACE, QUERY...),
            # goes to the edge as on API Gateway, where http.server would answer 501.
            if name.startswith("do_"):
                return self._generic_handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            if options.verbose:
                super().log_message(format, *args)

    # The base class binds the verbs it knows to its own method; bind them to ours.
    for method in edges.ALL_METHODS:
        setattr(LocalApiHandler, f"do_{method}", LocalApiHandler._generic_handle)

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=options.stage)
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(
        app,
        config,
        options.host,
        options.api_port,
        handler_cls=functools.partial(LocalApiHandler),
        server_cls=BackloggedServer,
    )
