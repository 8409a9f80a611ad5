"""The HTTP contract's resources, rendered from domain objects (chalicelib/http/resources.py)."""

import dataclasses
import json

import pytest

from chalicelib.domain.errors import ErrorCode
from chalicelib.domain.operations import OperationError, OperationStatus, UserRequest, new_operation
from chalicelib.domain.users import User, UserStatus
from chalicelib.http.resources import operation_resource, user_resource

pytestmark = pytest.mark.unit

OPERATION = new_operation(UserRequest("ada@example.org", "Ada"), now="2026-01-01T00:00:00.000Z")
USER = User(
    id="5f2a4c1e-8d0b-4f7a-9a51-3c2e7b9d6a10",
    email="ada@example.org",
    name="Ada",
    status=UserStatus.ACTIVE,
    created_at="2026-01-01T00:00:00.100Z",
    operation_id=OPERATION.id,
)


def test_an_operation_shows_result_or_error_only_when_done():
    pending = operation_resource(OPERATION)
    assert pending["status"] == "PENDING" and pending["done"] is False
    assert "result" not in pending and "error" not in pending
    assert "request" not in pending  # the email is not echoed in the operation
    failed = operation_resource(
        dataclasses.replace(
            OPERATION,
            status=OperationStatus.FAILED,
            error=OperationError(ErrorCode.USER_REJECTED, "no"),
        )
    )
    assert failed["done"] is True
    assert failed["error"] == {"code": "USER_REJECTED", "message": "no"}
    assert "result" not in failed


def test_the_resources_keep_their_exact_shape():
    succeeded = dataclasses.replace(
        OPERATION,
        status=OperationStatus.SUCCEEDED,
        updated_at="2026-01-01T00:00:00.200Z",
        result=USER,
    )
    user = (
        '{"id": "5f2a4c1e-8d0b-4f7a-9a51-3c2e7b9d6a10", "email": "ada@example.org", '
        '"name": "Ada", "status": "ACTIVE", "createdAt": "2026-01-01T00:00:00.100Z"}'
    )
    assert json.dumps(user_resource(USER)) == user
    assert json.dumps(operation_resource(succeeded)) == (
        f'{{"id": "{OPERATION.id}", "type": "user.create", "status": "SUCCEEDED", '
        '"done": true, "createdAt": "2026-01-01T00:00:00.000Z", '
        f'"updatedAt": "2026-01-01T00:00:00.200Z", "result": {{"user": {user}}}}}'
    )
