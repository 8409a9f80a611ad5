"""Make moto's DynamoDB and Kinesis operations atomic, as the services' are.

moto applies them without locks. DynamoDB: two threads can both pass
`attribute_not_exists(pk)` and both write (two winners where DynamoDB allows one), and a read
that serialises an item while a write changes it fails ("dictionary changed size during
iteration"). Kinesis: two concurrent PutRecords can take the same sequence number, and one
record silently replaces the other (seen under load: an accepted operation's event lost).
Serialising these operations restores the guarantees the service relies on.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.patches import Engine

_lock = threading.RLock()


def serialised(original: Callable[..., Any], engine: Engine, name: str) -> Callable[..., Any]:
    """The operation, run under the one lock of the emulator's DynamoDB and Kinesis."""

    @functools.wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(*args, **kwargs)

    return locked


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """No serialised operation runs until the block ends."""
    with _lock:
        yield
