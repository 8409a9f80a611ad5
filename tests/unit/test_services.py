from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import (
    ErrorCode,
    IdempotencyKeyReused,
    PublishFailed,
    TransientError,
)
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import (
    OperationError,
    OperationStatus,
    new_operation,
    to_iso,
)
from chalicelib.domain.users import UserStatus
from chalicelib.services import steps
from chalicelib.services.operations import accept_user_request
from chalicelib.services.workflow import SweepPolicy, process_batch, start_workflow, sweep
from tests.builders import a_request, an_event
from tests.contract.fakes import FakeEvents, FakeOperations, FakeUsers, FakeWorkflows

pytestmark = pytest.mark.unit

ADA = a_request(email="ada@example.org", name="Ada")


def test_accepting_stores_a_pending_operation_and_publishes_it():
    operations, events = FakeOperations(), FakeEvents()
    operation = accept_user_request(ADA, None, operations, events)
    stored = operations.get(operation.id)
    assert stored is not None and stored.status is OperationStatus.PENDING
    assert events.published == [an_event(operation_id=operation.id, request=ADA)]


def test_a_replay_returns_the_same_operation_and_publishes_nothing_more():
    operations, events = FakeOperations(), FakeEvents()
    first = accept_user_request(ADA, "key-1", operations, events)
    again = accept_user_request(ADA, "key-1", operations, events)
    assert again.id == first.id
    assert len(events.published) == 1


def test_the_same_key_with_another_body_is_refused():
    operations, events = FakeOperations(), FakeEvents()
    accept_user_request(ADA, "key-1", operations, events)
    with pytest.raises(IdempotencyKeyReused):
        accept_user_request(a_request(name="Bob"), "key-1", operations, events)


def test_a_failed_publish_fails_the_operation_and_frees_the_key():
    operations = FakeOperations()
    with pytest.raises(PublishFailed):
        accept_user_request(ADA, "key-1", operations, FakeEvents(fail=True))
    (failed,) = operations.items.values()
    assert failed.status is OperationStatus.FAILED
    assert failed.error is not None and failed.error.code == "PUBLISH_FAILED"
    retried = accept_user_request(ADA, "key-1", operations, FakeEvents())
    assert retried.id != failed.id
    assert retried.status is OperationStatus.PENDING


def test_starting_marks_running_and_starts_once_per_operation():
    operations, workflows = FakeOperations(), FakeWorkflows()
    operation = accept_user_request(ADA, None, operations, FakeEvents())
    event = OperationRequested.of(operation)
    assert start_workflow(event, operations, workflows)
    assert start_workflow(event, operations, workflows)  # a duplicate record
    assert workflows.started == [operation.id]
    stored = operations.get(operation.id)
    assert stored is not None and stored.status is OperationStatus.RUNNING


def test_a_done_operation_is_never_started():
    operations, workflows = FakeOperations(), FakeWorkflows()
    with pytest.raises(PublishFailed):
        accept_user_request(ADA, None, operations, FakeEvents(fail=True))
    (failed,) = operations.items.values()
    assert not start_workflow(OperationRequested.of(failed), operations, workflows)
    assert workflows.started == []


def test_one_failing_record_does_not_stop_the_others():
    handled = []

    def handle(data: bytes) -> None:
        if data == b"poison":
            raise ValueError("bad record")
        handled.append(data)

    failures = process_batch([("1", b"a"), ("2", b"poison"), ("3", b"c")], handle)
    assert failures == ["2"]
    assert handled == [b"a", b"c"]


def _sweep_setup(age: timedelta):
    operations, events, workflows = FakeOperations(), FakeEvents(), FakeWorkflows()
    operation = new_operation(ADA, now=to_iso(datetime.now(UTC) - age))
    operations.create(operation, None)
    policy = SweepPolicy(republish_after=timedelta(minutes=2), give_up_after=timedelta(hours=1))
    return operations, events, workflows, operation, policy


def test_the_sweeper_republishes_a_quiet_pending_operation():
    operations, events, workflows, operation, policy = _sweep_setup(timedelta(minutes=5))
    report = sweep(datetime.now(UTC), policy, operations, events, workflows)
    assert report.republished == 1
    assert events.published == [OperationRequested.of(operation)]


def test_the_sweeper_leaves_recent_operations_alone():
    operations, events, workflows, _, policy = _sweep_setup(timedelta(seconds=5))
    report = sweep(datetime.now(UTC), policy, operations, events, workflows)
    assert report.republished == report.failed == 0


def test_the_sweeper_gives_up_on_an_operation_that_never_started():
    operations, events, workflows, operation, policy = _sweep_setup(timedelta(hours=2))
    report = sweep(datetime.now(UTC), policy, operations, events, workflows)
    assert report.failed == 1
    stored = operations.get(operation.id)
    assert stored is not None and stored.error is not None
    assert stored.error.code == "NOT_STARTED"


@pytest.mark.parametrize(
    ("execution", "outcome"),
    [("RUNNING", OperationStatus.RUNNING), ("FAILED", OperationStatus.FAILED)],
)
def test_the_sweeper_fails_running_operations_whose_execution_ended(execution, outcome):
    operations, events, workflows, operation, policy = _sweep_setup(timedelta(minutes=10))
    operations.mark_running(operation.id)
    workflows.statuses[operation.id] = execution
    sweep(datetime.now(UTC), policy, operations, events, workflows)
    stored = operations.get(operation.id)
    assert stored is not None and stored.status is outcome


def test_the_sweeper_restarts_a_running_operation_without_execution():
    operations, events, workflows, operation, policy = _sweep_setup(timedelta(minutes=10))
    operations.mark_running(operation.id)
    report = sweep(datetime.now(UTC), policy, operations, events, workflows)
    assert report.republished == 1


def _created(operation_id: str, email: str, users: FakeUsers) -> steps.Outcome:
    return steps.create_user(operation_id, a_request(email=email), users)


def test_create_user_is_idempotent_and_refuses_a_registered_email():
    users = FakeUsers()
    first = _created("op-1", "Ada@Example.org", users)
    assert isinstance(first, steps.Continue)
    assert _created("op-1", "Ada@Example.org", users) == first  # a retry
    duplicate = _created("op-2", "ada@example.ORG", users)
    assert isinstance(duplicate, OperationError)
    assert duplicate.code is ErrorCode.EMAIL_ALREADY_REGISTERED


def test_approval_activates_or_rejects_and_frees_the_email():
    users = FakeUsers()
    ok = _created("op-1", "ada@example.org", users)
    assert isinstance(ok, steps.Continue)
    assert steps.approve_user(ok, [], users) == ok
    active = users.get(ok.user_id)
    assert active is not None and active.status is UserStatus.ACTIVE

    bad = _created("op-2", "eve@evil.test", users)
    assert isinstance(bad, steps.Continue)
    rejected = steps.approve_user(bad, [], users)
    assert isinstance(rejected, OperationError)
    assert rejected.code is ErrorCode.USER_REJECTED
    assert "eve@" not in rejected.message
    refused = users.get(bad.user_id)
    assert refused is not None and refused.status is UserStatus.REJECTED
    assert isinstance(_created("op-3", "eve@evil.test", users), steps.Continue)  # email free


def test_approval_passes_an_earlier_refusal_through_untouched():
    refusal = OperationError(ErrorCode.EMAIL_ALREADY_REGISTERED, "the email is already registered")

    class NoUsers(FakeUsers):
        def get(self, user_id):
            raise AssertionError("a refused operation has no user to approve")

    assert steps.approve_user(refusal, [], NoUsers()) is refusal


def _running(operations: FakeOperations) -> str:
    operation = accept_user_request(ADA, None, operations, FakeEvents())
    operations.mark_running(operation.id)
    return operation.id


def test_the_last_step_records_success_with_the_user_once():
    users, operations = FakeUsers(), FakeOperations()
    operation_id = _running(operations)
    created = _created(operation_id, "ada@example.org", users)
    assert isinstance(created, steps.Continue)
    steps.approve_user(created, [], users)
    assert steps.record_outcome(operation_id, created, users, operations)
    done = operations.get(operation_id)
    assert done is not None and done.status is OperationStatus.SUCCEEDED
    assert done.result == users.get(created.user_id)
    assert not steps.record_outcome(operation_id, created, users, operations)  # a retry


def test_the_last_step_records_a_refusal_as_the_failure():
    users, operations = FakeUsers(), FakeOperations()
    operation_id = _running(operations)
    refusal = OperationError(ErrorCode.USER_REJECTED, "the user was rejected")
    assert steps.record_outcome(operation_id, refusal, users, operations)
    done = operations.get(operation_id)
    assert done is not None
    assert done.status is OperationStatus.FAILED and done.error == refusal


def test_an_outcome_never_overwrites_a_done_operation():
    users, operations = FakeUsers(), FakeOperations()
    operation_id = _running(operations)
    operations.mark_failed(operation_id, OperationError(ErrorCode.WORKFLOW_ENDED, "swept"))
    created = _created(operation_id, "ada@example.org", users)
    steps.approve_user(created, [], users)
    assert not steps.record_outcome(operation_id, created, users, operations)
    done = operations.get(operation_id)
    assert done is not None and done.error is not None
    assert done.error.code is ErrorCode.WORKFLOW_ENDED


def test_the_last_step_refuses_an_incomplete_creation():
    users, operations = FakeUsers(), FakeOperations()
    operation_id = _running(operations)
    created = _created(operation_id, "ada@example.org", users)
    with pytest.raises(Exception, match="not ACTIVE"):
        steps.record_outcome(operation_id, created, users, operations)
    with pytest.raises(Exception, match="does not exist"):
        steps.record_outcome(operation_id, steps.Continue("missing"), users, operations)
    stored = operations.get(operation_id)
    assert stored is not None and stored.status is OperationStatus.RUNNING


def test_transient_errors_are_not_business_outcomes():
    class FlakyUsers(FakeUsers):
        def add(self, user):
            raise TransientError("throttled")

    with pytest.raises(TransientError):
        _created("op-1", "ada@example.org", FlakyUsers())
