"""Make moto's DynamoDB item operations atomic, as DynamoDB's are.

moto evaluates a condition and applies the write without a lock, so two threads can both
pass `attribute_not_exists(pk)` and both write: two winners where DynamoDB allows one; and a
read that serialises an item while a write changes it fails ("dictionary changed size during
iteration"). Serialising item operations restores the guarantees the service relies on.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "get_item",
    "query",
    "scan",
    "transact_get_items",
)
_lock = threading.RLock()


def _serialised(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return write(*args, **kwargs)

    return locked


@contextlib.contextmanager
def atomic_writes() -> Iterator[None]:
    originals = {name: getattr(DynamoDBBackend, name) for name in _WRITES}
    for name, write in originals.items():
        setattr(DynamoDBBackend, name, _serialised(write))
    try:
        yield
    finally:
        for name, write in originals.items():
            setattr(DynamoDBBackend, name, write)
