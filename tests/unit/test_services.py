from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import IdempotencyKeyReused, PublishFailed, TransientError
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import OperationStatus, UserRequest, new_operation, to_iso
from chalicelib.services import steps
from chalicelib.services.operations import accept_user_request
from chalicelib.services.ports import UNKNOWN_EXECUTION_STATUS
from chalicelib.services.workflow import SweepPolicy, process_batch, start_workflow, sweep
from tests.unit.fakes import FakeEvents, FakeOperations, FakeUsers, FakeWorkflows

ADA = UserRequest("ada@example.org", "Ada")


def test_accepting_stores_a_pending_operation_and_publishes_it():
    operations, events = FakeOperations(), FakeEvents()
    operation = accept_user_request(ADA, None, operations, events)
    assert operations.get(operation.id).status is OperationStatus.PENDING
    assert events.published == [OperationRequested(operation.id, ADA)]


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
        accept_user_request(UserRequest("bob@example.org", "Bob"), "key-1", operations, events)


def test_a_failed_publish_fails_the_operation_and_frees_the_key():
    operations = FakeOperations()
    with pytest.raises(PublishFailed):
        accept_user_request(ADA, "key-1", operations, FakeEvents(fail=True))
    (failed,) = operations.items.values()
    assert failed.status is OperationStatus.FAILED
    assert failed.error.code == "PUBLISH_FAILED"
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
    assert operations.get(operation.id).status is OperationStatus.RUNNING


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
    assert operations.get(operation.id).error.code == "NOT_STARTED"


@pytest.mark.parametrize(
    ("execution", "outcome"),
    [("RUNNING", OperationStatus.RUNNING), ("FAILED", OperationStatus.FAILED)],
)
def test_the_sweeper_fails_running_operations_whose_execution_ended(execution, outcome):
    operations, events, workflows, operation, policy = _sweep_setup(timedelta(minutes=10))
    operations.mark_running(operation.id)
    workflows.statuses[operation.id] = execution
    sweep(datetime.now(UTC), policy, operations, events, workflows)
    assert operations.get(operation.id).status is outcome


@pytest.mark.parametrize(
    ("age", "outcome"),
    [
        (timedelta(minutes=10), OperationStatus.RUNNING),
        (timedelta(hours=2), OperationStatus.FAILED),
    ],
)
def test_with_express_the_sweeper_waits_then_gives_up(age, outcome):
    operations, events, workflows, operation, policy = _sweep_setup(age)
    operations.mark_running(operation.id)
    workflows.statuses[operation.id] = UNKNOWN_EXECUTION_STATUS
    sweep(datetime.now(UTC), policy, operations, events, workflows)
    assert operations.get(operation.id).status is outcome
    assert events.published == []


def test_the_sweeper_restarts_a_running_operation_without_execution():
    operations, events, workflows, operation, policy = _sweep_setup(timedelta(minutes=10))
    operations.mark_running(operation.id)
    report = sweep(datetime.now(UTC), policy, operations, events, workflows)
    assert report.republished == 1


def test_create_user_is_idempotent_and_unique_per_email():
    users = FakeUsers()
    first = steps.create_user("op-1", "Ada@Example.org", "Ada", users)
    assert steps.create_user("op-1", "Ada@Example.org", "Ada", users) == first  # a retry
    duplicate = steps.create_user("op-2", "ada@example.ORG", "Ada", users)
    assert duplicate["error"]["code"] == "EMAIL_ALREADY_REGISTERED"


def test_approval_activates_or_rejects_and_frees_the_email():
    users = FakeUsers()
    ok = steps.create_user("op-1", "ada@example.org", "Ada", users)["userId"]
    assert steps.approve_user(ok, [], users) == {"ok": True}
    assert steps.build_response(ok, users)["result"]["user"]["status"] == "ACTIVE"

    bad = steps.create_user("op-2", "eve@evil.test", "Eve", users)["userId"]
    rejected = steps.approve_user(bad, [], users)
    assert rejected["error"]["code"] == "USER_REJECTED"
    assert "eve@" not in rejected["error"]["message"]
    assert users.claims.get("eve@evil.test") is None


def test_the_response_step_refuses_an_incomplete_creation():
    users = FakeUsers()
    user_id = steps.create_user("op-1", "ada@example.org", "Ada", users)["userId"]
    with pytest.raises(Exception, match="not ACTIVE"):
        steps.build_response(user_id, users)
    with pytest.raises(Exception, match="does not exist"):
        steps.build_response("missing", users)


def test_transient_errors_are_not_business_outcomes():
    class FlakyUsers(FakeUsers):
        def add(self, user):
            raise TransientError("throttled")

    with pytest.raises(TransientError):
        steps.create_user("op-1", "ada@example.org", "Ada", FlakyUsers())
