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

from chalicelib.http.problems import Problem
from infra.definition import ROOT
from local.metrics import CallCounter
from local.options import Options

logger = logging.getLogger(__name__)
LOCAL_PREFIX = "/_local"
EXECUTIONS_PATH = f"{LOCAL_PREFIX}/executions"
METRICS_PATH = f"{LOCAL_PREFIX}/metrics"
# Every HTTP method API Gateway knows: a route lacking one answers 405, not 501.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

Reply = tuple[int, Any, dict[str, str]]  # status, JSON body, extra headers
LocalRoute = Callable[[str, str], Reply]  # (method, path below /_local) -> reply


def problem(status: int, slug: str, title: str, detail: str, **headers: str) -> Reply:
    response = Problem(status, slug, title, detail, headers=headers).to_response()
    return status, json.loads(response.body), dict(response.headers)


def not_found(path: str) -> Reply:
    return problem(404, "not-found", "Not found", f"nothing is served at {path}")


def method_not_allowed(method: str, allowed: list[str]) -> Reply:
    return problem(
        405,
        "method-not-allowed",
        "Method not allowed",
        f"{method} is not allowed here",
        Allow=", ".join(allowed),
    )


class Edge:
    """What the gateway answers before the app sees a request: None lets it through."""

    def __init__(self, app: Chalice) -> None:
        self._routes = app.routes
        self._matcher = RouteMatcher(list(app.routes))

    def refuse(self, method: str, path: str) -> Reply | None:
        try:
            route = self._matcher.match_route(path).route
        except ValueError:
            return not_found(urlsplit(path).path)
        allowed = sorted(self._routes[route])
        if method not in allowed:
            return method_not_allowed(method, allowed)
        return None


def local_pages(view: Any, metrics: Callable[[], dict[str, Any]]) -> LocalRoute:
    """The JSON pages under /_local/: executions with their history, and metrics."""

    def route(method: str, path: str) -> Reply:
        if path == METRICS_PATH:
            return (200, metrics(), {}) if method == "GET" else method_not_allowed(method, ["GET"])
        if path != EXECUTIONS_PATH and not path.startswith(EXECUTIONS_PATH + "/"):
            return not_found(path)
        if method != "GET":
            return method_not_allowed(method, ["GET"])
        operation_id = unquote(path[len(EXECUTIONS_PATH) :].strip("/"))
        if not operation_id:
            return 200, {"executions": view.listing()}, {}
        found = view.history(operation_id)
        if found is None:
            return problem(404, "not-found", "Not found", "no execution for this operation")
        return 200, found, {}

    return route


def api_server(
    app: Chalice, options: Options, local: LocalRoute, api_requests: CallCounter
) -> LocalDevServer:
    """Chalice's own local server, with the edge and /_local/ in front of the app."""
    edge = Edge(app)

    class BackloggedServer(ThreadedHTTPServer):
        # socketserver's default backlog of 5 refuses connections under a modest load.
        request_queue_size = 256

    class LocalApiHandler(ChaliceRequestHandler):
        # Headers and body leave in separate writes; with Nagle's algorithm on, a kept-alive
        # connection waits for the client's delayed ACK (~40 ms) between them.
        disable_nagle_algorithm = True

        def _generic_handle(self) -> None:
            path = urlsplit(self.path).path
            if path == LOCAL_PREFIX or path.startswith(LOCAL_PREFIX + "/"):
                self._reply(*local(self.command, path))
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
    for method in _METHODS:
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
