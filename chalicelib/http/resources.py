"""The HTTP contract's resources (docs/clients.md; openapi.json): domain objects as the
API shows them."""

from __future__ import annotations

from typing import Any

from chalicelib import codecs
from chalicelib.domain.operations import Operation, OperationStatus
from chalicelib.domain.reviews import Review, ReviewPage
from chalicelib.domain.users import User
from chalicelib.http import pagination


def operation_resource(operation: Operation) -> dict[str, Any]:
    """The operation, with its result or error once done; never its request (it holds PII)."""
    resource: dict[str, Any] = {
        "id": operation.id,
        "type": operation.type,
        "status": operation.status.value,
        "done": operation.done,
        "createdAt": operation.created_at,
        "updatedAt": operation.updated_at,
    }
    if operation.step is not None and not operation.done:
        resource["step"] = operation.step.value
    if operation.status is OperationStatus.SUCCEEDED:
        resource["result"] = (
            None if operation.result is None else {"user": user_resource(operation.result)}
        )
    elif operation.status is OperationStatus.FAILED and operation.error is not None:
        resource["error"] = {"code": operation.error.code, "message": operation.error.message}
    return resource


def user_resource(user: User) -> dict[str, Any]:
    return codecs.encode_user(user)


def review_resource(review: Review) -> dict[str, Any]:
    """A pending review as reviewers see it: who asked, and until when it can be decided."""
    return codecs.encode_review(review)


def reviews_resource(page: ReviewPage) -> dict[str, Any]:
    resource: dict[str, Any] = {"reviews": [review_resource(r) for r in page.reviews]}
    if page.next is not None:
        resource["nextToken"] = pagination.encode(page.next)
    return resource


def decision_resource(review: Review) -> dict[str, Any]:
    """The decision a reviewer recorded, and who took it (where the stage knows reviewers)."""
    assert review.decision is not None
    resource: dict[str, Any] = {
        "operationId": review.operation_id,
        "decision": review.decision.decision.value,
    }
    if review.decision.reason is not None:
        resource["reason"] = review.decision.reason
    resource["decidedAt"] = review.decided_at
    if review.decided_by is not None:
        resource["decidedBy"] = review.decided_by
    return resource
