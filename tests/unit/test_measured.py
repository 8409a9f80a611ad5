"""What the use cases measure (the Metrics port, over FakeMetrics: what the EMF adapter writes,
tests/contract/test_metrics.py): each operation accepted once, done once with its outcome and
its time from accepted to done, each review once by what became of it; a repeat (a retry, a
redelivery, a second sweep) measures nothing again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.domain.errors import ErrorCode, PublishFailed, TransientError
from chalicelib.domain.operations import Operation, OperationError, new_operation, to_iso
from chalicelib.domain.reviews import Decision, ReviewDecision, TaskToken
from chalicelib.services import reviews as review_service
from chalicelib.services import steps
from chalicelib.services.operations import accept_user_request
from chalicelib.services.workflow import SweepPolicy, measure_recorded_failures, sweep
from tests.builders import a_request
from tests.contract.fakes import (
    FakeCallbacks,
    FakeEvents,
    FakeMetrics,
    FakeOperations,
    FakeReviews,
    FakeUsers,
    FakeWorkflows,
)
from tests.unit.test_reviews import POLICY, Workflow

pytestmark = pytest.mark.unit
ADA = a_request()
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def moments():
    now = [NOW]
    clock.set_source(lambda: now[0])
    yield now
    clock.set_source(None)


def test_an_accepted_operation_is_counted_once():
    operations, measured = FakeOperations(), FakeMetrics()
    accept_user_request(ADA, "key", operations, FakeEvents(), metrics=measured)
    accept_user_request(ADA, "key", operations, FakeEvents(), metrics=measured)  # a replay
    assert measured.measured == [("OperationsAccepted", {}, 1)]


def test_a_failed_publish_is_a_failed_operation_not_an_accepted_one():
    measured = FakeMetrics()
    with pytest.raises(PublishFailed):
        accept_user_request(ADA, None, FakeOperations(), FakeEvents(fail=True), metrics=measured)
    assert measured.total("OperationsAccepted") == 0
    assert measured.total("OperationsFailed", ErrorCode="PUBLISH_FAILED") == 1
    assert ("OperationDuration", {}, 0) in measured.measured  # failed at once


def test_an_outcome_is_measured_once_with_the_time_from_accepted_to_done(moments):
    users, operations, measured = FakeUsers(), FakeOperations(), FakeMetrics()
    operation_id = accept_user_request(ADA, None, operations, FakeEvents()).id
    created = steps.create_user(operation_id, ADA, users)
    steps.approve_user(created, [], users)
    moments[0] = NOW + timedelta(seconds=1.5)
    assert isinstance(created, steps.Continue)
    assert steps.record_outcome(operation_id, created, users, operations, metrics=measured)
    assert not steps.record_outcome(operation_id, created, users, operations, metrics=measured)
    assert measured.measured == [("OperationsSucceeded", {}, 1), ("OperationDuration", {}, 1500)]


def test_a_refusal_is_measured_by_its_code():
    users, operations, measured = FakeUsers(), FakeOperations(), FakeMetrics()
    operation_id = accept_user_request(ADA, None, operations, FakeEvents()).id
    refusal = OperationError(ErrorCode.EMAIL_ALREADY_REGISTERED, "the email is already registered")
    steps.record_outcome(operation_id, refusal, users, operations, metrics=measured)
    assert measured.total("OperationsFailed", ErrorCode="EMAIL_ALREADY_REGISTERED") == 1


@pytest.mark.parametrize(
    ("age", "execution", "code"),
    [
        (timedelta(hours=2), None, "NOT_STARTED"),
        (timedelta(minutes=10), "FAILED", "WORKFLOW_ENDED"),
    ],
)
def test_what_the_sweeper_fails_is_measured_once(age, execution, code):
    operations, workflows, measured = FakeOperations(), FakeWorkflows(), FakeMetrics()
    operation = operations.create(new_operation(ADA, now=to_iso(NOW - age)), None)
    if execution:
        operations.mark_running(operation.id)
        workflows.statuses[operation.id] = execution
    policy = SweepPolicy(republish_after=timedelta(minutes=2), give_up_after=timedelta(hours=1))
    for _ in range(2):
        sweep(NOW, policy, operations, FakeEvents(), workflows, metrics=measured)
    assert measured.total("OperationsFailed", ErrorCode=code) == 1
    assert measured.total("OperationDuration") >= age.total_seconds() * 1000


def _failed_by_the_workflow(operations: FakeOperations, code: ErrorCode, age: timedelta) -> str:
    operation = operations.create(new_operation(ADA, now=to_iso(NOW - age)), None)
    operations.mark_running(operation.id)
    operations.fail_as_the_workflow_does(operation.id, OperationError(code, "a step broke"))
    return operation.id


def test_the_failures_the_workflow_records_are_measured_once_by_the_sweeper():
    operations, measured = FakeOperations(), FakeMetrics()
    _failed_by_the_workflow(operations, ErrorCode.USER_CREATE_FAILED, timedelta(seconds=90))
    _failed_by_the_workflow(operations, ErrorCode.USER_REVIEW_FAILED, timedelta(seconds=30))
    swept = operations.create(new_operation(ADA), None)
    operations.mark_failed(swept.id, OperationError(ErrorCode.WORKFLOW_ENDED, "measured already"))

    assert measure_recorded_failures(operations, measured) == 2
    assert measure_recorded_failures(operations, measured) == 0  # the next sweep
    assert measured.measured == [
        ("OperationsFailed", {"ErrorCode": "USER_CREATE_FAILED"}, 1),
        ("OperationDuration", {}, 90_000),
        ("OperationsFailed", {"ErrorCode": "USER_REVIEW_FAILED"}, 1),
        ("OperationDuration", {}, 30_000),
    ]


def test_a_sweep_measures_a_bounded_number_of_failures_and_the_next_one_the_rest():
    operations, measured = FakeOperations(), FakeMetrics()
    for _ in range(3):
        _failed_by_the_workflow(operations, ErrorCode.USER_APPROVE_FAILED, timedelta(seconds=1))
    assert measure_recorded_failures(operations, measured, limit=2) == 2
    assert measure_recorded_failures(operations, measured, limit=2) == 1
    assert measured.total("OperationsFailed", ErrorCode="USER_APPROVE_FAILED") == 3


def test_a_throttled_table_leaves_the_failures_not_yet_taken_to_the_next_sweep(caplog):
    class Throttled(FakeOperations):
        throttled = True

        def take_unmeasured_failures(self, limit: int) -> Iterator[Operation]:
            taking = super().take_unmeasured_failures(limit)
            if not self.throttled:
                yield from taking
                return
            yield next(taking)
            raise TransientError("ThrottlingException")

    operations, measured = Throttled(), FakeMetrics()
    for code in (ErrorCode.USER_CREATE_FAILED, ErrorCode.USER_CREATE_RESPONSE_FAILED):
        _failed_by_the_workflow(operations, code, timedelta(seconds=5))
    assert measure_recorded_failures(operations, measured) == 1
    assert "left to the next sweep" in caplog.text
    operations.throttled = False
    assert measure_recorded_failures(operations, measured) == 1
    assert measured.total("OperationsFailed", ErrorCode="USER_CREATE_FAILED") == 1
    assert measured.total("OperationsFailed", ErrorCode="USER_CREATE_RESPONSE_FAILED") == 1


def _requested(flow: Workflow, measured: FakeMetrics, token: str = "token-1") -> None:
    requested = steps.ReviewRequested(flow.operation_id, flow.user_id, ADA, 86400)
    steps.request_review(
        requested,
        TaskToken(token),
        flow.reviews,
        flow.operations,
        flow.notifications,
        metrics=measured,
    )


def test_a_review_asked_for_again_is_requested_once(moments):
    flow, measured = Workflow(), FakeMetrics()
    _requested(flow, measured, "token-1")
    moments[0] = NOW + timedelta(minutes=5)
    _requested(flow, measured, "token-2")  # the task's retry
    assert measured.measured == [("ReviewsRequested", {}, 1)]


def test_a_decision_is_measured_by_what_was_decided():
    flow, measured = Workflow(), FakeMetrics()
    _requested(flow, measured)
    review_service.decide_review(
        flow.operation_id,
        ReviewDecision(Decision.REJECT, "a bot"),
        flow.reviews,
        flow.operations,
        FakeCallbacks("token-1"),
        decided_by="grace",
        metrics=measured,
    )
    assert measured.total("ReviewsDecided", Decision="reject") == 1
    assert measured.total("ReviewsDecided", Decision="approve") == 0


def test_a_review_that_expires_is_timed_out_once_and_a_decided_one_never():
    flow, measured = Workflow(), FakeMetrics()
    _requested(flow, measured)
    ended = steps.ReviewEnded(flow.user_id, timed_out=True)
    for _ in range(2):  # the step retried
        steps.approve_user(ended, [], flow.users, POLICY, flow.reviews, metrics=measured)
    assert measured.total("ReviewsTimedOut") == 1

    decided, measured = Workflow(), FakeMetrics()
    _requested(decided, measured)
    decided.reviews.decide(
        decided.operation_id, ReviewDecision(Decision.APPROVE), to_iso(NOW), None
    )
    ended = steps.ReviewEnded(decided.user_id, timed_out=True)  # the decision came first
    steps.approve_user(ended, [], decided.users, POLICY, decided.reviews, metrics=measured)
    assert measured.total("ReviewsTimedOut") == 0


def test_the_reviews_waiting_are_counted_and_a_throttled_count_is_skipped(moments):
    reviews, measured = FakeReviews(), FakeMetrics()
    flows = [Workflow(), Workflow()]
    for flow in flows:
        flow.reviews = reviews
        _requested(flow, measured)
    assert review_service.count_waiting(reviews, measured) == 2
    moments[0] = NOW + timedelta(days=2)  # both expired, not yet concluded
    assert review_service.count_waiting(reviews, measured) == 0

    class Throttled(FakeReviews):
        def count_pending(self, now: str) -> int:
            raise TransientError("ThrottlingException")

    assert review_service.count_waiting(Throttled(), measured) is None
    assert [v for n, _, v in measured.measured if n == "ReviewsWaiting"] == [2, 0]
