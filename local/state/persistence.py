"""Optional persistence for the local stack (`make run ARGS="--state FILE"`).

The DynamoDB tables are the system's record: every accepted operation with its status, the
idempotency keys, the users and their email claims. They are kept on disk and loaded when
the stack starts. What is not kept, the system recovers without: records on the stream,
executions and the on-failure queue die with the process, and on the next start every
operation still in flight (which then has no execution) is published again by a sweep, the
same recovery that covers a lost record on AWS. The steps are idempotent, so an operation
whose workflow got halfway runs again to the same end.

Two kinds of file make the tables survive a killed process, not only a clean stop:
- FILE, a snapshot: every table copied at one instant, written aside and renamed;
- FILE.journal.N, each table write since snapshot N, one line per write: the items it
  wrote, as they stand after it, handed to the operating system before the write returns, so
  before the API answers. A killed process loses nothing it acknowledged (a kill mid-line
  tears only a write that had not returned); a machine that crashes can lose what the system
  had not yet put on disk (an fsync per write would cost milliseconds).
A snapshot starts a new journal, and deletes the older ones once it is safely in place.
Loading takes the snapshot and replays the journals from its number on, in order.

Writes through the API's PartiQL operations are not journalled (the app uses none). Keys are
compared as sent: the stack's tables have string keys.
"""

from __future__ import annotations

import fcntl
import functools
import glob
import inspect
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

from local.state.lock import exclusive

logger = logging.getLogger(__name__)
BATCH_WRITE_LIMIT = 25
# A snapshot takes time that grows with the data (copying the tables, every table operation
# held off meanwhile, then writing them): at most this share of the time between snapshots.
MAX_SAVE_SHARE = 0.2


class StateInUse(Exception):
    pass


class StateMismatch(Exception):
    pass


class TableState:
    """The tables of one stack, on disk: snapshot, journal, and loading them back.

    Use: the journal-table-writes patch around the whole run (local/patches/journal.py), restore()
    once the tables exist, then save(); close_journal() when stopping. Writes before the first
    save() are not journalled: that save's snapshot holds them.
    """

    def __init__(self, path: Path, tables: Sequence[str], session: boto3.Session) -> None:
        self.path = path
        self.tables = list(tables)
        self._session = session
        self._generation = 0
        self._journal: IO[str] | None = None
        self._saving = threading.Lock()
        self._depth = 0  # nested writes under way; only ever changed holding exclusive()
        self._claim = self.path.with_name(self.path.name + ".lock").open("w")
        try:
            fcntl.flock(self._claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._claim.close()
            raise StateInUse(f"{path} is in use by another stack") from None
        self._snapshot = json.loads(path.read_text()) if path.exists() else {}
        saved = sorted(self._snapshot.get("tables", {}))
        if saved and saved != sorted(self.tables):
            self.close()
            # Another stage's file: loading nothing and saving over it would lose it.
            raise StateMismatch(f"{path} holds the tables {saved}, not {sorted(self.tables)}")

    def close(self) -> None:
        """Lets another TableState use the files."""
        self._claim.close()

    @property
    def _backend(self) -> DynamoDBBackend:
        return dynamodb_backends[DEFAULT_ACCOUNT_ID][self._session.region_name]

    def restore(self) -> dict[str, Any] | None:
        """Loads snapshot and journals into the (empty) tables: what was loaded, or None."""
        journals = self._journals()
        snapshot = self._snapshot
        if not snapshot and not journals:
            return None
        generation = snapshot.get("generation", 0)
        saved = snapshot.get("tables", {})
        tables = {
            name: {self._key_of(name, item): item for item in saved.get(name, [])}
            for name in self.tables
        }
        replayed = 0
        for number, journal in journals:
            if number >= generation:
                for write in _writes(journal):
                    for entry in write:
                        items = tables[entry["table"]]
                        key = _key_text(entry["key"])
                        if entry["item"] is None:
                            items.pop(key, None)
                        else:
                            items[key] = entry["item"]
                    replayed += 1
        for name, items in tables.items():
            self._put_all(name, list(items.values()))
        self._generation = max([generation, *(number for number, _ in journals)])
        return {
            "takenAt": snapshot.get("takenAt", "never"),
            "journalled": replayed,
            "items": {name: len(items) for name, items in tables.items()},
        }

    def save(self) -> None:
        """A snapshot, and a new journal from the same instant."""
        with self._saving:
            # Every table operation waits: the copy is of one instant, and no write falls
            # between the copy and the switch to the next journal.
            with exclusive():
                taken_at = datetime.now(UTC).isoformat()
                backend = self._backend
                tables = {
                    name: [
                        item.to_json()["Attributes"] for item in backend.get_table(name).all_items()
                    ]
                    for name in self.tables
                }
                self._generation += 1
                self._open_journal()
            document = {"generation": self._generation, "takenAt": taken_at, "tables": tables}
            partial = self.path.with_name(self.path.name + ".partial")
            with partial.open("w") as file:
                json.dump(document, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, self.path)
            _sync_directory(self.path.parent)  # the rename is on disk before journals go
            for number, journal in self._journals():
                if number < self._generation:
                    journal.unlink()

    @property
    def journalling(self) -> bool:
        """True from the first save() on, until close_journal()."""
        return self._journal is not None

    def close_journal(self) -> None:
        """No write is journalled after this (the stack is stopping)."""
        with exclusive():  # no write is half journalled
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def save_while_changing(
        self, stop: threading.Event, writes: Callable[[], int], every: float = 5.0
    ) -> None:
        """Snapshots whenever `writes()` (a count of table writes) has moved, until stopped;
        they keep the journal short, which loading replays."""
        saved_at_writes = writes()
        interval = every
        while not stop.wait(interval):
            current = writes()
            if current == saved_at_writes:
                continue
            started = time.monotonic()
            try:
                self.save()
                saved_at_writes = current
            except Exception:
                logger.exception("saving the tables to %s failed; will try again", self.path)
            interval = max(every, (time.monotonic() - started) / MAX_SAVE_SHARE)

    def journalled(self, name: str, write: Callable[..., Any]) -> Callable[..., Any]:
        """Replaces one of DynamoDBBackend's writes (the patch journal-table-writes):
        the write, then its items as they stand after it, appended to the journal."""
        signature = inspect.signature(write)

        @functools.wraps(write)
        def journalled(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            with exclusive():
                # moto runs a transaction as single writes, and undoes them if it fails:
                # only the outermost write, once it has succeeded, is journalled.
                self._depth += 1
                try:
                    result = write(backend, *args, **kwargs)  # raises when nothing was written
                finally:
                    self._depth -= 1
                if not self._depth:
                    arguments = signature.bind(backend, *args, **kwargs).arguments
                    self._append(backend, _written_keys(backend, name, arguments))
            return result

        return journalled

    def _append(self, backend: DynamoDBBackend, keys: list[tuple[str, dict[str, Any]]]) -> None:
        if self._journal is None or backend is not self._backend:
            return  # before the first save(), which holds it; or another region's tables
        write = []
        for table, key in keys:
            if table in self.tables:
                item = backend.get_item(table, key)
                write.append(
                    {"table": table, "key": key, "item": item and item.to_json()["Attributes"]}
                )
        if write:
            self._journal.write(json.dumps(write) + "\n")
            self._journal.flush()

    def _open_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
        self._journal = self._journal_path(self._generation).open("a")

    def _journal_path(self, number: int) -> Path:
        return self.path.with_name(f"{self.path.name}.journal.{number}")

    def _journals(self) -> list[tuple[int, Path]]:
        prefix = f"{self.path.name}.journal."
        found = [
            (int(path.name[len(prefix) :]), path)
            for path in self.path.parent.glob(glob.escape(prefix) + "*")
            if path.name[len(prefix) :].isdigit()
        ]
        return sorted(found)

    def _key_of(self, table: str, item: dict[str, Any]) -> str:
        return _key_text(_key(self._backend.get_table(table), item))

    def _put_all(self, table: str, items: list[dict[str, Any]]) -> None:
        dynamodb = self._session.client("dynamodb")
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            pending: dict[str, Any] = {
                table: [
                    {"PutRequest": {"Item": item}}
                    for item in items[start : start + BATCH_WRITE_LIMIT]
                ]
            }
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending)["UnprocessedItems"]


def _writes(journal: Path) -> Iterator[list[dict[str, Any]]]:
    lines = journal.read_text().split("\n")
    for number, line in enumerate(lines):
        if not line:
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            # Only the last line can be torn, by a kill mid-write: that write never returned,
            # so nobody was told it happened.
            if number != len(lines) - 1:
                raise
            logger.warning("ignored the torn last line of %s", journal)


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _written_keys(
    backend: DynamoDBBackend, write: str, arguments: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    if write == "transact_write_items":
        actions = [next(iter(entry.items())) for entry in arguments["transact_items"]]
        return [
            _table_and_key(backend, action["TableName"], action.get("Key") or action["Item"])
            for kind, action in actions
            if kind != "ConditionCheck"
        ]
    key_or_item = arguments["item_attrs"] if write == "put_item" else arguments["key"]
    return [_table_and_key(backend, arguments["table_name"], key_or_item)]


def _table_and_key(
    backend: DynamoDBBackend, table_name: str, key_or_item: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    table = backend.get_table(table_name)  # the request may name it by ARN
    return table.name, _key(table, key_or_item)


def _key(table: Any, item: dict[str, Any]) -> dict[str, Any]:
    names = [table.hash_key_attr, table.range_key_attr]
    return {name: item[name] for name in names if name}


def _key_text(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)
