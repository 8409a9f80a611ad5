"""What AWS does on a schedule, done for the local stack on the emulator's clock: the sweeper
runs every minute (its `@app.schedule`), and what moto would keep for ever is forgotten."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from local.clock import Clock

logger = logging.getLogger(__name__)
SWEEP_EVERY_SECONDS = 60.0


class Janitor:
    def __init__(self, system: Any, keep_executions: int) -> None:
        self._system = system
        self._clock: Clock = system.clock
        self._keep = keep_executions
        self._next_sweep = self._clock.time() + SWEEP_EVERY_SECONDS

    def tick(self) -> None:
        """Trim, and run the sweeper if its time has come (emulated time)."""
        trim_executions(self._keep)
        if self._clock.time() >= self._next_sweep:
            self._next_sweep = self._clock.time() + SWEEP_EVERY_SECONDS
            self.invoke_sweeper()

    def run(self, stop: threading.Event) -> None:
        """The janitor thread: a tick every 2 emulated seconds (at least 20 a second)."""
        speed = self._clock.speed or 1.0
        while not stop.wait(max(0.05, 2.0 / speed)):
            try:
                self.tick()
            except Exception:
                logger.exception("janitor failed; it carries on")

    def invoke_sweeper(self) -> Any:
        """The scheduled event EventBridge sends, at the emulated time."""
        system = self._system
        event = {
            "version": "0",
            "id": "local-schedule",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": self._clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": system.session.region_name,
            "resources": [],
            "detail": {},
        }
        response = system.session.client("lambda").invoke(
            FunctionName=system.resources.functions["sweeper"], Payload=json.dumps(event)
        )
        return json.loads(response["Payload"].read())


def trim_executions(keep: int) -> int:
    """Forget the oldest finished executions beyond `keep` per state machine."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    removed = 0
    for account in list(stepfunctions_parser_backends.values()):
        for backend in list(account.values()):
            for machine in list(backend.state_machines):
                executions = list(machine.executions)
                finished = [e for e in executions if e.status != "RUNNING"]
                if len(finished) <= keep:
                    continue
                finished.sort(key=lambda e: e.start_date)
                forget = {id(e) for e in finished[: len(finished) - keep]}
                machine.executions[:] = [e for e in executions if id(e) not in forget]
                removed += len(forget)
    return removed
