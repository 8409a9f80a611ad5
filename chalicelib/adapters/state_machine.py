"""The state machine's data (statemachine/user_create.asl.json): the execution input, and what
each step receives and hands back. The step handlers in app.py translate with these; the
services see only domain objects. The ASL passes the request whole (never field by field), so
a field the request gains, or an optional one it lacks, travels or stays absent on its own.

    execution input   the request: {"operationId", "email", "name", ...} (execution_input, the
                      request as chalicelib/codecs.py writes it); the
                      state machine keeps it as $request
    user-create       receives the request
    a step's outcome  {"userId": ...}, or {"refusal": {"code", "message"}} (a business refusal,
                      passed through by the steps after it and recorded by the last); each
                      step's output, the next one's input
    user-approve and  {"operationId", "outcome": <the previous step's outcome>}
    user-create-response receive
    user-create-response returns {"status": "SUCCEEDED" | "FAILED", "error"?, "recorded"}: the
                      execution's output

Human review (user-approve leaves the user to a person):
    user-approve returns {"userId", "review": {"timeoutSeconds"}}; the state machine keeps it
                      as $approval and waits in a callback task
    user-review-request receives the request and {"userId", "timeoutSeconds", "taskToken"}
                      merged in (the task token that resumes the wait)
    the wait ends     with {"decision": "approve" | "reject"} (SendTaskSuccess), or the error
                      that ended it ({"Error": "States.Timeout" | "ReviewClosed", "Cause"})
    user-approve then receives {"operationId", "outcome": <$approval>, "reviewEnded": <how the
                      wait ended>} and returns a step's outcome
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib import codecs
from chalicelib.domain.errors import ErrorCode
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import OperationError, OperationStatus
from chalicelib.domain.reviews import ReviewDecision, TaskToken
from chalicelib.services.steps import AwaitReview, Continue, Outcome, ReviewEnded, ReviewRequested

# The error name Step Functions gives a task that ran out of time.
_TIMED_OUT = "States.Timeout"


@dataclasses.dataclass(frozen=True)
class StepInput:
    """What user-create-response receives."""

    operation_id: str
    outcome: Outcome


@dataclasses.dataclass(frozen=True)
class ApprovalInput:
    """What user-approve receives: the outcome before it, or the end of a wait for a review."""

    operation_id: str
    outcome: Outcome | ReviewEnded


def execution_input(event: OperationRequested) -> dict[str, Any]:
    """The operation's id and its request, as chalicelib/codecs.py writes it."""
    return {"operationId": event.operation_id, **codecs.encode_request(event.request)}


def operation_id(payload: Mapping[str, Any]) -> str | None:
    """The operation a step works for: its correlation id in the logs."""
    found = payload.get("operationId")
    return found if isinstance(found, str) else None


def create_input(payload: Mapping[str, Any]) -> OperationRequested:
    """What user-create receives: the execution input."""
    return OperationRequested(str(payload["operationId"]), codecs.decode_request(payload))


def step_input(payload: Mapping[str, Any]) -> StepInput:
    outcome = payload["outcome"]
    if "review" in outcome:
        raise ValueError("an outcome still waiting for a review cannot be recorded")
    return StepInput(str(payload["operationId"]), _outcome_from(outcome))


def approval_input(payload: Mapping[str, Any]) -> ApprovalInput:
    outcome = payload["outcome"]
    if "review" not in outcome:
        return ApprovalInput(str(payload["operationId"]), _outcome_from(outcome))
    # Executions the previous definition started (JSONPath, before a deploy) still wait in a
    # review, and hand the wait's end inside the outcome: they conclude all the same.
    ended = payload["reviewEnded"] if "reviewEnded" in payload else outcome["review"]["ended"]
    timed_out = isinstance(ended, Mapping) and ended.get("Error") == _TIMED_OUT
    return ApprovalInput(
        str(payload["operationId"]), ReviewEnded(str(outcome["userId"]), timed_out)
    )


def review_request(payload: Mapping[str, Any]) -> tuple[ReviewRequested, TaskToken]:
    """What user-review-request receives: the review to ask for, and the task's token."""
    asked = create_input(payload)
    requested = ReviewRequested(
        operation_id=asked.operation_id,
        user_id=str(payload["userId"]),
        request=asked.request,
        timeout_seconds=int(payload["timeoutSeconds"]),
    )
    return requested, TaskToken(str(payload["taskToken"]))


def review_result(decision: ReviewDecision) -> dict[str, Any]:
    """What the waiting task returns when a decision wakes it (shown in its history); the
    decision itself is read from the review."""
    return {"decision": decision.decision.value}


def outcome_payload(outcome: Outcome | AwaitReview) -> dict[str, Any]:
    if isinstance(outcome, AwaitReview):
        return {"userId": outcome.user_id, "review": {"timeoutSeconds": outcome.timeout_seconds}}
    if isinstance(outcome, Continue):
        return {"userId": outcome.user_id}
    return {"refusal": _error_payload(outcome)}


def recorded_payload(outcome: Outcome, recorded: bool) -> dict[str, Any]:
    """user-create-response's answer, the execution's output: the outcome it recorded, and
    whether this call recorded it (False: the operation was already done)."""
    if isinstance(outcome, Continue):
        return {"status": OperationStatus.SUCCEEDED.value, "recorded": recorded}
    return {
        "status": OperationStatus.FAILED.value,
        "error": _error_payload(outcome),
        "recorded": recorded,
    }


def _error_payload(error: OperationError) -> dict[str, str]:
    return {"code": error.code, "message": error.message}


def _outcome_from(payload: Mapping[str, Any]) -> Outcome:
    if "refusal" in payload:
        refusal = payload["refusal"]
        return OperationError(ErrorCode(refusal["code"]), str(refusal["message"]))
    return Continue(str(payload["userId"]))
