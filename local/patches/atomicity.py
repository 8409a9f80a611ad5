"""Make moto's DynamoDB and Kinesis operations atomic, as the services' are.

moto applies them without locks. DynamoDB: two threads can both pass
`attribute_not_exists(pk)` and both write (two winners where DynamoDB allows one), and a read
that serialises an item while a write changes it fails ("dictionary changed size during
iteration"). Kinesis: two concurrent PutRecords can take the same sequence number, and one
record silently replaces the other (seen under load: an accepted operation's event lost).
Serialising these operations (local/state/lock.py) restores the guarantees the service
relies on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from local.patches.hooks import Hooks
from local.state.lock import LOCK


def serialised(original: Callable[..., Any], hooks: Hooks, name: str) -> Callable[..., Any]:
    """The operation, run under the one lock of the emulator's DynamoDB and Kinesis."""

    @functools.wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return original(*args, **kwargs)

    return locked
