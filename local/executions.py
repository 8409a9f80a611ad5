"""The Step Functions console's job, locally: executions and their step-by-step history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.workflows import execution_arn

# History event types whose details carry an error.
_FAILURE_DETAILS = (
    "taskFailedEventDetails",
    "lambdaFunctionFailedEventDetails",
    "taskTimedOutEventDetails",
    "executionFailedEventDetails",
)


def _millis(start: datetime | None, stop: datetime | None) -> int | None:
    if start is None or stop is None:
        return None
    return round((stop - start).total_seconds() * 1000)


class ExecutionsView:
    def __init__(self, stepfunctions: Any, state_machine_arn: str) -> None:
        self._sfn = stepfunctions
        self._state_machine_arn = state_machine_arn

    def listing(self, limit: int = 100) -> list[dict[str, Any]]:
        executions = self._sfn.list_executions(
            stateMachineArn=self._state_machine_arn, maxResults=limit
        )["executions"]
        return [
            {
                "operationId": e["name"],
                "status": e["status"],
                "startDate": e["startDate"].isoformat(),
                "stopDate": e["stopDate"].isoformat() if e.get("stopDate") else None,
                "durationMs": _millis(e["startDate"], e.get("stopDate")),
                "operation": f"/operations/{e['name']}",
                "history": f"/_local/executions/{e['name']}",
            }
            for e in sorted(executions, key=lambda e: e["startDate"], reverse=True)
        ]

    def history(self, operation_id: str) -> dict[str, Any] | None:
        arn = execution_arn(self._state_machine_arn, operation_id)
        try:
            execution = self._sfn.describe_execution(executionArn=arn)
        except self._sfn.exceptions.ExecutionDoesNotExist:
            return None
        events = self._sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return {
            "operationId": operation_id,
            "operation": f"/operations/{operation_id}",
            "status": execution["status"],
            "startDate": execution["startDate"].isoformat(),
            "durationMs": _millis(execution["startDate"], execution.get("stopDate")),
            "input": execution.get("input"),
            "output": execution.get("output"),
            "error": execution.get("error"),
            "cause": execution.get("cause"),
            "steps": steps_from(events),
        }


def steps_from(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per state visited: timing, input/output, attempts and errors."""
    steps: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            current = {
                "state": details["name"],
                "type": kind.removesuffix("StateEntered"),
                "entered": event["timestamp"],
                "input": details.get("input"),
                "attempts": 0,
                "errors": [],
            }
            steps.append(current)
        elif current is None:
            continue
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled"):
            current["attempts"] += 1
        elif kind.endswith("StateExited"):
            details = event["stateExitedEventDetails"]
            current["output"] = details.get("output")
            current["durationMs"] = _millis(current["entered"], event["timestamp"])
        else:
            for key in _FAILURE_DETAILS:
                if key in event:
                    current["errors"].append(
                        {"error": event[key].get("error"), "cause": event[key].get("cause")}
                    )
    for step in steps:
        step["entered"] = step["entered"].isoformat()
        step["retries"] = max(0, step["attempts"] - 1)
    return steps
