"""The state machine's data (statemachine/user_create.asl.json): the execution input, and what
each step receives and hands back. The step handlers in app.py translate with these; the
services see only domain objects.

    execution input   {"operationId", "email", "name"}
    a step's outcome  {"userId": ...}, or {"refusal": {"code", "message"}} (a business refusal,
                      passed through by the steps after it and recorded by the last)
    user-approve and  {"operationId", "outcome": <the previous step's outcome>}
    user-create-response receive
    user-create-response returns {"status": "SUCCEEDED" | "FAILED", "error"?, "recorded"}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.errors import ErrorCode
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import OperationError, OperationStatus, UserRequest
from chalicelib.services.steps import Continue, Outcome


@dataclasses.dataclass(frozen=True)
class StepInput:
    """What user-approve and user-create-response receive."""

    operation_id: str
    outcome: Outcome


def execution_input(event: OperationRequested) -> dict[str, Any]:
    return {
        "operationId": event.operation_id,
        "email": event.request.email,
        "name": event.request.name,
    }


def operation_id(payload: Mapping[str, Any]) -> str | None:
    """The operation a step works for: its correlation id in the logs."""
    found = payload.get("operationId")
    return found if isinstance(found, str) else None


def create_input(payload: Mapping[str, Any]) -> OperationRequested:
    """What user-create receives: the execution input."""
    return OperationRequested(
        str(payload["operationId"]), UserRequest(payload["email"], payload["name"])
    )


def step_input(payload: Mapping[str, Any]) -> StepInput:
    return StepInput(str(payload["operationId"]), _outcome_from(payload["outcome"]))


def outcome_payload(outcome: Outcome) -> dict[str, Any]:
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
