"""Take the waste out of moto's hot paths (emulator speed, same behaviour).

Profiling a local run (yappi, wall clock) showed, per operation: the ASL definition
re-parsed by ANTLR (~16 ms); a new boto3 client built for every task (tens of ms, plus a
fresh connection); every JSONPath of the ASL compiled anew, each building a yacc parser
(~1.4 ms, ~18 per execution); and every request to moto listing its handler class's methods
with inspect (~1.5 ms). All are pure functions of their inputs, so they are cached: the
parsed program per definition text (evaluation state lives in each execution's own
Environment, not in the parsed components), compiled JSONPaths per path, one client per
service and region, and method names per class.

And one cost that grows: moto backs up every table a transaction touches with a deep copy
of the whole table, so TransactWriteItems took 5 ms on an empty users table and 93 ms after
800 users, under the lock that serialises DynamoDB. Since that lock (local/state/lock.py)
means only the transaction's own items can change before a rollback, the backup shares
every other item and deep-copies only those.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import os
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient
from botocore.config import Config
from moto.core.models import botocore_stubber
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.settings import moto_server_port

if TYPE_CHECKING:
    from local.patches.hooks import Hooks


class SharedClients:
    """One boto3 client per service, region and door (in-process or the server's port)."""

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], BaseClient] = {}
        self._lock = threading.Lock()

    def get(self, region: str, service: str) -> BaseClient:
        import boto3

        in_process = botocore_stubber.enabled
        key = (region, service, in_process, moto_server_port())
        with self._lock:
            if key not in self._clients:
                self._clients[key] = boto3.client(
                    service,  # type: ignore[call-overload]  # any service a task names
                    region_name=region,
                    aws_access_key_id="ak",
                    aws_secret_access_key="sk",
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        max_pool_connections=50,
                    ),
                    endpoint_url=None if in_process else _endpoint(),
                )
            return self._clients[key]


# Clients hold no state of a stack (the key names the door they go through): one set for the
# process serves every stack it starts.
CLIENTS = SharedClients()


def _endpoint() -> str:
    # The local stack's server listens on MOTO_HOST; moto's own default, "localhost", may
    # try ::1 first on every new connection.
    return f"http://{os.environ.get('MOTO_HOST', '127.0.0.1')}:{moto_server_port()}"


def shared_client(original: Any, hooks: Hooks, name: str) -> Callable[..., BaseClient]:
    """Replaces moto's boto_client_for(region, service, state_credentials)."""

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> BaseClient:
        return CLIENTS.get(region, service)

    return boto_client_for


# One cache per function for the process: a pure function's results outlive the patches, so
# the next stack in the same process (a test's) does not parse the same ASL again.
_memos: dict[Any, Any] = {}


def memoised(original: Any, hooks: Hooks, name: str) -> Any:
    """A pure function of hashable arguments, cached (bounded) for the process."""
    if original not in _memos:
        _memos[original] = functools.lru_cache(maxsize=1024)(original)
    return _memos[original]


_touched: contextvars.ContextVar[dict[str, set[Any]]] = contextvars.ContextVar("touched")


def _touched_hash_keys(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> dict[str, set[Any]]:
    touched: dict[str, set[Any]] = {}
    for entry in transact_items:
        (operation,) = entry.values()
        table = backend.tables.get(operation.get("TableName", ""))
        if table is None:
            continue
        key = operation.get("Key") or operation.get("Item") or {}
        if table.hash_key_attr in key:
            touched.setdefault(table.name, set()).add(DynamoType(key[table.hash_key_attr]))
    return touched


def _table_backup(table: Any) -> Any:
    """A table whose untouched items are shared and whose touched items are copies."""
    backup = copy.copy(table)
    backup.items = copy.copy(table.items)  # a dict, or local/patches/packed_items.py's mapping
    for hash_key in _touched.get({}).get(table.name, ()):
        if hash_key in table.items:
            backup.items[hash_key] = copy.deepcopy(table.items[hash_key])
    return backup


def _deepcopy(value: Any, memo: Any = None) -> Any:
    if isinstance(value, Table) and _touched.get(None) is not None:
        return _table_backup(value)
    return copy.deepcopy(value, memo)


def transaction_backup(original: Any, hooks: Hooks, name: str) -> Any:
    """transact_write_items notes the items it touches; the `copy` moto's DynamoDB models use
    then backs up only those."""
    if name == "copy":
        return SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)

    @functools.wraps(original)
    def transact(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        token = _touched.set(_touched_hash_keys(self, transact_items))
        try:
            return original(self, transact_items)
        finally:
            _touched.reset(token)

    return transact
