"""Human review over fakes of the ports: the rules, the workflow's steps, the reviewers' use cases,
and the API's parsing of decisions, limits and page tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import clock
from chalicelib.adapters import state_machine
from chalicelib.domain.errors import (
    ErrorCode,
    NotificationFailed,
    ReviewAlreadyDecided,
    ReviewClosed,
    ReviewInconsistent,
    ReviewNotFound,
    TransientError,
    WorkflowNotResumed,
)
from chalicelib.domain.operations import (
    Operation,
    OperationError,
    OperationStep,
    to_iso,
)
from chalicelib.domain.reviews import (
    Decision,
    Review,
    ReviewDecision,
    ReviewPosition,
    ReviewStatus,
    TaskToken,
    review_notification,
)
from chalicelib.domain.users import User, UserStatus, Verdict, approve
from chalicelib.http import pagination
from chalicelib.http.problems import Problem
from chalicelib.http.resources import operation_resource
from chalicelib.http.validation import parse_limit, parse_review_decision
from chalicelib.services import reviews as review_service
from chalicelib.services import steps
from tests.builders import a_request, an_operation
from tests.contract.fakes import (
    FakeCallbacks,
    FakeNotifications,
    FakeOperations,
    FakeReviews,
    FakeUsers,
)

pytestmark = pytest.mark.unit

POLICY = steps.ReviewPolicy(("review.example.org",), 86400)
REVIEWED_EMAIL = "ada@review.example.org"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
JSON = {"content-type": "application/json"}


@pytest.fixture(autouse=True)
def fixed_time():
    """The steps read the service's clock: here it stands still unless a test moves it."""
    moments = [NOW]
    clock.set_source(lambda: moments[0])
    yield moments
    clock.set_source(None)


# The rules


@pytest.mark.parametrize(
    ("email", "verdict"),
    [
        ("ada@review.example.org", Verdict.REVIEW),
        ("ada@EU.Review.Example.org", Verdict.REVIEW),  # a subdomain, any case
        ("ada@notreview.example.org", Verdict.APPROVE),  # a mere suffix is not the domain
        ("ada@example.org", Verdict.APPROVE),
        ("ada@review.example.test", Verdict.REJECT),  # reserved TLDs reject first
    ],
)
def test_review_domains_send_addresses_to_a_person(email, verdict):
    assert approve(email, [], ["review.example.org", "review.example.test"]).verdict is verdict


def test_the_deny_list_rejects_before_review():
    decision = approve("ada@review.example.org", ["example.org"], ["review.example.org"])
    assert decision.verdict is Verdict.REJECT and not decision.approved


# The workflow's steps


class Workflow:
    """The steps, driven as the state machine drives them, over fakes."""

    def __init__(self) -> None:
        self.users, self.reviews, self.operations = FakeUsers(), FakeReviews(), FakeOperations()
        self.notifications = FakeNotifications()
        operation = an_operation(email=REVIEWED_EMAIL)
        self.operations.create(operation, None)
        self.operations.mark_running(operation.id)
        self.operation_id = operation.id
        created = steps.create_user(operation.id, operation.request, self.users)
        assert isinstance(created, steps.Continue)
        self.user_id = created.user_id

    def approve(self, outcome):
        return steps.approve_user(outcome, [], self.users, POLICY, self.reviews)

    def request(self, timeout_seconds: int, token: str = "token-1"):
        requested = steps.ReviewRequested(
            operation_id=self.operation_id,
            user_id=self.user_id,
            request=a_request(email=REVIEWED_EMAIL),
            timeout_seconds=timeout_seconds,
        )
        return steps.request_review(
            requested, TaskToken(token), self.reviews, self.operations, self.notifications
        )

    def ended(self, timed_out: bool):
        return self.approve(steps.ReviewEnded(self.user_id, timed_out))

    def user(self) -> User:
        user = self.users.get(self.user_id)
        assert user is not None, "the workflow's first step created the user"
        return user

    def user_status(self) -> UserStatus:
        return self.user().status

    def operation(self) -> Operation:
        operation = self.operations.get(self.operation_id)
        assert operation is not None, "the workflow's operation is stored"
        return operation

    def review(self) -> Review:
        review = self.reviews.get(self.operation_id)
        assert review is not None, "the workflow asked for a review"
        return review


def test_a_reviewed_domain_waits_for_a_person_with_the_user_pending():
    flow = Workflow()
    assert flow.approve(steps.Continue(flow.user_id)) == steps.AwaitReview(flow.user_id, 86400)
    assert flow.user_status() is UserStatus.PENDING_APPROVAL
    review = flow.request(86400)
    assert review.status is ReviewStatus.PENDING
    assert review.requested_at == to_iso(NOW)
    assert review.expires_at == to_iso(NOW + timedelta(days=1))
    assert flow.operation().step is OperationStep.AWAITING_REVIEW


def test_the_reviewers_are_told_of_a_review_without_the_user_s_email_or_the_token():
    flow = Workflow()
    review = flow.request(86400, "token-1")
    assert flow.notifications.told == [review]
    told = review_notification(review, "https://api.example.org/api/review/")
    assert flow.operation_id in told.text and review.expires_at in told.text
    assert "https://api.example.org/api/review/" in told.text
    for secret in ("ada@review.example.org", "Ada", "token-1"):
        assert secret not in told.subject + told.text


def test_a_notification_that_fails_for_now_fails_the_task_for_a_retry_with_the_review_kept():
    flow = Workflow()
    flow.notifications.fail = TransientError("ThrottlingException")
    with pytest.raises(TransientError):
        flow.request(86400, "token-1")
    kept = flow.reviews.get(flow.operation_id)
    assert kept is not None and kept.status is ReviewStatus.PENDING
    flow.notifications.fail = None
    flow.request(86400, "token-2")  # the task's retry: told this time, with the new token kept
    assert [r.operation_id for r in flow.notifications.told] == [flow.operation_id]
    assert flow.reviews.tokens[flow.operation_id] == TaskToken("token-2")


def test_a_notification_that_cannot_be_sent_is_logged_and_the_review_waits(caplog):
    flow = Workflow()
    flow.notifications.fail = NotificationFailed("NotFound: Topic does not exist")
    review = flow.request(86400)
    assert review.status is ReviewStatus.PENDING
    (logged,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert logged.getMessage() == "review requested, but the reviewers could not be told"
    assert flow.operation().step is OperationStep.AWAITING_REVIEW


def test_asking_again_keeps_the_request_and_takes_the_new_token(fixed_time):
    flow = Workflow()
    first = flow.request(86400, "token-1")
    fixed_time[0] = NOW + timedelta(hours=1)
    again = flow.request(86400, "token-2")
    assert again == first  # requestedAt and expiresAt stand
    assert flow.reviews.tokens[flow.operation_id] == TaskToken("token-2")
    assert len(flow.reviews.reviews) == 1


def test_a_workflow_run_again_waits_only_for_the_time_left(fixed_time):
    flow = Workflow()
    flow.request(86400)
    fixed_time[0] = NOW + timedelta(hours=20, milliseconds=500)
    left = flow.approve(steps.Continue(flow.user_id))
    assert left == steps.AwaitReview(flow.user_id, 4 * 3600)  # rounded up to whole seconds


@pytest.mark.parametrize(
    ("decision", "status", "outcome"),
    [
        (ReviewDecision(Decision.APPROVE), UserStatus.ACTIVE, None),
        (
            ReviewDecision(Decision.REJECT, "looks like a bot"),
            UserStatus.REJECTED,
            OperationError(
                ErrorCode.USER_REJECTED, "a reviewer rejected the user: looks like a bot"
            ),
        ),
    ],
)
@pytest.mark.parametrize("timed_out", [False, True])
def test_a_decision_stands_however_the_wait_ended(decision, status, outcome, timed_out):
    flow = Workflow()
    flow.request(86400)
    flow.reviews.decide(flow.operation_id, decision, to_iso(NOW), None)
    concluded = flow.ended(timed_out)
    assert concluded == (outcome or steps.Continue(flow.user_id))
    assert flow.user_status() is status


def test_a_review_nobody_decided_expires_rejects_the_user_and_frees_the_email():
    flow = Workflow()
    flow.request(86400)
    concluded = flow.ended(timed_out=True)
    assert isinstance(concluded, OperationError)
    assert concluded.code is ErrorCode.REVIEW_TIMED_OUT
    assert flow.review().status is ReviewStatus.EXPIRED
    assert flow.user_status() is UserStatus.REJECTED
    assert "ada@review.example.org" not in flow.users.claims
    with pytest.raises(ReviewNotFound):  # too late now
        flow.reviews.decide(flow.operation_id, ReviewDecision(Decision.APPROVE), to_iso(NOW), None)
    with pytest.raises(ReviewClosed):  # and the workflow does not wait for it again
        flow.request(86400, "token-3")
    assert flow.ended(timed_out=True) == concluded  # a retried step ends the same way


def test_a_review_that_expired_while_no_workflow_waited_concludes_as_timed_out(fixed_time):
    flow = Workflow()
    flow.request(60)
    fixed_time[0] = NOW + timedelta(minutes=2)
    concluded = flow.approve(steps.Continue(flow.user_id))  # the run after a restart
    assert concluded.code is ErrorCode.REVIEW_TIMED_OUT


def test_a_decision_made_while_no_workflow_waited_is_applied_when_it_runs_again():
    flow = Workflow()
    flow.request(86400)
    flow.reviews.decide(flow.operation_id, ReviewDecision(Decision.APPROVE), to_iso(NOW), None)
    assert flow.approve(steps.Continue(flow.user_id)) == steps.Continue(flow.user_id)
    assert flow.user_status() is UserStatus.ACTIVE


def test_woken_without_a_decision_is_a_broken_invariant():
    flow = Workflow()
    flow.request(86400)
    with pytest.raises(ReviewInconsistent):
        flow.ended(timed_out=False)


def test_without_a_review_policy_nothing_is_reviewed():
    flow = Workflow()
    outcome = steps.approve_user(steps.Continue(flow.user_id), [], flow.users)
    assert outcome == steps.Continue(flow.user_id)


# The reviewers' use cases


APPROVE = ReviewDecision(Decision.APPROVE)


def _decide(flow: Workflow, callbacks: FakeCallbacks, decision=APPROVE):
    return review_service.decide_review(
        flow.operation_id, decision, flow.reviews, flow.operations, callbacks, decided_by="grace"
    )


def test_a_decision_is_recorded_once_and_resumes_the_workflow_with_its_token():
    flow, callbacks = Workflow(), FakeCallbacks("token-1")
    flow.request(86400, "token-1")
    decided = _decide(flow, callbacks)
    assert decided.status is ReviewStatus.DECIDED and decided.decided_at == to_iso(NOW)
    stored = flow.reviews.get(flow.operation_id)
    assert decided.decided_by == "grace" and stored is not None and stored.decided_by == "grace"
    assert callbacks.resumed == [(TaskToken("token-1"), ReviewDecision(Decision.APPROVE))]
    with pytest.raises(ReviewAlreadyDecided):
        _decide(flow, callbacks, ReviewDecision(Decision.REJECT, "no"))
    flow.operations.mark_succeeded(flow.operation_id, flow.user())
    with pytest.raises(ReviewAlreadyDecided):  # a second decision, also once it is over
        _decide(flow, callbacks, ReviewDecision(Decision.REJECT, "no"))
    assert len(callbacks.resumed) == 1


def test_a_decision_whose_wait_ended_is_still_recorded():
    flow, callbacks = Workflow(), FakeCallbacks("token-1")
    flow.request(86400, "token-1")
    callbacks.end(TaskToken("token-1"))  # it timed out just now
    assert _decide(flow, callbacks).status is ReviewStatus.DECIDED  # the workflow reads it
    assert callbacks.resumed == []


def test_a_decision_that_cannot_wake_the_workflow_says_so():
    flow = Workflow()
    flow.request(86400)
    with pytest.raises(WorkflowNotResumed):
        _decide(flow, FakeCallbacks("token-1", fail=True))
    assert flow.review().status is ReviewStatus.DECIDED


def test_no_decision_for_an_unknown_review_or_an_operation_that_is_over(fixed_time):
    flow, callbacks = Workflow(), FakeCallbacks("token-1")
    with pytest.raises(ReviewNotFound):
        _decide(flow, callbacks)  # not requested yet
    flow.request(60)
    flow.operations.mark_failed(flow.operation_id, OperationError(ErrorCode.WORKFLOW_ENDED, "x"))
    with pytest.raises(ReviewNotFound):
        _decide(flow, callbacks)
    assert callbacks.resumed == []


def test_an_expired_review_is_neither_listed_nor_decided(fixed_time):
    flow, callbacks = Workflow(), FakeCallbacks("token-1")
    flow.request(60)
    fixed_time[0] = NOW + timedelta(seconds=60)
    assert review_service.pending_reviews(10, None, flow.reviews).reviews == []
    with pytest.raises(ReviewNotFound):
        _decide(flow, callbacks)


def test_an_operation_shows_its_step_only_while_it_runs():
    flow = Workflow()
    flow.request(86400)
    assert operation_resource(flow.operation())["step"] == "AWAITING_REVIEW"
    flow.operations.mark_failed(flow.operation_id, OperationError(ErrorCode.REVIEW_TIMED_OUT, "x"))
    assert "step" not in operation_resource(flow.operation())


# The state machine's payloads


def test_the_wait_for_a_review_travels_through_the_state_machine():
    await_review = steps.AwaitReview("user-1", 3600)
    payload = state_machine.outcome_payload(await_review)
    assert payload == {"userId": "user-1", "review": {"timeoutSeconds": 3600}}
    timed_out = {"Error": "States.Timeout", "Cause": "the task timed out"}
    woken = {"decision": "approve"}
    closed = {"Error": "ReviewClosed", "Cause": "decided already"}
    for ended, expected in [(timed_out, True), (woken, False), (closed, False)]:
        step = state_machine.approval_input(
            {"operationId": "op-1", "outcome": payload, "reviewEnded": ended}
        )
        assert step.outcome == steps.ReviewEnded("user-1", expected)
    with pytest.raises(ValueError, match="waiting for a review"):
        state_machine.step_input({"operationId": "op-1", "outcome": payload})


def test_the_review_request_carries_the_token_apart():
    requested, token = state_machine.review_request(
        {
            "operationId": "op-1",
            "userId": "user-1",
            "email": "ada@review.example.org",
            "name": "Ada",
            "timeoutSeconds": 60,
            "taskToken": "secret",
        }
    )
    assert requested == steps.ReviewRequested(
        operation_id="op-1",
        user_id="user-1",
        request=a_request(email="ada@review.example.org", name="Ada"),
        timeout_seconds=60,
    )
    assert token.value == "secret"
    assert "secret" not in repr(token) + str(token) + repr(requested)


# The API's parsing


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"decision": "approve"}, ReviewDecision(Decision.APPROVE)),
        ({"decision": "reject", "reason": " spam "}, ReviewDecision(Decision.REJECT, "spam")),
    ],
)
def test_decisions_parse(document, expected):
    assert parse_review_decision(JSON, json.dumps(document).encode(), 4096) == expected


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({}, "/decision"),
        ({"decision": "maybe"}, "/decision"),
        ({"decision": {}}, "/decision"),
        ({"decision": "APPROVE"}, "/decision"),
        ({"decision": "reject", "reason": 7}, "/reason"),
        ({"decision": "reject", "reason": ""}, "/reason"),
        ({"decision": "reject", "reason": "x" * 501}, "/reason"),
        ({"decision": "reject", "reason": "a\nb"}, "/reason"),
        ({"decision": "approve", "by": "me"}, "/by"),
    ],
)
def test_bad_decisions_are_refused_with_a_pointer(document, pointer):
    with pytest.raises(Problem) as refused:
        parse_review_decision(JSON, json.dumps(document).encode(), 4096)
    assert refused.value.status == 400
    assert pointer in {e["pointer"] for e in refused.value.extensions["errors"]}


@pytest.mark.parametrize("values", [["0"], ["101"], ["-1"], ["1.5"], ["ten"], ["2", "3"], ["٣"]])
def test_bad_limits_are_refused(values):
    with pytest.raises(Problem):
        parse_limit(values)


def test_limits_default_and_bound():
    assert parse_limit([]) == 20
    assert parse_limit(["100"]) == 100


def test_a_page_token_is_opaque_and_round_trips():
    position = ReviewPosition("2026-11-01T12:00:00.000Z", "0b6f5bc8-8a0c-4bdb-9b3a-7f4c2f3c1d2e")
    token = pagination.encode(position)
    assert position.operation_id not in token and "=" not in token
    assert pagination.decode([token]) == position
    assert pagination.decode([]) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not base64!",
        "W10",  # []
        pagination.encode(ReviewPosition("yesterday", "0b6f5bc8-8a0c-4bdb-9b3a-7f4c2f3c1d2e")),
        pagination.encode(ReviewPosition("2026-11-01T12:00:00.000Z", "not-an-id")),
        "A" * 201,
        "ü",
    ],
)
def test_bad_page_tokens_are_refused(token):
    with pytest.raises(Problem) as refused:
        pagination.decode([token])
    assert refused.value.status == 400


# The sweeper


@pytest.mark.parametrize(("step", "republished"), [(OperationStep.AWAITING_REVIEW, 1), (None, 0)])
def test_an_operation_awaiting_review_without_execution_is_run_again_whatever_its_age(
    step, republished
):
    """After a restart (a local stack on saved tables), a review pending for days still has
    its operation run again: the run asks for the review again, or concludes it."""
    from chalicelib.services.workflow import SweepPolicy, sweep
    from tests.contract.fakes import FakeEvents, FakeWorkflows

    operations, events = FakeOperations(), FakeEvents()
    operation = an_operation(email=REVIEWED_EMAIL, now=to_iso(NOW))
    operations.create(operation, None)
    operations.mark_running(operation.id)
    if step is not None:
        operations.mark_step(operation.id, step)
    policy = SweepPolicy(republish_after=timedelta(0), give_up_after=timedelta(hours=1))
    report = sweep(NOW + timedelta(days=3), policy, operations, events, FakeWorkflows())
    assert report.republished == republished
    stored = operations.get(operation.id)
    assert stored is not None
    assert stored.done is (republished == 0)  # or failed as too old


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@settings(max_examples=150)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"decision": st.sampled_from(["approve", "reject"]) | json_values},
            optional={"reason": st.text() | json_values},
        ),
    )
)
def test_arbitrary_decision_bodies_are_a_decision_or_a_problem(document):
    try:
        parsed = parse_review_decision(JSON, json.dumps(document).encode(), 4096)
    except Problem as problem:
        assert problem.status in (400, 413)
    else:
        assert document["decision"] == parsed.decision.value
        assert set(document) <= {"decision", "reason"}


@settings(max_examples=150)
@given(st.lists(st.text(max_size=300), max_size=3))
def test_arbitrary_page_tokens_are_a_position_or_a_problem(values):
    try:
        pagination.decode(values)
    except Problem as problem:
        assert problem.status == 400


# make run


def test_make_run_takes_the_review_settings_from_the_environment(monkeypatch):
    from local.process.options import Options

    monkeypatch.delenv("REVIEW_EMAIL_DOMAINS", raising=False)
    monkeypatch.delenv("REVIEW_TIMEOUT_SECONDS", raising=False)
    stage = Options().environment()
    assert stage["REVIEW_EMAIL_DOMAINS"] == "review.example.org"  # the local stage's
    assert stage["REVIEW_TIMEOUT_SECONDS"] == "86400"
    monkeypatch.setenv("REVIEW_EMAIL_DOMAINS", "staff.example.org,partners.example.org")
    monkeypatch.setenv("REVIEW_TIMEOUT_SECONDS", "60")
    overridden = Options().environment()
    assert overridden["REVIEW_EMAIL_DOMAINS"] == "staff.example.org,partners.example.org"
    assert overridden["REVIEW_TIMEOUT_SECONDS"] == "60"
    assert overridden["OPERATIONS_TABLE"] == stage["OPERATIONS_TABLE"]  # the rest: the stage's
