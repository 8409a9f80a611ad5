"""The OperationRepository port (chalicelib/services/ports.py): FakeOperations and
OperationsTable keep the same promises."""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import ErrorCode, IdempotencyKeyReused
from chalicelib.domain.operations import OperationError, OperationStatus, new_operation, to_iso
from chalicelib.domain.users import User, UserRequest, UserStatus
from tests.builders import a_request, a_user, unique_email

BROKEN = OperationError(ErrorCode.USER_CREATE_FAILED, "user-create failed: KeyError")
SWEPT = OperationError(ErrorCode.WORKFLOW_ENDED, "the workflow ended without recording")


def _request() -> UserRequest:
    return a_request(email=unique_email())


def _key() -> str:
    return f"key-{uuid.uuid4()}"


def _user_of(operation_id: str, email: str) -> User:
    return a_user(operation_id=operation_id, email=email, status=UserStatus.ACTIVE)


def test_a_created_operation_reads_back_as_it_was_stored(operations):
    created = new_operation(_request())
    assert operations.create(created, None) == created
    assert operations.get(created.id) == created


def test_an_unknown_operation_is_none(operations):
    assert operations.get(str(uuid.uuid4())) is None


def test_an_idempotency_key_replays_the_first_operation(operations):
    request, key = _request(), _key()
    first = operations.create(new_operation(request), key)
    again = new_operation(request)
    assert operations.create(again, key) == first
    assert operations.get(again.id) is None  # the replay stored nothing


def test_an_idempotency_key_with_another_request_is_refused(operations):
    key = _key()
    operations.create(new_operation(_request()), key)
    with pytest.raises(IdempotencyKeyReused):
        operations.create(new_operation(_request()), key)


def test_running_is_repeatable_until_done(operations):
    created = operations.create(new_operation(_request()), None)
    assert operations.mark_running(created.id)
    assert operations.mark_running(created.id)  # a duplicate start
    assert operations.get(created.id).status is OperationStatus.RUNNING
    assert operations.mark_failed(created.id, BROKEN)
    assert not operations.mark_running(created.id)
    assert operations.get(created.id).status is OperationStatus.FAILED


def test_success_records_the_user_once(operations):
    request = _request()
    created = operations.create(new_operation(request), None)
    operations.mark_running(created.id)
    user = _user_of(created.id, request.email)
    assert operations.mark_succeeded(created.id, user)
    done = operations.get(created.id)
    assert done.status is OperationStatus.SUCCEEDED and done.done
    assert done.result == user and done.error is None
    assert not operations.mark_succeeded(
        created.id, dataclasses.replace(user, request=a_request(name="Bob"))
    )
    assert not operations.mark_failed(created.id, SWEPT)
    assert operations.get(created.id) == done


def test_failure_records_the_error_once(operations):
    created = operations.create(new_operation(_request()), None)
    assert operations.mark_failed(created.id, BROKEN)
    done = operations.get(created.id)
    assert done.status is OperationStatus.FAILED and done.done
    assert done.error == BROKEN and done.result is None
    assert not operations.mark_failed(created.id, SWEPT)
    assert not operations.mark_succeeded(created.id, _user_of(created.id, "a@example.org"))
    assert operations.get(created.id) == done


def test_an_unknown_operation_cannot_change(operations):
    unknown = str(uuid.uuid4())
    assert not operations.mark_running(unknown)
    assert not operations.mark_failed(unknown, BROKEN)
    assert not operations.mark_succeeded(unknown, _user_of(unknown, "a@example.org"))
    assert operations.get(unknown) is None


def test_failing_with_its_key_frees_the_key_for_a_fresh_start(operations):
    request, key = _request(), _key()
    first = operations.create(new_operation(request), key)
    assert operations.mark_failed(first.id, BROKEN, release_key=key)
    retried = operations.create(new_operation(request), key)
    assert retried.id != first.id
    assert retried.status is OperationStatus.PENDING


def test_failing_never_frees_another_operations_key(operations):
    request, key = _request(), _key()
    other = operations.create(new_operation(request), key)
    failed = operations.create(new_operation(_request()), None)
    assert operations.mark_failed(failed.id, BROKEN, release_key=key)
    assert operations.create(new_operation(request), key) == other


def test_a_done_operation_keeps_its_key(operations):
    request, key = _request(), _key()
    first = operations.create(new_operation(request), key)
    operations.mark_succeeded(first.id, _user_of(first.id, request.email))
    # Too late: the operation is done, and a replay must still find it.
    assert not operations.mark_failed(first.id, BROKEN, release_key=key)
    replay = operations.create(new_operation(request), key)
    assert replay.id == first.id
    assert replay.status is OperationStatus.SUCCEEDED


def test_in_flight_lists_the_operations_of_a_status_created_before_a_time(operations):
    hour_ago = to_iso(datetime.now(UTC) - timedelta(hours=1))
    old = operations.create(new_operation(_request(), now=hour_ago), None)
    old_done = operations.create(new_operation(_request(), now=hour_ago), None)
    operations.mark_failed(old_done.id, BROKEN)
    recent = operations.create(new_operation(_request()), None)
    cutoff = to_iso(datetime.now(UTC) - timedelta(minutes=1))

    def listed(status: OperationStatus) -> set[str]:
        return {o.id for o in operations.in_flight(status, cutoff)}

    assert old.id in listed(OperationStatus.PENDING)
    assert not {old_done.id, recent.id} & listed(OperationStatus.PENDING)
    operations.mark_running(old.id)
    assert old.id not in listed(OperationStatus.PENDING)
    assert old.id in listed(OperationStatus.RUNNING)
    operations.mark_succeeded(old.id, _user_of(old.id, old.request.email))
    assert old.id not in listed(OperationStatus.RUNNING)


def test_a_failure_the_workflow_records_is_taken_once_oldest_first(failures):
    operations = failures.operations
    broken = [operations.create(new_operation(_request()), None) for _ in range(3)]
    for created in broken:
        operations.mark_running(created.id)
        failures.record(created.id, BROKEN)

    first = next(operations.take_unmeasured_failures(limit=10))  # taken as asked for
    (second,) = operations.take_unmeasured_failures(limit=1)
    (third,) = operations.take_unmeasured_failures(limit=10)
    assert [first.id, second.id, third.id] == [o.id for o in broken]
    for taken, created in zip((first, second, third), broken, strict=True):
        assert taken == operations.get(created.id)  # as recorded
        assert taken.status is OperationStatus.FAILED and taken.error == BROKEN
        assert taken.created_at == created.created_at <= taken.updated_at
    assert list(operations.take_unmeasured_failures(limit=10)) == []  # taken once


def test_only_the_failures_the_workflow_records_are_taken(failures):
    """The app's own outcomes are measured where they are recorded; an operation done already
    keeps its outcome, and the workflow records nothing over it."""
    operations = failures.operations
    failed = operations.create(new_operation(_request()), None)
    operations.mark_failed(failed.id, SWEPT)
    request = _request()
    succeeded = operations.create(new_operation(request), None)
    operations.mark_succeeded(succeeded.id, _user_of(succeeded.id, request.email))
    for done in (failed, succeeded):
        recorded = operations.get(done.id)
        failures.record(done.id, BROKEN)
        assert operations.get(done.id) == recorded
    assert list(operations.take_unmeasured_failures(limit=10)) == []
