"""The emulator's one lock over moto's DynamoDB and Kinesis backends.

moto applies their operations without locks; the patches that make them atomic
(local/patches/atomicity.py) run each under this lock, and whatever else reads or rewrites
those backends whole (the --state snapshot, the housekeeping's trim of the stream) holds it too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

LOCK = threading.RLock()


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """No serialised operation runs until the block ends."""
    with LOCK:
        yield
