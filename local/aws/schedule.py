"""EventBridge's part: the app's scheduled functions (`@app.schedule(Rate(...))`) invoked when
due, on the emulator's clock, with the event EventBridge sends."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Rate
from chalice.app import ScheduledEventConfig

from local.state.clock import Clock

_SECONDS = {Rate.MINUTES: 60.0, Rate.HOURS: 3600.0, Rate.DAYS: 86400.0}


@dataclasses.dataclass
class Rule:
    function: str  # the Chalice name of the scheduled function
    every_seconds: float
    next_at: float  # emulated epoch seconds


def rules(app: Chalice, now: float) -> list[Rule]:
    """One rule per `@app.schedule` with a rate (the first run one period after the start, as
    EventBridge runs a new rate rule)."""
    found = []
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        expression = source.schedule_expression
        if not isinstance(expression, Rate):
            raise ValueError(f"the local stack runs rate schedules only, not {expression!r}")
        every = expression.value * _SECONDS[expression.unit]
        found.append(Rule(source.name, every, now + every))
    return found


class Schedule:
    """Invokes each rule's function when its time has come; `tick()` looks."""

    def __init__(
        self,
        app: Chalice,
        clock: Clock,
        region: str,
        account: str,
        invoke: Callable[[str, dict[str, Any]], Any],
    ) -> None:
        self._clock = clock
        self._region = region
        self._account = account
        self._invoke = invoke  # (Chalice function name, event) -> the function's answer
        self.rules = rules(app, clock.time())

    def tick(self) -> None:
        now = self._clock.time()
        for rule in self.rules:
            if now >= rule.next_at:
                rule.next_at = now + rule.every_seconds
                self.run(rule.function)

    def run(self, function: str) -> Any:
        """The scheduled event EventBridge sends, at the emulated time."""
        event = {
            "version": "0",
            "id": "local-schedule",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._account,
            "time": self._clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [],
            "detail": {},
        }
        return self._invoke(function, event)
