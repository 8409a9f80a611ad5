"""A JSONata expression in a numeric field (a Wait's `Seconds`, a Task's `TimeoutSeconds` and
`HeartbeatSeconds`, a Map's `MaxConcurrency`, `ToleratedFailureCount`,
`ToleratedFailurePercentage`, an ItemReader's `MaxItems`) must give a number in the field's
range, as AWS's pages state the ranges (local/aws/stepfunctions/numbers.py). moto truncated
what it got with int(): 1.5 waited 1 second, -1 was taken (an inline Map with a
MaxConcurrency of -1 hung), and a string failed with a Python ValueError as States.Runtime.
Here any other value fails the state with States.QueryEvaluationError at the field (the words
are ours, in the form of the engine's ItemBatcher limits: no page or recording gives AWS's).
Registered in local/patches/registry.py."""

from __future__ import annotations

import functools
import json
from typing import Any, Final

from moto.stepfunctions.parser.asl.eval.environment import Environment

from local.aws.stepfunctions.numbers import RANGES
from local.patches.hooks import Hooks
from local.patches.jsonata import query_evaluation_failure

# moto's class (whose method evaluates the expression) -> the field it reads (its range in
# numbers.py).
FIELDS: Final = {
    "SecondsJSONata": "Seconds",
    "TimeoutSecondsJSONata": "TimeoutSeconds",
    "HeartbeatSecondsJSONata": "HeartbeatSeconds",
    "MaxConcurrencyJSONata": "MaxConcurrency",
    "ToleratedFailureCountStringJSONata": "ToleratedFailureCount",
    "ToleratedFailurePercentageStringJSONata": "ToleratedFailurePercentage",
    "MaxItemsStringJSONata": "MaxItems",
}


def checked(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces the method of a JSONata numeric field that evaluates it (`(self, env)`,
    returning the number): the expression's value, checked against the field's range."""
    field = FIELDS[original.__qualname__.split(".")[0]]
    allowed = RANGES[field]

    @functools.wraps(original)
    def evaluate(self: Any, env: Environment) -> int | float:
        self.string_jsonata.eval(env=env)
        value = env.stack.pop()
        number = allowed.number(value)
        if number is None:
            location = getattr(self.string_jsonata, "aws_location", None) or field
            shown = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            cause = f"The value of the field '{field}' must be {allowed.requirement()}: {shown}"
            raise query_evaluation_failure(env, cause, location)
        return number

    return evaluate
