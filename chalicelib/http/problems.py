"""RFC 9457 problem details: the one shape of every error response."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalice import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """An error answered to the client; raise it anywhere below a route."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        # Members beyond the standard ones (RFC 9457 section 3.2), such as `errors`.
        self.extensions = dict(extensions or {})

    def to_response(self, instance: str | None = None) -> Response:
        body: dict[str, Any] = {
            # Relative URIs: resolved against the API's own base, no fake domain needed.
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extensions,
        }
        if instance:
            body["instance"] = instance
        return Response(
            body=json.dumps(body),
            status_code=self.status,
            headers={"Content-Type": PROBLEM_CONTENT_TYPE, **self.headers},
        )


def bad_request(detail: str, errors: list[dict[str, str]] | None = None) -> Problem:
    extensions = {"errors": errors} if errors else None
    return Problem(400, "invalid-request", "Invalid request", detail, extensions=extensions)


def not_found(kind: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"no {kind} with this id")


def unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", "Unauthorized", detail)


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", detail)


def unavailable(detail: str, retry_after_seconds: int) -> Problem:
    return Problem(
        503,
        "service-unavailable",
        "Service unavailable",
        detail,
        headers={"Retry-After": str(retry_after_seconds)},
    )


def internal_error() -> Problem:
    return Problem(500, "internal-error", "Internal error", "an unexpected error occurred")
