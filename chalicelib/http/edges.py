"""405 with Allow for a method a path does not have, on AWS and locally alike.

API Gateway answers a method a resource lacks by itself, as it answers an unknown path
(MISSING_AUTHENTICATION_TOKEN), without an Allow header and before any code of ours runs.
Registering every other method of each path as a route hands those requests to one view,
which answers 405 problem+json with Allow. The paths keep their authorizer, so an unsigned
request still fails authentication first.
"""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import Chalice, Response

from chalicelib.http.links import api_root
from chalicelib.http.problems import METHOD_NOT_ALLOWED, Problem

# Every method API Gateway (REST) and Chalice route.
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# The view name of every route added here (so tooling can tell them from the API's own).
METHOD_NOT_ALLOWED_VIEW = "method_not_allowed"


def method_not_allowed(allowed: list[str]) -> Problem:
    allow = ", ".join(allowed)
    return Problem.of(
        METHOD_NOT_ALLOWED, f"this resource allows {allow} only", headers={"Allow": allow}
    )


def answer_other_methods(app: Chalice) -> None:
    """Give each path's missing methods a 405 route. Call once, after the last route."""
    for path, entries in list(app.routes.items()):
        if any(entry.view_name == METHOD_NOT_ALLOWED_VIEW for entry in entries.values()):
            raise ValueError(f"answer_other_methods already ran for {path}")
        others = [method for method in ALL_METHODS if method not in entries]
        authorizers = {id(entry.authorizer): entry.authorizer for entry in entries.values()}
        if not others:
            continue
        if len(authorizers) != 1:
            raise ValueError(f"the methods of {path} have different authorizers")
        app.route(
            path,
            methods=others,
            name=METHOD_NOT_ALLOWED_VIEW,
            authorizer=next(iter(authorizers.values())),
            content_types=["*/*"],
        )(_answer_405(app, sorted(entries)))


def _answer_405(app: Chalice, allowed: list[str]) -> Callable[..., Response]:
    def method_not_allowed_view(**_path_parameters: str) -> Response:
        request = app.current_request
        root = api_root(request.context) if request is not None else ""
        return method_not_allowed(allowed).to_response(root=root)

    return method_not_allowed_view
