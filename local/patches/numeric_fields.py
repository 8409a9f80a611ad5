"""A JSONata expression in a numeric field (a Wait's `Seconds`, a Task's `TimeoutSeconds` and
`HeartbeatSeconds`, a Map's `MaxConcurrency`, `ToleratedFailureCount`,
`ToleratedFailurePercentage`, an ItemReader's `MaxItems`) must give a number in the field's
range, as AWS's state pages state the ranges ("an integer value from 0 to 99999999", state-
wait.html; "must be positive" for the timeouts, state-task.html; "between 0 and 100" for
the percentage, state-map-distributed.html). moto truncated what it got with int(): 1.5
waited 1 second, -1 was taken (an inline Map with a MaxConcurrency of -1 hung), and a string
failed with a Python ValueError as States.Runtime. Here any other value fails the state with
States.QueryEvaluationError at the field (the words are ours, in the form of the engine's
ItemBatcher limits: no page or recording gives AWS's). Registered in
local/patches/registry.py."""

from __future__ import annotations

import functools
import json
import math
from typing import Any, Final, NamedTuple

from moto.stepfunctions.parser.asl.eval.environment import Environment

from local.aws.stepfunctions.definitions import MOST_SECONDS
from local.patches.hooks import Hooks
from local.patches.jsonata import query_evaluation_failure


class _Field(NamedTuple):
    name: str
    least: float
    most: float
    integer: bool = True

    def requirement(self) -> str:
        kind = "an integer" if self.integer else "a number"
        return f"{kind} from {self.least:.0f} to {self.most:.0f}"  # bounds are whole numbers


# moto's class (whose method evaluates the expression) -> the field it reads.
FIELDS: Final = {
    "SecondsJSONata": _Field("Seconds", 0, MOST_SECONDS),
    "TimeoutSecondsJSONata": _Field("TimeoutSeconds", 1, MOST_SECONDS),
    "HeartbeatSecondsJSONata": _Field("HeartbeatSeconds", 1, MOST_SECONDS),
    "MaxConcurrencyJSONata": _Field("MaxConcurrency", 0, 2**31 - 1),
    "ToleratedFailureCountStringJSONata": _Field("ToleratedFailureCount", 0, 2**31 - 1),
    "ToleratedFailurePercentageStringJSONata": _Field("ToleratedFailurePercentage", 0, 100, False),
    "MaxItemsStringJSONata": _Field("MaxItems", 0, 100_000_000),
}


def _number(value: Any, field: _Field) -> int | float | None:
    """The field's value, if the expression gave one in its range (an integral float is the
    integer it equals: JSONata's numbers are doubles)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if field.integer:
        if value != int(value):
            return None
        value = int(value)
    return value if field.least <= value <= field.most else None


def checked(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces the method of a JSONata numeric field that evaluates it (`(self, env)`,
    returning the number): the expression's value, checked against the field's range."""
    field = FIELDS[original.__qualname__.split(".")[0]]

    @functools.wraps(original)
    def evaluate(self: Any, env: Environment) -> int | float:
        self.string_jsonata.eval(env=env)
        value = env.stack.pop()
        number = _number(value, field)
        if number is None:
            location = getattr(self.string_jsonata, "aws_location", None) or field.name
            shown = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            cause = f"The value of the field '{field.name}' must be {field.requirement()}: {shown}"
            raise query_evaluation_failure(env, cause, location)
        return number

    return evaluate
