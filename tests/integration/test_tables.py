"""The DynamoDB adapters against the emulator, beyond their ports' contracts (tests/contract):
key expiry, concurrency, transactions."""

import dataclasses
import os
import threading

import boto3
import botocore.exceptions
import pytest

from chalicelib.adapters import aws, operations_table
from chalicelib.adapters.operations_table import OperationsTable
from chalicelib.adapters.users_table import UsersTable
from chalicelib.domain.errors import EmailAlreadyRegistered, ErrorCode
from chalicelib.domain.operations import Operation, OperationError, OperationStatus, new_operation
from chalicelib.domain.users import User, UserStatus
from tests.builders import a_request, a_user

pytestmark = pytest.mark.integration

ADA = a_request(email="ada@example.org")


def _user(operation_id: str) -> User:
    return a_user(operation_id=operation_id, request=ADA)


@pytest.fixture
def operations(stack) -> OperationsTable:
    return OperationsTable(os.environ["OPERATIONS_TABLE"])


@pytest.fixture
def users(stack) -> UsersTable:
    return UsersTable(os.environ["USERS_TABLE"])


def test_an_expired_idempotency_key_is_free_again(operations):
    first = operations.create(new_operation(ADA), "k")
    boto3.client("dynamodb").update_item(
        TableName=os.environ["OPERATIONS_TABLE"],
        Key={"pk": {"S": "idempotency#k"}},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    assert operations.create(new_operation(ADA), "k").id != first.id


def test_concurrent_adds_for_one_email_let_exactly_one_win(users):
    outcomes: list[str] = []
    barrier = threading.Barrier(10)

    def add(index: int) -> None:
        barrier.wait()
        try:
            users.add(_user(f"op-{index}"))
            outcomes.append("created")
        except EmailAlreadyRegistered:
            outcomes.append("refused")

    threads = [threading.Thread(target=add, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] + ["refused"] * 9


def test_a_cancelled_transaction_leaves_every_item_as_it_was(users):
    created = users.add(_user("op-1"))
    table = os.environ["USERS_TABLE"]
    with pytest.raises(botocore.exceptions.ClientError, match="TransactionCanceled"):
        boto3.client("dynamodb").transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": f"user#{created.id}"}},
                        "UpdateExpression": "SET #status = :rejected",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":rejected": {"S": "REJECTED"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "email#ada@example.org"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert users.get(created.id).status is UserStatus.PENDING_APPROVAL


def test_an_outcome_recorded_by_the_earlier_state_machine_still_reads(operations):
    # Before user-create-response recorded outcomes itself, the state machine stored the
    # result as a JSON string (a --state file of the local stack keeps such items).
    created = operations.create(new_operation(ADA), None)
    user = _user(created.id)
    stored = (
        f'{{"user": {{"id": "{user.id}", "email": "ada@example.org", "name": "Ada", '
        '"status": "ACTIVE", "createdAt": "2026-01-01T00:00:00.000Z"}}'
    )
    boto3.client("dynamodb").update_item(
        TableName=os.environ["OPERATIONS_TABLE"],
        Key={"pk": {"S": created.id}},
        UpdateExpression="SET #status = :succeeded, #result = :result",
        ExpressionAttributeNames={"#status": "status", "#result": "result"},
        ExpressionAttributeValues={":succeeded": {"S": "SUCCEEDED"}, ":result": {"S": stored}},
    )
    done = operations.get(created.id)
    assert done.status is OperationStatus.SUCCEEDED
    assert done.result == dataclasses.replace(user, status=UserStatus.ACTIVE)


def test_a_failure_two_sweeps_find_at_once_is_taken_by_one(operations):
    """The second sweep removes the mark between the first one's query and its removal: the
    first finds it gone (its condition fails) and takes nothing."""
    created = operations.create(new_operation(ADA), None)
    operations.mark_failed(created.id, OperationError(ErrorCode.USER_CREATE_FAILED, "broken"))
    boto3.client("dynamodb").update_item(  # the mark RecordFailure writes (tests/contract)
        TableName=os.environ["OPERATIONS_TABLE"],
        Key={"pk": {"S": created.id}},
        UpdateExpression=f"SET {operations_table.UNMEASURED} = :failure",
        ExpressionAttributeValues={":failure": {"S": operations_table.UNMEASURED_FAILURE}},
    )
    other: list[Operation] = []
    swept: list[bool] = []

    def another_sweep(**_: object) -> None:
        if not swept:  # once, not again from its own query
            swept.append(True)
            other.extend(operations.take_unmeasured_failures(limit=10))

    events = aws.client("dynamodb").meta.events
    events.register("after-call.dynamodb.Query", another_sweep)
    try:
        assert list(operations.take_unmeasured_failures(limit=10)) == []
    finally:
        events.unregister("after-call.dynamodb.Query", another_sweep)
    assert [o.id for o in other] == [created.id]
