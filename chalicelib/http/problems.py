"""RFC 9457 problem details: the one shape of every error response, and the catalogue of
its types.

Each problem type is a page the API serves (`GET /problems/{type}`, app.py), so a `type` URI
resolves, as RFC 9457 section 3.1.1 recommends, to the documentation of the problem: on every
stage, offline too. API Gateway's own answers (infra/gateway.py) and the local stack's edge
use the same catalogue.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Mapping
from typing import Any

from chalice import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEMS_PATH = "/problems"


@dataclasses.dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str  # what happened, and what the client can do about it

    @property
    def path(self) -> str:
        """The type's URI below the API's root (chalicelib/http/links.py adds the root)."""
        return f"{PROBLEMS_PATH}/{self.slug}"


INVALID_REQUEST = ProblemType(
    "invalid-request",
    400,
    "Invalid request",
    "The request is not valid: the body is not a JSON object, has a key twice, misses a "
    "field, has an unknown one, or a field of the wrong type or value; or a query "
    "parameter or a header (Idempotency-Key) is not valid. `errors` names each invalid "
    "field by its JSON `pointer`, or the query `parameter`. Correct the request: sent "
    "again unchanged, it fails again.",
)
UNAUTHORIZED = ProblemType(
    "unauthorized",
    401,
    "Unauthorized",
    "The request has no credentials this route accepts: on a stage whose routes require "
    "signed requests, sign it (AWS Signature Version 4) as an identity allowed to call it; "
    "on one whose reviewers sign in, send a reviewer's Cognito ID token as the Authorization "
    "header (signed in anew once it has expired: it lasts an hour).",
)
FORBIDDEN = ProblemType(
    "forbidden",
    403,
    "Forbidden",
    "The credentials were read and refused: the signature does not match or has expired, "
    "or the identity may not call this route (it needs execute-api:Invoke on it), or the "
    "signed-in user is not in the reviewers' group.",
)
NOT_FOUND = ProblemType(
    "not-found",
    404,
    "Not found",
    "Nothing is at this path: no such route, or no operation, user, pending review or "
    "problem type with this id. A review is found only while it waits for a decision.",
)
METHOD_NOT_ALLOWED = ProblemType(
    "method-not-allowed",
    405,
    "Method not allowed",
    "The path exists, but not with this method: the Allow header lists the methods it has.",
)
REVIEW_ALREADY_DECIDED = ProblemType(
    "review-already-decided",
    409,
    "Review already decided",
    "A reviewer decided this review already, and a review is decided once. The operation "
    "shows the outcome (GET /operations/{id}).",
)
PAYLOAD_TOO_LARGE = ProblemType(
    "payload-too-large",
    413,
    "Payload too large",
    "The body is larger than the API accepts (`detail` says the limit). Send a smaller one.",
)
UNSUPPORTED_MEDIA_TYPE = ProblemType(
    "unsupported-media-type",
    415,
    "Unsupported media type",
    "The body is not sent as JSON in UTF-8: send it with `Content-Type: application/json` "
    "(a charset parameter, if any, must be utf-8).",
)
IDEMPOTENCY_KEY_REUSED = ProblemType(
    "idempotency-key-reused",
    422,
    "Idempotency-Key reused",
    "This Idempotency-Key came before with a different body. The same body with the same "
    "key answers the same operation; a new request needs a new key.",
)
TOO_MANY_REQUESTS = ProblemType(
    "too-many-requests",
    429,
    "Too many requests",
    "API Gateway throttled the request (the stage's or the account's rate, or a quota). "
    "Send it again after the seconds the Retry-After header gives.",
)
INTERNAL_ERROR = ProblemType(
    "internal-error",
    500,
    "Internal error",
    "Something failed that should not have. The request may or may not have taken effect: "
    "send a POST /users again with the same Idempotency-Key; report the problem if it lasts.",
)
BAD_GATEWAY = ProblemType(
    "bad-gateway",
    502,
    "Bad gateway",
    "API Gateway got no valid answer from the API's function. Send the request again later "
    "(a POST /users with the same Idempotency-Key).",
)
SERVICE_UNAVAILABLE = ProblemType(
    "service-unavailable",
    503,
    "Service unavailable",
    "The service could not take the request now (a part of it was busy or unavailable): it "
    "was not accepted. Send it again after the seconds the Retry-After header gives, with "
    "the same Idempotency-Key if it had one.",
)
WORKFLOW_NOT_RESUMED = ProblemType(
    "workflow-not-resumed",
    503,
    "Workflow not resumed",
    "The review's decision is recorded, but its workflow could not be woken now: the "
    "workflow applies the decision when the review's wait ends. Do not decide again (a "
    "second decision gets 409).",
)
GATEWAY_TIMEOUT = ProblemType(
    "gateway-timeout",
    504,
    "Gateway timeout",
    "The API's function did not answer in time. The request may have taken effect: send a "
    "POST /users again with the same Idempotency-Key.",
)

# Every problem type, by slug: what `GET /problems/{type}` serves and openapi.json lists.
PROBLEM_TYPES = {
    kind.slug: kind
    for kind in (
        INVALID_REQUEST,
        UNAUTHORIZED,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        REVIEW_ALREADY_DECIDED,
        PAYLOAD_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        IDEMPOTENCY_KEY_REUSED,
        TOO_MANY_REQUESTS,
        INTERNAL_ERROR,
        BAD_GATEWAY,
        SERVICE_UNAVAILABLE,
        WORKFLOW_NOT_RESUMED,
        GATEWAY_TIMEOUT,
    )
}


def page(kind: ProblemType) -> str:
    """The human-readable page a problem type's URI resolves to."""
    title, description = html.escape(kind.title), html.escape(kind.description)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} ({kind.status})</title></head>\n"
        f"<body><h1>{title}</h1>\n<p>HTTP status {kind.status}. Answers with this problem "
        f"type are <code>application/problem+json</code> whose <code>type</code> is this "
        f"page.</p>\n<p>{description}</p>\n</body></html>\n"
    )


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

    @classmethod
    def of(
        cls,
        kind: ProblemType,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> Problem:
        return cls(
            kind.status, kind.slug, kind.title, detail, headers=headers, extensions=extensions
        )

    def to_response(self, instance: str | None = None, *, root: str = "") -> Response:
        """`root`: the API's root as the request found it (chalicelib/http/links.py); the
        type is the path of its page below that root."""
        body: dict[str, Any] = {
            "type": f"{root}{PROBLEMS_PATH}/{self.slug}",
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
    return Problem.of(INVALID_REQUEST, detail, extensions=extensions)


def not_found(kind: str) -> Problem:
    return Problem.of(NOT_FOUND, f"no {kind} with this id")


def unauthorized(detail: str) -> Problem:
    return Problem.of(UNAUTHORIZED, detail)


def forbidden(detail: str) -> Problem:
    return Problem.of(FORBIDDEN, detail)


def unavailable(detail: str, retry_after_seconds: int) -> Problem:
    return Problem.of(
        SERVICE_UNAVAILABLE, detail, headers={"Retry-After": str(retry_after_seconds)}
    )


def internal_error() -> Problem:
    return Problem.of(INTERNAL_ERROR, "an unexpected error occurred")
