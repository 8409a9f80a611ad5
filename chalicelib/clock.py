"""The time the service reads, from one place.

On AWS it is the system clock. The local stack and the tests point it at the emulator's clock
(local/state/clock.py), so that the app's timestamps and the emulated services' agree, also when a
test moves time forward or `make run --speed` runs it faster.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """Now, in UTC."""
    return _source() if _source is not None else datetime.now(UTC)


def set_source(source: Callable[[], datetime] | None) -> None:
    """Read time from `source` from now on (None: the system clock)."""
    global _source
    _source = source
