"""The size limits and scopes of workflow variables, as AWS documents them (pure Python).

https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html: a variable's
value may take at most 256 KiB, one state's `Assign` at most 256 KiB in all, and the
variables an execution holds at most 10 MiB, each measured as UTF-8 JSON text. AWS's page
names no error for going over them; the engine fails the state with States.DataLimitExceeded,
the error AWS gives a state whose data exceeds its size quota (docs/jsonata.md).

Scopes (the same page): the states of a Parallel branch or a Map iteration read the
variables of the scopes around them but may not assign one of them; they hand data back
through their output only. A distributed Map's child executions read none of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from local.aws.stepfunctions.payloads import size

# Unicode Annex #31 identifiers, as AWS requires of a variable's name, at most 80 long.
_NAME: Final = re.compile(r"^[^\W\d]\w{0,79}$")
VARIABLE_BYTES: Final = 256 * 1024
ASSIGN_BYTES: Final = 256 * 1024
EXECUTION_BYTES: Final = 10 * 1024 * 1024


def name_problem(name: str) -> str | None:
    """Why AWS refuses a variable's name (the reserved `states`, or no identifier), in the
    words of its CreateStateMachine answer; None for a name it takes."""
    if name == "states":
        return "The variable name 'states' is reserved"
    if not _NAME.match(name):
        return f"The variable name '{name}' is not valid"
    return None


def over_limit(assigned: Mapping[str, Any], held: Mapping[str, Any]) -> str | None:
    """Why these assignments may not be made, given the variables already held; None if
    they may."""
    sizes = {name: size(value) for name, value in assigned.items()}
    for name, bytes_ in sizes.items():
        if bytes_ > VARIABLE_BYTES:
            return (
                f"The variable '{name}' has a size of {bytes_} bytes, exceeding the maximum of "
                f"{VARIABLE_BYTES} bytes for a variable."
            )
    if sum(sizes.values()) > ASSIGN_BYTES:
        return (
            f"The variables assigned by the state have a size of {sum(sizes.values())} bytes, "
            f"exceeding the maximum of {ASSIGN_BYTES} bytes for one Assign field."
        )
    kept = {name: value for name, value in held.items() if name not in assigned}
    total = sum(sizes.values()) + sum(size(value) for value in kept.values())
    if total > EXECUTION_BYTES:
        return (
            f"The variables of the execution have a size of {total} bytes, exceeding the "
            f"maximum of {EXECUTION_BYTES} bytes."
        )
    return None


def outer_scope_write(name: str) -> str:
    """The cause of a state's failure (States.Runtime) when it assigns a variable of an outer
    scope (the words are the engine's: no page or recording gives AWS's)."""
    return (
        f"The variable '{name}' belongs to an outer scope: a state of a Parallel branch or a "
        "Map iteration cannot assign it."
    )


# A state's assignments, evaluated and waiting for the state to exit (an Environment's):
# local/patches/jsonata.py makes them as it exits; TestState reports a failed state's.
_PENDING = "pending_assignments"


def pending(env: Any) -> dict[str, Any]:
    """The assignments the state running in `env` has evaluated and not yet made."""
    return dict(getattr(env, _PENDING, None) or {})


def set_pending(env: Any, assignments: Mapping[str, Any] | None) -> None:
    setattr(env, _PENDING, dict(assignments) if assignments else None)
