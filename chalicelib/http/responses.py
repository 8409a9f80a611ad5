"""From use-case results and errors to HTTP responses."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.domain.errors import (
    IdempotencyKeyReused,
    OperationNotFound,
    PublishFailed,
    ReviewAlreadyDecided,
    ReviewNotFound,
    TransientError,
    UserNotFound,
    WorkflowNotResumed,
)
from chalicelib.domain.operations import Operation, OperationStep
from chalicelib.http.problems import (
    IDEMPOTENCY_KEY_REUSED,
    NOT_FOUND,
    REVIEW_ALREADY_DECIDED,
    WORKFLOW_NOT_RESUMED,
    Problem,
    internal_error,
    not_found,
    unavailable,
)

logger = logging.getLogger(__name__)

# Seconds a client should wait before asking again: the operation is usually done by then.
RETRY_AFTER_SECONDS = 1
# ...unless it waits for a person, which takes minutes to days.
AWAITING_REVIEW_RETRY_AFTER_SECONDS = 60


def retry_after(operation: Operation) -> dict[str, str]:
    """The Retry-After header of an operation not done yet; none once it is."""
    if operation.done:
        return {}
    waiting = operation.step is OperationStep.AWAITING_REVIEW
    seconds = AWAITING_REVIEW_RETRY_AFTER_SECONDS if waiting else RETRY_AFTER_SECONDS
    return {"Retry-After": str(seconds)}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=status,
        headers={
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )


def html_response(status: int, body: str) -> Response:
    """A page of documentation: the same for every client, cacheable for an hour."""
    return Response(
        body=body,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "max-age=3600"},
    )


def _problem_for(error: Exception) -> Problem:
    match error:
        case Problem():
            return error
        case OperationNotFound():
            return not_found("operation")
        case UserNotFound():
            return not_found("user")
        case IdempotencyKeyReused():
            return Problem.of(
                IDEMPOTENCY_KEY_REUSED,
                "this Idempotency-Key was already used with a different request body",
            )
        case ReviewNotFound():
            return Problem.of(NOT_FOUND, "no pending review for this operation")
        case ReviewAlreadyDecided():
            return Problem.of(
                REVIEW_ALREADY_DECIDED,
                "a reviewer decided this review already; a review is decided once",
            )
        case WorkflowNotResumed():
            # No Retry-After: the decision stands (a repeat gets 409); only its effect waits.
            return Problem.of(
                WORKFLOW_NOT_RESUMED,
                "the decision is recorded, but its workflow could not be resumed now; it "
                "applies the decision when the review's wait ends",
            )
        case PublishFailed():
            logger.error("publish failed; operation not accepted", exc_info=error)
            return unavailable("the request could not be queued; retry it", RETRY_AFTER_SECONDS)
        case TransientError():
            logger.warning("transient failure", exc_info=error)
            return unavailable("the service is busy; retry the request", RETRY_AFTER_SECONDS)
    logger.exception("unhandled error", exc_info=error)
    return internal_error()


View = Callable[..., Response]


def problem_json(root: Callable[[], str]) -> Callable[[View], View]:
    """A view's decorator: every failure answered as problem+json, never as a stack trace.
    `root` gives the API's root as the current request found it (the type's link)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            try:
                return view(*args, **kwargs)
            except Exception as error:
                return _problem_for(error).to_response(root=root())

        return wrapper

    return decorate
