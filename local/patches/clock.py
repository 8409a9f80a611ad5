"""Stand-ins for the `time`, `threading` and `datetime` modules inside moto's Step Functions
modules, so that their sleeps, timed waits and timestamps follow the emulator's clock
(local/state/clock.py)."""

from __future__ import annotations

import datetime as datetime_module
import threading
import time
from datetime import datetime, tzinfo
from typing import Any

from local.patches.hooks import Hooks
from local.state.clock import Clock, ClockEvent


class ClockTime:
    """Stands in for the `time` module inside a patched moto module."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def sleep(self, seconds: float) -> None:
        self._clock.sleep(seconds)

    def time(self) -> float:
        return self._clock.time()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class ClockThread(threading.Thread):
    """threading.Thread whose timed join() counts the clock's seconds: moto's program joins
    its worker thread with the state machine's TimeoutSeconds."""

    def __init__(self, clock: Clock, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ended = ClockEvent(clock)

    def run(self) -> None:
        try:
            super().run()
        finally:
            self._ended.set()

    def join(self, timeout: float | None = None) -> None:
        if timeout is not None and not self._ended.wait(timeout):
            return  # still running once the clock's timeout has passed, as join() leaves it
        super().join()  # ended, or about to: is_alive() is False once this returns


class ClockThreading:
    """Stands in for the `threading` module inside a patched moto module: Event and Thread
    are the clock's."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def Event(self) -> ClockEvent:
        return ClockEvent(self._clock)

    def Thread(self, *args: Any, **kwargs: Any) -> ClockThread:
        return ClockThread(self._clock, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


def clock_datetime_module(clock: Clock) -> Any:
    """Stands in for the `datetime` module inside a patched moto module: now() is the clock's."""

    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return clock.now(tz)

    class Module:
        datetime = ClockDatetime

        def __getattr__(self, name: str) -> Any:
            return getattr(datetime_module, name)

    return Module()


# Factories for the registry: (moto's original, hooks, attribute name) -> replacement.


def patch_time(original: Any, hooks: Hooks, name: str) -> ClockTime:
    return ClockTime(hooks.clock)


def patch_waits(original: Any, hooks: Hooks, name: str) -> Any:
    if name == "threading":
        return ClockThreading(hooks.clock)
    if name == "time":
        return ClockTime(hooks.clock)
    return hooks.clock.event  # callback.Event: a class moto calls with no arguments


def patch_datetime(original: Any, hooks: Hooks, name: str) -> Any:
    return clock_datetime_module(hooks.clock)
