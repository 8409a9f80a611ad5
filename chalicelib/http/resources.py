"""The HTTP contract's resources (README, "HTTP contract"; openapi.json): domain objects as the
API shows them."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.operations import Operation, OperationStatus
from chalicelib.domain.users import User


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
    if operation.status is OperationStatus.SUCCEEDED:
        resource["result"] = (
            None if operation.result is None else {"user": user_resource(operation.result)}
        )
    elif operation.status is OperationStatus.FAILED and operation.error is not None:
        resource["error"] = {"code": operation.error.code, "message": operation.error.message}
    return resource


def user_resource(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "status": user.status.value,
        "createdAt": user.created_at,
    }
