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
800 users, under the lock that serialises DynamoDB. Since that lock (local/atomicity.py)
means only the transaction's own items can change before a rollback, the backup shares
every other item and deep-copies only those.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import importlib
import os
import threading
from collections import defaultdict
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from botocore.client import BaseClient
from botocore.config import Config
from moto.core.models import botocore_stubber
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client

# Modules that imported boto_client_for by name and call it per task.
_CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
)
_clients: dict[tuple[Any, ...], BaseClient] = {}
_lock = threading.Lock()


def _shared_client(region: str, service: str, state_credentials: Any = None) -> BaseClient:
    import boto3

    in_process = botocore_stubber.enabled
    key = (region, service, in_process, moto_server_port())
    with _lock:
        if key not in _clients:
            endpoint = {} if in_process else {"endpoint_url": _endpoint()}
            _clients[key] = boto3.client(
                service_name=service,
                region_name=region,
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
                config=Config(
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    max_pool_connections=50,
                ),
                **endpoint,
            )
        return _clients[key]


def _endpoint() -> str:
    # The local stack's server listens on MOTO_HOST; moto's own default, "localhost", may
    # try ::1 first on every new connection.
    return f"http://{os.environ.get('MOTO_HOST', '127.0.0.1')}:{moto_server_port()}"


# (module, attribute) of pure functions worth memoising.
_MEMOISED = (
    ("moto.stepfunctions.parser.asl.utils.json_path", "parse"),
    ("moto.stepfunctions.parser.asl.component.common.path.result_path", "parse"),
    ("moto.core.responses", "method_names_from_class"),
)


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
    backup.items = defaultdict(dict, table.items)
    for hash_key in _touched.get({}).get(table.name, ()):
        if hash_key in table.items:
            backup.items[hash_key] = copy.deepcopy(table.items[hash_key])
    return backup


def _deepcopy(value: Any, memo: Any = None) -> Any:
    if isinstance(value, Table) and _touched.get(None) is not None:
        return _table_backup(value)
    return copy.deepcopy(value, memo)


def _transact_write_items(original: Any) -> Any:
    @functools.wraps(original)
    def transact(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        token = _touched.set(_touched_hash_keys(self, transact_items))
        try:
            return original(self, transact_items)
        finally:
            _touched.reset(token)

    return transact


@contextlib.contextmanager
def faster_engine() -> Iterator[None]:
    patches: list[tuple[Any, str, Any]] = [
        (importlib.import_module(name), "boto_client_for", _shared_client) for name in _CLIENT_USERS
    ]
    patches.append((boto_client, "boto_client_for", _shared_client))
    for name, attribute in _MEMOISED:
        module = importlib.import_module(name)
        patches.append(
            (module, attribute, functools.lru_cache(maxsize=1024)(getattr(module, attribute)))
        )
    patches.append(
        (
            DynamoDBBackend,
            "transact_write_items",
            _transact_write_items(DynamoDBBackend.transact_write_items),
        )
    )
    patches.append((dynamodb_models, "copy", SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)))
    original_parse = AmazonStateLanguageParser.parse
    patches.append(
        (
            AmazonStateLanguageParser,
            "parse",
            staticmethod(functools.lru_cache(maxsize=16)(original_parse)),
        )
    )
    originals = [
        (target, attribute, target.__dict__[attribute]) for target, attribute, _ in patches
    ]
    for target, attribute, replacement in patches:
        setattr(target, attribute, replacement)
    try:
        yield
    finally:
        for target, attribute, original in reversed(originals):
            setattr(target, attribute, original)
        _clients.clear()
