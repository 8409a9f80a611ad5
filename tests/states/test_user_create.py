"""statemachine/user_create.asl.json, state by state, through TestState (tests/states/conftest.py):
what each state hands on (its output, next state and variables), each Choice rule and its
default, each Catch, each retry policy, the review's callback and its timeout, the failure
recording. The payloads the states build are read back with the adapter that owns their shape
(chalicelib/adapters/state_machine.py), so the ASL and the steps cannot drift apart.

A class per state, named after it (test_every_state_of_the_definition_is_tested holds them
equal). A task's class says what it runs with (`given`: an input, variables, a context), which
the tests of every Catch and retry policy use too; a Lambda task's before the response, the
code its operation fails with when it breaks (`broken`; after the response the operation is
done, and a step that breaks fails the execution). A state added to the workflow needs its
class here.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import pytest

from chalicelib.adapters import operations_table, state_machine
from chalicelib.services.steps import Continue, ReviewEnded, ReviewRequested
from tests.builders import a_request, an_event
from tests.states.conftest import Workflow
from tests.workflow_paths import DEFINITION, STATES

REQUEST = {"operationId": "op-1", "email": "ada@review.example.org", "name": "Ada"}
CREATED = {"userId": "user-1"}
REFUSED = {"refusal": {"code": "EMAIL_ALREADY_REGISTERED", "message": "registered"}}
WAITING = {"userId": "user-1", "review": {"timeoutSeconds": 3600}}
KNOWN = {"request": REQUEST}  # the variables every state after the first one reads
TOKEN = "the-task-token"
ENTERED = "2026-12-01T10:00:00.000Z"
FAILURE = {"code": "USER_APPROVE_FAILED", "message": "user-approve failed: KeyError"}


def invoked(payload: Any) -> dict[str, Any]:
    """What lambda:invoke answers when the function returns `payload`."""
    return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": payload}


def payload(answer: dict[str, Any]) -> Any:
    """The payload the state sent to its function."""
    return answer["inspectionData"]["afterArguments"]["Payload"]


def assigned(answer: dict[str, Any]) -> dict[str, Any]:
    """The variables after the state: those given, and those it assigned."""
    return answer["inspectionData"].get("variables", {})


def _lambda_tasks() -> list[str]:
    return [
        name
        for name, state in STATES.items()
        if str(state.get("Resource", "")).startswith("arn:aws:states:::lambda:invoke")
    ]


def _retried_errors() -> list[tuple[str, str]]:
    """Every (task, error) its Retry retries."""
    return [
        (name, error)
        for name, state in STATES.items()
        for retrier in state.get("Retry", [])
        for error in retrier["ErrorEquals"]
    ]


def _after_the_response() -> set[str]:
    """The states after CreateResponse, which records the operation's outcome: the operation is
    done there, so a step that breaks fails the execution (alarmed), not the operation."""
    after: set[str] = set()
    name = STATES["CreateResponse"].get("Next")
    while name:
        after.add(name)
        name = STATES[name].get("Next")
    return after


def _retrier(state: str, error: str) -> dict[str, Any]:
    return next(r for r in STATES[state]["Retry"] if error in r["ErrorEquals"])


@dataclasses.dataclass(frozen=True)
class Given:
    """What a state runs with."""

    input: Any
    variables: dict[str, Any] = dataclasses.field(default_factory=lambda: dict(KNOWN))
    context: dict[str, Any] | None = None


def _class_of(state: str) -> Any:
    return globals()[f"Test{state}"]


class TestCreateUser:
    given = Given(REQUEST, variables={})
    broken = ("USER_CREATE_FAILED", "user-create")

    def test_sends_the_request_whole_and_keeps_it(self, workflow: Workflow):
        # A field the request gains travels without a change to the ASL; one it lacks stays
        # absent (no null in its place). (A name no field of UserRequest has: the adapter reads
        # back the fields it knows, so a field a team adds later leaves this test as it is.)
        request = {**REQUEST, "gainedLater": "+44 20 7946 0000"}
        answer = workflow.test("CreateUser", request, result=invoked(CREATED))
        assert answer["status"] == "SUCCEEDED"
        assert answer["nextState"] == "ApproveUser"
        assert payload(answer) == request
        assert state_machine.create_input(payload(answer)) == an_event(
            operation_id="op-1", email=REQUEST["email"], name=REQUEST["name"]
        )
        assert answer["output"] == CREATED
        assert assigned(answer) == {"request": request}

    def test_hands_a_refusal_on_as_an_outcome(self, workflow: Workflow):
        answer = workflow.test("CreateUser", REQUEST, result=invoked(REFUSED))
        assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "ApproveUser")
        assert answer["output"] == REFUSED

    def test_a_broken_step_keeps_the_request_for_the_failure_recording(self, workflow: Workflow):
        answer = workflow.test("CreateUser", REQUEST, error="KeyError")
        assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "RecordFailure")
        assert assigned(answer)["request"] == REQUEST


class TestApproveUser:
    given = Given(CREATED)
    broken = ("USER_APPROVE_FAILED", "user-approve")

    def test_sends_the_outcome_before_it_and_hands_on_its_own(self, workflow: Workflow):
        answer = workflow.test("ApproveUser", CREATED, variables=KNOWN, result=invoked(WAITING))
        assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "NeedsReview")
        step = state_machine.approval_input(payload(answer))
        assert (step.operation_id, step.outcome) == ("op-1", Continue("user-1"))
        assert answer["output"] == WAITING

    def test_without_the_request_fails_before_calling_the_function(self, workflow: Workflow):
        """$request unset: its field evaluates to nothing, a States.QueryEvaluationError
        (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html), which
        the state's Catch takes like a broken step."""
        answer = workflow.test("ApproveUser", CREATED, result=invoked(CREATED))
        assert answer["error"] == "States.QueryEvaluationError"
        assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "RecordFailure")


class TestNeedsReview:
    def test_a_user_left_to_a_person_waits_for_a_review_remembered(self, workflow: Workflow):
        answer = workflow.test("NeedsReview", WAITING, variables=KNOWN)
        assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "AwaitReview")
        assert answer["output"] == WAITING
        assert assigned(answer) == {**KNOWN, "approval": WAITING}

    @pytest.mark.parametrize("outcome", [CREATED, REFUSED], ids=["approved", "refused"])
    def test_otherwise_the_default_records_the_outcome(self, workflow: Workflow, outcome):
        answer = workflow.test("NeedsReview", outcome, variables=KNOWN)
        assert (answer["status"], answer["nextState"]) == (
            "SUCCEEDED",
            STATES["NeedsReview"]["Default"],
        )
        assert answer["output"] == outcome
        assert "approval" not in assigned(answer)


class TestAwaitReview:
    """The callback task: TestState runs a .waitForTaskToken state only with a mock, which
    stands for the reviewer's SendTaskSuccess, or for the error that ended the wait."""

    given = Given(WAITING, context={"Task": {"Token": TOKEN}})
    broken = ("USER_REVIEW_FAILED", "user-review-request")

    def test_asks_for_the_review_with_the_request_and_the_token(self, workflow: Workflow):
        answer = workflow.test(
            "AwaitReview",
            WAITING,
            variables=KNOWN,
            result={"decision": "approve"},
            context={"Task": {"Token": TOKEN}},
        )
        assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "ConcludeReview")
        asked, token = state_machine.review_request(payload(answer))
        assert asked == ReviewRequested(
            operation_id="op-1",
            user_id="user-1",
            request=a_request(email=REQUEST["email"], name=REQUEST["name"]),
            timeout_seconds=3600,
        )
        assert token.value == TOKEN
        assert answer["output"] == {"decision": "approve"}

    @pytest.mark.parametrize("ended", ["States.Timeout", "ReviewClosed"])
    def test_a_wait_that_ends_without_a_decision_is_concluded_not_retried(
        self, workflow: Workflow, ended
    ):
        answer = workflow.test(
            "AwaitReview", WAITING, variables=KNOWN, error=ended, cause="over", retries=0
        )
        assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "ConcludeReview")
        assert answer["output"] == {"Error": ended, "Cause": "over"}
        assert "retryBackoffIntervalSeconds" not in answer["inspectionData"]["errorDetails"]


class TestConcludeReview:
    given = Given({"decision": "approve"}, variables={**KNOWN, "approval": WAITING})
    broken = ("USER_APPROVE_FAILED", "user-approve")

    @pytest.mark.parametrize(
        ("ended", "timed_out"),
        [({"decision": "reject"}, False), ({"Error": "States.Timeout", "Cause": "c"}, True)],
        ids=["decided", "timed-out"],
    )
    def test_sends_the_review_and_how_its_wait_ended(self, workflow: Workflow, ended, timed_out):
        variables = {**KNOWN, "approval": WAITING}
        answer = workflow.test(
            "ConcludeReview", ended, variables=variables, result=invoked(REFUSED)
        )
        assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "CreateResponse")
        step = state_machine.approval_input(payload(answer))
        assert (step.operation_id, step.outcome) == ("op-1", ReviewEnded("user-1", timed_out))
        assert answer["output"] == REFUSED


class TestCreateResponse:
    given = Given(CREATED)
    broken = ("USER_CREATE_RESPONSE_FAILED", "user-create-response")

    def test_records_the_outcome(self, workflow: Workflow):
        recorded = {"status": "SUCCEEDED", "recorded": True}
        answer = workflow.test("CreateResponse", CREATED, variables=KNOWN, result=invoked(recorded))
        assert answer["status"] == "SUCCEEDED"
        assert answer.get("nextState") == STATES["CreateResponse"].get("Next")  # the end, today
        step = state_machine.step_input(payload(answer))
        assert (step.operation_id, step.outcome) == ("op-1", Continue("user-1"))
        assert answer["output"] == recorded


class TestRecordFailure:
    given = Given(
        {}, variables={**KNOWN, "failure": FAILURE}, context={"State": {"EnteredTime": ENTERED}}
    )

    def test_writes_the_failure_while_the_operation_is_not_done(self, workflow: Workflow):
        answer = _test(workflow, "RecordFailure", result={})
        assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "StepFailed")
        update = answer["inspectionData"]["afterArguments"]
        assert update["Key"] == {"pk": {"S": "op-1"}}
        assert "#status IN (:pending, :running)" in update["ConditionExpression"]
        values = update["ExpressionAttributeValues"]
        assert values[":failed"] == {"S": "FAILED"} and values[":now"] == {"S": ENTERED}
        assert values[":error"] == {
            "M": {"code": {"S": FAILURE["code"]}, "message": {"S": FAILURE["message"]}}
        }
        # Marked for the sweeper to measure (no function runs here): in the sparse index the
        # adapter takes unmeasured failures from (tests/contract: the two agree).
        mark = f"{operations_table.UNMEASURED} = :unmeasured"
        assert mark in update["UpdateExpression"].split(" REMOVE ")[0]
        assert values[":unmeasured"] == {"S": operations_table.UNMEASURED_FAILURE}
        assert answer["output"] == FAILURE

    def test_an_operation_already_done_keeps_its_outcome(self, workflow: Workflow):
        answer = _test(workflow, "RecordFailure", error="DynamoDB.ConditionalCheckFailedException")
        assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "AlreadyRecorded")

    def test_a_failure_it_cannot_write_ends_where_the_sweeper_looks(self, workflow: Workflow):
        answer = _test(workflow, "RecordFailure", error="DynamoDB.ResourceNotFoundException")
        assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "OutcomeNotRecorded")


class TestStepFailed:
    def test_fails_the_execution_with_the_steps_code(self, workflow: Workflow):
        failure = {"code": "USER_REVIEW_FAILED", "message": "user-review-request failed: X"}
        answer = workflow.test("StepFailed", {}, variables={**KNOWN, "failure": failure})
        assert answer["status"] == "FAILED"
        assert (answer["error"], answer["cause"]) == (failure["code"], failure["message"])


class TestAlreadyRecorded:
    def test_succeeds(self, workflow: Workflow):
        answer = workflow.test("AlreadyRecorded", {"Error": "x"})
        assert answer["status"] == "SUCCEEDED" and "nextState" not in answer


class TestOutcomeNotRecorded:
    def test_fails_the_execution(self, workflow: Workflow):
        answer = workflow.test("OutcomeNotRecorded", {"Error": "x"})
        assert (answer["status"], answer["error"]) == ("FAILED", "OutcomeNotRecorded")


# Every task: each Catch and each retry policy, with what each state's class gives it.


def _test(workflow: Workflow, state: str, **mock: Any) -> dict[str, Any]:
    """The state run with what its class gives, its call mocked."""
    given: Given = _class_of(state).given
    return workflow.test(
        state, given.input, variables=given.variables, context=given.context, **mock
    )


class TestEveryLambdaTask:
    @pytest.mark.parametrize("state", _lambda_tasks())
    def test_a_bug_is_caught_without_retry_into_the_failure_recording(
        self, workflow: Workflow, state
    ):
        answer = _test(workflow, state, error="KeyError", retries=0)
        assert answer["error"] == "KeyError"
        if state in _after_the_response():
            # Not caught: RecordFailure would find the operation done and succeed, and the bug
            # would go unseen. The execution fails instead (WorkflowFailedAlarm).
            assert answer["status"] == "FAILED" and "nextState" not in answer
            return
        assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "RecordFailure")
        code, step = _class_of(state).broken
        assert assigned(answer)["failure"] == {"code": code, "message": f"{step} failed: KeyError"}


class TestEveryRetryPolicy:
    """https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html: a
    retrier waits IntervalSeconds x BackoffRate ^ (retries made), at most MaxDelaySeconds (a
    random time up to that with JitterStrategy FULL), MaxAttempts times; then the Catch."""

    @pytest.mark.parametrize(("state", "error"), _retried_errors())
    def test_below_the_limit_the_error_is_retriable_after_the_backoff(
        self, workflow: Workflow, state, error
    ):
        retrier = _retrier(state, error)
        for made in sorted({0, retrier["MaxAttempts"] - 1}):
            answer = _test(workflow, state, error=error, retries=made)
            assert (answer["error"], answer["status"]) == (error, "RETRIABLE"), made
            details = answer["inspectionData"]["errorDetails"]
            assert details["retryIndex"] == STATES[state]["Retry"].index(retrier)
            longest = min(
                retrier["IntervalSeconds"] * retrier["BackoffRate"] ** made,
                retrier.get("MaxDelaySeconds", sys.maxsize),
            )
            waited = details["retryBackoffIntervalSeconds"]
            if retrier.get("JitterStrategy") == "FULL":
                assert 0 <= waited <= longest
            else:
                assert waited == int(longest)

    @pytest.mark.parametrize(("state", "error"), _retried_errors())
    def test_at_the_limit_the_error_is_caught(self, workflow: Workflow, state, error):
        answer = _test(workflow, state, error=error, retries=_retrier(state, error)["MaxAttempts"])
        if state in _after_the_response():  # nothing to catch it: the execution fails
            assert (answer["error"], answer["status"]) == (error, "FAILED")
            return
        assert (answer["error"], answer["status"]) == (error, "CAUGHT_ERROR")
        catcher = STATES[state]["Catch"][answer["inspectionData"]["errorDetails"]["catchIndex"]]
        assert answer["nextState"] == catcher["Next"]
        assert {error, "States.ALL"} & set(catcher["ErrorEquals"])


def test_every_state_of_the_definition_is_tested():
    tested = {
        name.removeprefix("Test")
        for name, value in globals().items()
        if isinstance(value, type) and name.startswith("Test") and not name.startswith("TestEvery")
    }
    assert tested == set(DEFINITION["States"])
