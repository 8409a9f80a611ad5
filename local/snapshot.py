"""Optional persistence for the local stack (`make run ARGS="--state FILE"`).

The DynamoDB tables are the system's record: every accepted operation with its status, the
idempotency keys, the users and their email claims. They are saved to a file while the stack
runs and loaded when it starts. What is not saved, the system recovers without: records on
the stream, executions and the on-failure queue die with the process, and on the next start
every operation still in flight (which then has no execution) is published again by a sweep,
the same recovery that covers a lost record on AWS. The steps are idempotent, so an operation
whose workflow got halfway runs again to the same end.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from local.atomicity import exclusive

logger = logging.getLogger(__name__)
BATCH_WRITE_LIMIT = 25
# A save holds every table operation while it copies the tables, which grow with the data: it
# may take at most this share of the time between saves, so that saving never slows a loaded
# stack by more than that.
MAX_SAVE_SHARE = 0.2


class TableSnapshots:
    """Saves tables to one JSON file and loads them back."""

    def __init__(self, path: Path, tables: Sequence[str], session: boto3.Session) -> None:
        self.path = path
        self.tables = list(tables)
        self._session = session
        self._saving = threading.Lock()

    def save(self) -> None:
        with self._saving:
            self._save()

    def _save(self) -> None:
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][self._session.region_name]
        # Read from the emulator's memory with every table operation held off: a copy of all
        # the tables at one instant (70 ms for 1,600 items). Scans through the API took seconds
        # under load, and gave no single instant across tables.
        with exclusive():
            taken_at = datetime.now(UTC).isoformat()
            tables = {
                name: [item.to_json()["Attributes"] for item in backend.get_table(name).all_items()]
                for name in self.tables
            }
        document = {"takenAt": taken_at, "tables": tables}
        # Written aside and renamed: a crash mid-save leaves the previous file whole.
        partial = self.path.with_name(self.path.name + ".partial")
        with partial.open("w") as file:
            json.dump(document, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.path)

    def restore(self) -> dict[str, Any] | None:
        """Loads the file into the (empty) tables; what was loaded, or None with no file."""
        if not self.path.exists():
            return None
        document = json.loads(self.path.read_text())
        counts = {}
        for name in self.tables:
            items = document["tables"].get(name, [])
            for start in range(0, len(items), BATCH_WRITE_LIMIT):
                requests = [
                    {"PutRequest": {"Item": item}}
                    for item in items[start : start + BATCH_WRITE_LIMIT]
                ]
                self._write(name, requests)
            counts[name] = len(items)
        return {"takenAt": document["takenAt"], "items": counts}

    def save_while_changing(
        self, stop: threading.Event, writes: Callable[[], int], every: float = 1.0
    ) -> None:
        """Saves whenever `writes()` (a count of table writes) has moved, until stopped."""
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

    def _write(self, table: str, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = self._session.client("dynamodb").batch_write_item(RequestItems=pending)[
                "UnprocessedItems"
            ]
