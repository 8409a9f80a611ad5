"""Writing records to the replay stream, and the progress bar of a long command."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ops.target import OpsError

# PutRecords takes at most 500 records and 5 MiB per call.
MAX_RECORDS = 500
MAX_BYTES = 5 * 1024 * 1024
ATTEMPTS = 8


def publish(
    kinesis: Any,
    stream: str,
    records: list[tuple[str, bytes]],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Puts (partition key, data) records on the stream; returns only once every one is on it.

    The records a call refuses (the shard's write limit) are sent again, with exponential
    backoff; after ATTEMPTS, a one-line error.
    """
    for batch in _batches(records):
        pending = batch
        for attempt in range(ATTEMPTS):
            response = kinesis.put_records(
                StreamName=stream,
                Records=[{"PartitionKey": key, "Data": data} for key, data in pending],
            )
            if not response["FailedRecordCount"]:
                break
            results = response["Records"]
            pending = [
                r for r, result in zip(pending, results, strict=True) if "ErrorCode" in result
            ]
            codes = sorted({result["ErrorCode"] for result in results if "ErrorCode" in result})
            if attempt + 1 < ATTEMPTS:
                sleep(min(5.0, 0.1 * 2**attempt))
        else:
            raise OpsError(
                f"{stream} refused {len(pending)} records {ATTEMPTS} times ({', '.join(codes)})"
            )
    return len(records)


def _batches(records: list[tuple[str, bytes]]) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    size = 0
    for key, data in records:
        record_size = len(key.encode()) + len(data)
        if batch and (len(batch) == MAX_RECORDS or size + record_size > MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((key, data))
        size += record_size
    if batch:
        yield batch


@contextlib.contextmanager
def progress_bar(
    label: str, total: int, enabled: bool | None = None
) -> Iterator[Callable[[], None]]:
    """A bar on stderr (when it is a terminal, unless told); yields the step function."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not (console.is_terminal if enabled is None else enabled),
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
