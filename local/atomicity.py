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
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.kinesis.models import KinesisBackend

_OPERATIONS: dict[type, tuple[str, ...]] = {
    DynamoDBBackend: (
        "put_item",
        "update_item",
        "delete_item",
        "transact_write_items",
        "get_item",
        "query",
        "scan",
        "transact_get_items",
    ),
    KinesisBackend: ("put_record", "put_records", "get_records"),
}
_lock = threading.RLock()


def _serialised(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return operation(*args, **kwargs)

    return locked


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """No serialised operation runs until the block ends."""
    with _lock:
        yield


@contextlib.contextmanager
def atomic_operations() -> Iterator[None]:
    originals = [
        (backend, name, getattr(backend, name))
        for backend, names in _OPERATIONS.items()
        for name in names
    ]
    for backend, name, operation in originals:
        setattr(backend, name, _serialised(operation))
    try:
        yield
    finally:
        for backend, name, operation in originals:
            setattr(backend, name, operation)
