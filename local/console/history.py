"""An execution's history (GetExecutionHistory's events) read as the states it went through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

# History event types whose details carry an error.
_FAILURE_DETAILS = (
    "taskFailedEventDetails",
    "lambdaFunctionFailedEventDetails",
    "taskTimedOutEventDetails",
    "executionFailedEventDetails",
)


def millis(start: datetime | None, stop: datetime | None) -> int | None:
    """Milliseconds from start to stop; None until both are known."""
    if start is None or stop is None:
        return None
    return round((stop - start).total_seconds() * 1000)


def steps_from(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per state visited: timing, input/output, the variables it assigned (the
    state-exit event's `assignedVariables`: each name with its value as JSON text; and
    `variablesTruncated` when Step Functions cut them short), attempts and errors."""
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
            current["variables"] = details.get("assignedVariables") or {}
            if details.get("assignedVariablesDetails", {}).get("truncated"):
                current["variablesTruncated"] = True
            current["durationMs"] = millis(current["entered"], event["timestamp"])
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
