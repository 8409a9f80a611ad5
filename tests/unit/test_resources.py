"""The HTTP contract's resources, rendered from domain objects (chalicelib/http/resources.py)."""

import dataclasses
import json

import pytest

from chalicelib.domain.errors import ErrorCode
from chalicelib.domain.operations import OperationError, OperationStatus
from chalicelib.domain.users import UserStatus
from chalicelib.http.resources import operation_resource, user_resource
from tests.builders import a_user, an_operation

pytestmark = pytest.mark.unit

OPERATION = an_operation(email="ada@example.org", name="Ada", now="2026-01-01T00:00:00.000Z")
USER = a_user(
    request=OPERATION.request,
    operation_id=OPERATION.id,
    status=UserStatus.ACTIVE,
    created_at="2026-01-01T00:00:00.100Z",
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
        f'{{"id": "{USER.id}", "email": "ada@example.org", '
        '"name": "Ada", "status": "ACTIVE", "createdAt": "2026-01-01T00:00:00.100Z"}'
    )
    assert json.dumps(user_resource(USER)) == user
    assert json.dumps(operation_resource(succeeded)) == (
        f'{{"id": "{OPERATION.id}", "type": "user.create", "status": "SUCCEEDED", '
        '"done": true, "createdAt": "2026-01-01T00:00:00.000Z", '
        f'"updatedAt": "2026-01-01T00:00:00.200Z", "result": {{"user": {user}}}}}'
    )
