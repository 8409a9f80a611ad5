"""The workflow's paths, derived from its definition: the states a test expects an execution to
enter, so that a step added to statemachine/ changes the expectations with it (only the tests
about the path's length or cost name it).

    succeeded()            a user created, or refused (a refusal is an outcome the steps pass on)
    reviewed()             through the wait for a person (REVIEW_WAIT) and back
    broken_at(state)       a step that broke after its retries there, then the failure recording

The walk is benchmarks.model.workflow_path's, the one `make cost` prices.
"""

from __future__ import annotations

from typing import Any

from benchmarks.model import success_path, workflow_path
from infra.definition import workflow_definition

DEFINITION: dict[str, Any] = workflow_definition()
STATES: dict[str, dict[str, Any]] = DEFINITION["States"]
# The callback task that waits for a reviewer, and the Choice that sends an operation there.
(REVIEW_WAIT,) = [
    name
    for name, state in STATES.items()
    if str(state.get("Resource", "")).endswith(".waitForTaskToken")
]
(REVIEW_CHOICE,) = [
    name
    for name, state in STATES.items()
    if any(rule["Next"] == REVIEW_WAIT for rule in state.get("Choices", []))
]
NO_REVIEW: str = STATES[REVIEW_CHOICE]["Default"]


def succeeded() -> list[str]:
    return success_path(DEFINITION)


def reviewed() -> list[str]:
    return workflow_path(DEFINITION, reviewed=True)


def broken_at(state: str) -> list[str]:
    """A step that broke after its retries at `state` (on the review's detour if it is there)."""
    return workflow_path(DEFINITION, reviewed=state not in succeeded(), broken_at=state)


# Where a broken step's Catch leads: the state that records the failure.
RECORD_FAILURE = broken_at(DEFINITION["StartAt"])[1]
