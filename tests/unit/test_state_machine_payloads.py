"""What the state machine hands the steps and takes back (chalicelib/adapters/state_machine.py)."""

import pytest

from chalicelib.adapters import state_machine
from chalicelib.domain.errors import ErrorCode
from chalicelib.domain.operations import OperationError
from chalicelib.services.steps import Continue, ReviewEnded
from tests.builders import an_event

pytestmark = pytest.mark.unit

REFUSAL = OperationError(ErrorCode.EMAIL_ALREADY_REGISTERED, "the email is already registered")


def test_the_execution_input_is_what_user_create_receives():
    event = an_event(operation_id="op-1", email="ada@example.org", name="Ada")
    payload = state_machine.execution_input(event)
    assert payload == {"operationId": "op-1", "email": "ada@example.org", "name": "Ada"}
    assert state_machine.create_input(payload) == event
    assert state_machine.operation_id(payload) == "op-1"


@pytest.mark.parametrize("outcome", [Continue("user-1"), REFUSAL])
def test_outcomes_travel_to_the_next_step_unchanged(outcome):
    payload = {"operationId": "op-1", "outcome": state_machine.outcome_payload(outcome)}
    assert state_machine.step_input(payload) == state_machine.StepInput("op-1", outcome)


def test_a_refusal_reads_as_the_catalogue_code():
    assert state_machine.outcome_payload(REFUSAL) == {
        "refusal": {
            "code": "EMAIL_ALREADY_REGISTERED",
            "message": "the email is already registered",
        }
    }
    unknown = {"operationId": "op-1", "outcome": {"refusal": {"code": "NOPE", "message": "x"}}}
    with pytest.raises(ValueError, match="NOPE"):
        state_machine.step_input(unknown)


def test_the_last_step_answers_with_what_it_recorded():
    assert state_machine.recorded_payload(Continue("user-1"), True) == {
        "status": "SUCCEEDED",
        "recorded": True,
    }
    assert state_machine.recorded_payload(REFUSAL, False) == {
        "status": "FAILED",
        "error": {"code": "EMAIL_ALREADY_REGISTERED", "message": "the email is already registered"},
        "recorded": False,
    }


def test_a_payload_without_an_operation_has_no_correlation_id():
    assert state_machine.operation_id({}) is None
    assert state_machine.operation_id({"operationId": 7}) is None


@pytest.mark.parametrize("timed_out", [False, True])
def test_a_review_started_by_the_previous_definition_concludes_too(timed_out):
    """Executions waiting in a review across a deploy run the definition they started with,
    which handed the wait's end inside the outcome (review.ended); the new one beside it."""
    ended = {"Error": "States.Timeout", "Cause": "x"} if timed_out else {"decision": "approve"}
    waiting = {"userId": "user-1", "review": {"timeoutSeconds": 60}}
    previous = {
        "operationId": "op-1",
        "outcome": {"userId": "user-1", "review": {"timeoutSeconds": 60, "ended": ended}},
    }
    current = {"operationId": "op-1", "outcome": waiting, "reviewEnded": ended}
    assert state_machine.approval_input(previous) == state_machine.approval_input(current)
    assert state_machine.approval_input(current).outcome == ReviewEnded("user-1", timed_out)
