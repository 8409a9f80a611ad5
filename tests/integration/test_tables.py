"""The DynamoDB adapters against the emulator: conditions, transactions, concurrency."""

import os
import threading
from datetime import UTC, datetime, timedelta

import boto3
import botocore.exceptions
import pytest

from chalicelib.adapters.operations_table import OperationsTable
from chalicelib.adapters.users_table import UsersTable
from chalicelib.domain.errors import EmailAlreadyRegistered, IdempotencyKeyReused
from chalicelib.domain.operations import (
    OperationError,
    OperationStatus,
    UserRequest,
    new_operation,
    to_iso,
)
from chalicelib.domain.users import User, UserStatus, user_id_for_operation

ADA = UserRequest("ada@example.org", "Ada")


def _user(operation_id: str, email: str = "ada@example.org") -> User:
    return User(
        id=user_id_for_operation(operation_id),
        email=email,
        name="Ada",
        status=UserStatus.PENDING_APPROVAL,
        created_at="2026-01-01T00:00:00.000Z",
        operation_id=operation_id,
    )


@pytest.fixture
def operations(stack) -> OperationsTable:
    return OperationsTable(os.environ["OPERATIONS_TABLE"])


@pytest.fixture
def users(stack) -> UsersTable:
    return UsersTable(os.environ["USERS_TABLE"])


def test_idempotency_keys_replay_and_refuse(operations):
    first = operations.create(new_operation(ADA), "k")
    assert operations.create(new_operation(ADA), "k").id == first.id
    with pytest.raises(IdempotencyKeyReused):
        operations.create(new_operation(UserRequest("bob@example.org", "Bob")), "k")


def test_an_expired_idempotency_key_is_free_again(operations):
    first = operations.create(new_operation(ADA), "k")
    boto3.client("dynamodb").update_item(
        TableName=os.environ["OPERATIONS_TABLE"],
        Key={"pk": {"S": "idempotency#k"}},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    assert operations.create(new_operation(ADA), "k").id != first.id


def test_status_changes_never_leave_a_done_operation(operations):
    created = operations.create(new_operation(ADA), None)
    assert operations.mark_running(created.id)
    assert operations.mark_running(created.id)  # a duplicate start
    assert operations.mark_failed(created.id, OperationError("X", "broken"))
    assert not operations.mark_running(created.id)
    assert not operations.mark_failed(created.id, OperationError("Y", "again"))
    stored = operations.get(created.id)
    assert stored.status is OperationStatus.FAILED and stored.error.code == "X"
    assert not operations.mark_running("00000000-0000-4000-8000-000000000000")


def test_failing_with_release_frees_only_its_own_key(operations):
    created = operations.create(new_operation(ADA), "k")
    other = operations.create(new_operation(ADA), "other")
    assert operations.mark_failed(created.id, OperationError("X", "x"), release_key="other")
    assert operations.create(new_operation(ADA), "other").id == other.id  # not released
    assert operations.get(created.id).status is OperationStatus.FAILED


def test_in_flight_lists_only_old_operations_of_the_status(operations):
    old = operations.create(
        new_operation(ADA, now=to_iso(datetime.now(UTC) - timedelta(hours=1))), None
    )
    operations.create(new_operation(ADA), None)
    cutoff = to_iso(datetime.now(UTC) - timedelta(minutes=1))
    assert [o.id for o in operations.in_flight(OperationStatus.PENDING, cutoff)] == [old.id]
    operations.mark_running(old.id)
    assert operations.in_flight(OperationStatus.PENDING, cutoff) == []
    assert [o.id for o in operations.in_flight(OperationStatus.RUNNING, cutoff)] == [old.id]
    operations.mark_failed(old.id, OperationError("X", "x"))
    assert operations.in_flight(OperationStatus.RUNNING, cutoff) == []


def test_one_user_per_email_case_insensitively_and_retries_are_idempotent(users):
    created = users.add(_user("op-1"))
    assert users.add(_user("op-1")) == created  # the same step, retried
    with pytest.raises(EmailAlreadyRegistered):
        users.add(_user("op-2", "ADA@example.org"))


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


def test_rejecting_frees_the_email_and_is_repeatable(users):
    first = users.add(_user("op-1"))
    assert users.reject(first.id).status is UserStatus.REJECTED
    assert users.reject(first.id).status is UserStatus.REJECTED  # a retried step
    assert users.get(first.id).status is UserStatus.REJECTED
    second = users.add(_user("op-2"))
    assert users.activate(second.id).status is UserStatus.ACTIVE


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
