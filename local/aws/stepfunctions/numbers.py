"""The ranges AWS gives a state's numeric fields, one owner for both moments they are checked:
a literal out of range is refused at CreateStateMachine (definitions.py), a JSONata
expression's value out of range fails the state at run time (local/patches/numeric_fields.py).

The ranges are those of AWS's pages and of AWS's own States Language schema
(aws/amazon-states-language-service, src/json-schema/bundled.json): a Wait's Seconds "an
integer value from 0 to 99999999" (state-wait.html); a Task's TimeoutSeconds and
HeartbeatSeconds "a positive, non-zero integer" (state-task.html), at most 99999999, the
heartbeat below the timeout; a retrier's IntervalSeconds a positive integer, MaxAttempts 0 to
99999999, BackoffRate at least 1, MaxDelaySeconds 1 to 31622400 (concepts-error-handling.html
and the schema); a Map's MaxConcurrency and ToleratedFailureCount at least 0, its
ToleratedFailurePercentage 0 to 100 (state-map-distributed.html); an ItemReader's MaxItems at
least 0, "up to 100,000,000" (input-output-itemreader.html). Where the pages give no upper
bound, the engine takes Java's largest int, as AWS's service runs on Java.
"""

from __future__ import annotations

import math
from typing import Any, Final, NamedTuple

_MOST_INT: Final = 2**31 - 1
MOST_SECONDS: Final = 99_999_999


class Range(NamedTuple):
    least: float
    most: float
    integer: bool = True

    def number(self, value: Any) -> int | float | None:
        """The value as the field's number, if it is one in the range (an integral float is the
        integer it equals: JSONata's numbers are doubles)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value):
            return None
        if self.integer:
            if value != int(value):
                return None
            value = int(value)
        return value if self.least <= value <= self.most else None

    def requirement(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if math.isinf(self.most):
            return f"{kind} of at least {self.least:.0f}"
        return f"{kind} from {self.least:.0f} to {self.most:.0f}"  # bounds are whole numbers


RANGES: Final = {
    "Seconds": Range(0, MOST_SECONDS),
    "TimeoutSeconds": Range(1, MOST_SECONDS),
    "HeartbeatSeconds": Range(1, MOST_SECONDS),
    "MaxConcurrency": Range(0, _MOST_INT),
    "ToleratedFailureCount": Range(0, _MOST_INT),
    "ToleratedFailurePercentage": Range(0, 100, integer=False),
    "MaxItems": Range(0, 100_000_000),
    "IntervalSeconds": Range(1, MOST_SECONDS),
    "MaxAttempts": Range(0, MOST_SECONDS),
    "BackoffRate": Range(1, math.inf, integer=False),
    "MaxDelaySeconds": Range(1, 31_622_400),
}
