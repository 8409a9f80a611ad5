"""The emulator's clock: the time that Step Functions' waits, retries, timeouts and history obey.

moto's interpreter sleeps and waits in real time: a retry's backoff, a Wait state, a task's
TimeoutSeconds, a callback's HeartbeatSeconds. Routed through this clock (by the stand-ins for
moto's `time`, `threading` and `datetime` in local/patches/clock.py), they follow emulated
time, which the app's own timestamps share (chalicelib/clock.py):

- real time (`make run`, the default): one emulated second per second;
- faster time (`make run ARGS="--speed 60"`): a minute per second, for watching a long
  workflow finish;
- test time (`skip_sleeps`): time flows, a sleep (a retry's backoff, a Wait state's pause)
  moves the clock forward at once instead of waiting, and `advance()` jumps: a 24-hour
  timeout fires when a test advances the clock by 24 hours, not after a day.

Waiting uses `ClockEvent`, a `threading.Event` whose timed `wait` counts emulated seconds: the
interpreter's own events (a task finishing, a callback arriving) still wake their waiter at
once; only the timeout is the clock's.
"""

from __future__ import annotations

import threading
import time
import weakref
from datetime import UTC, datetime, timedelta, tzinfo


class Clock:
    """Emulated time: `speed` emulated seconds per real second, plus what advance() added."""

    def __init__(self, speed: float = 1.0, skip_sleeps: bool = False) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.skip_sleeps = skip_sleeps
        self._lock = threading.Lock()
        self._base = time.time()
        self._real_base = time.monotonic()
        self._offset = 0.0  # emulated seconds added by advance() (and skipped sleeps)
        self._waiters: weakref.WeakSet[ClockEvent] = weakref.WeakSet()

    def time(self) -> float:
        """Emulated seconds since the epoch, like time.time()."""
        return self._base + (time.monotonic() - self._real_base) * self.speed + self._offset

    def wall(self, emulated: float) -> float:
        """The wall-clock time (time.time()) at which the clock read `emulated` (exact unless
        advance() moved it since)."""
        return self._base + (emulated - self._base - self._offset) / self.speed

    def now(self, tz: tzinfo | None = UTC) -> datetime:
        """Emulated now, like datetime.now(tz) (naive local time when tz is None)."""
        return datetime.fromtimestamp(self.time(), tz)

    def advance(self, by: float | timedelta) -> None:
        """Moves emulated time forward and wakes every wait whose timeout has come."""
        seconds = by.total_seconds() if isinstance(by, timedelta) else float(by)
        if seconds < 0:
            raise ValueError("the clock does not go back")
        with self._lock:
            self._offset += seconds
            waiters = list(self._waiters)
        for event in waiters:
            event.wake()

    def sleep(self, seconds: float) -> None:
        """Sleeps in emulated time; with skip_sleeps, moves the clock instead of waiting."""
        if seconds <= 0:
            return
        if self.skip_sleeps:
            self.advance(seconds)
        else:
            time.sleep(seconds / self.speed)

    def waiting(self) -> int:
        """How many timed waits are under way on this clock (tests advance it once the waits
        they mean to time out have begun)."""
        with self._lock:
            return len(self._waiters)

    def event(self) -> ClockEvent:
        return ClockEvent(self)

    def _register(self, event: ClockEvent) -> None:
        with self._lock:
            self._waiters.add(event)

    def _unregister(self, event: ClockEvent) -> None:
        with self._lock:
            self._waiters.discard(event)


class ClockEvent:
    """threading.Event's interface; a timed wait() counts the clock's seconds.

    wait() returns True as soon as set() is called during it, even if clear() follows at once
    (moto's interpreter signals a stopping execution with set() then clear()).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._condition = threading.Condition(threading.Lock())
        self._flag = False
        self._sets = 0

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set

    def set(self) -> None:
        with self._condition:
            self._flag = True
            self._sets += 1
            self._condition.notify_all()

    def clear(self) -> None:
        with self._condition:
            self._flag = False

    def wake(self) -> None:
        """The clock moved: waiters check their timeout again."""
        with self._condition:
            self._condition.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        clock = self._clock
        with self._condition:
            if self._flag:
                return True
            sets = self._sets
            if timeout is None:
                while self._sets == sets:
                    self._condition.wait()
                return True
            deadline = clock.time() + timeout
            clock._register(self)
            try:
                while self._sets == sets:
                    remaining = deadline - clock.time()
                    if remaining <= 0:
                        return False
                    # advance() wakes this wait to look at the clock again.
                    self._condition.wait(remaining / clock.speed)
                return True
            finally:
                clock._unregister(self)
