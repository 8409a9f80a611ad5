"""The TaskCallbacks port (chalicelib/services/ports.py): FakeCallbacks and
StepFunctionsCallbacks keep the same promises. The adapter's side resumes real executions on
the emulator, waiting in a .waitForTaskToken task, on the emulator's clock.

SendTaskSuccess's errors,
https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html:
TaskTimedOut (the token expired, or its task already closed), TaskDoesNotExist and
InvalidToken: no task waits with the token. ThrottlingException is among the common errors,
https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html.
"""

from __future__ import annotations

import uuid

import pytest

from chalicelib.domain.errors import TransientError
from chalicelib.domain.reviews import Decision, ReviewDecision, TaskToken
from tests.contract.conftest import Waits

APPROVE = ReviewDecision(Decision.APPROVE)


@pytest.mark.parametrize(
    ("decision", "continued_with"),
    [
        (APPROVE, {"decision": "approve"}),
        (ReviewDecision(Decision.REJECT, "looks like a bot"), {"decision": "reject"}),
    ],
)
def test_a_waiting_workflow_is_resumed_once_with_the_decision(
    waits: Waits, decision: ReviewDecision, continued_with: dict[str, str]
) -> None:
    token = waits.wait()
    assert waits.callbacks.resume(token, decision) is True
    assert waits.continued_with(token) == continued_with
    # Its wait is over: the execution went on with the decision, and ended.
    assert waits.callbacks.resume(token, decision) is False


def test_a_wait_that_timed_out_is_not_resumed(waits: Waits) -> None:
    token = waits.wait()
    waits.time_out(token)
    assert waits.callbacks.resume(token, APPROVE) is False


def test_a_token_no_workflow_waits_with_is_not_resumed(waits: Waits) -> None:
    waits.wait()  # another workflow waits
    assert waits.callbacks.resume(TaskToken(uuid.uuid4().hex), APPROVE) is False


def test_a_throttled_service_is_a_transient_error_and_the_workflow_still_waits(
    waits: Waits,
) -> None:
    token = waits.wait()
    with waits.throttled(), pytest.raises(TransientError):
        waits.callbacks.resume(token, APPROVE)
    assert waits.callbacks.resume(token, APPROVE) is True  # a retry later gets through
    assert waits.continued_with(token) == {"decision": "approve"}
