"""What the emulator keeps, bounded: moto keeps everything it ever made, for ever.

Measured in process (tests/conftest.py's stack, 300 → 900 operations, executions trimmed to
100): without these, each operation left 215 live objects behind, 130 KB by tracemalloc and
rising with the table, among them 2 copies of the users table (the backups moto takes for
each TransactWriteItems, each holding a dict of the table's whole item index), 1 copy of the
state machine (the snapshot each execution takes), 6 finished threads, 9 DynamoDB items
where the tables hold 3, 1 Kinesis record and 2 CloudWatch data points. With them: 33
objects, about 6.5 KB: the 3 items the tables hold, their attributes, and the weak
references that list them. The causes, and what is done:

- `BaseModel.__new__` appends every model instance moto creates (tables, items, records,
  state machines, data points...) to its class's `instances_tracked` list, for moto's
  dashboard; garbage ones included, so nothing moto allocates as a model is ever freed.
  The patch weakly-tracked-models (local/patches/weak_tracking.py) replaces it: instances
  are still listed while something else keeps them alive, and freed when nothing does.
- The Step Functions interpreter appends each of its worker threads (about 6 per execution)
  to `moto.stepfunctions.parser.utils.TMP_THREADS`, which nothing reads: `trim` drops the
  finished ones.
- Executions: moto keeps every one; `trim` keeps the newest finished ones per state machine.
- Kinesis: moto keeps every record (and scans them all on each GetRecords and PutRecord).
  `trim` drops what a stream would: records older than the stream's retention period; and,
  as a documented bound of this emulator, records the registered readers have handled once
  they are older than a minimum age and beyond the newest ones per shard.
- CloudWatch: moto's Kinesis puts two data points per PutRecord(s) call into a list that
  only grows; `trim` keeps the newest ones (AWS keeps them for 3 hours to 15 months).

And the collector: a trimmed execution is a web of reference cycles (execution, worker,
environment...), which only a full collection frees, and the local stack's thresholds make
full collections all but never happen (`settle_collector`: one per 5e9 allocations).
`Retention.run` collects after every `collect_after` trimmed executions.

`Retention.run` is the emulator's housekeeping pass (local/emulator.py); the patch
weakly-tracked-models must be installed while the emulator runs.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Callable, Mapping
from typing import Any

from local.state import allocator

# {stream name: {shard id: the lowest sequence number its reader may still need, or None
# when the reader has read nothing yet}}.
StreamReaders = Mapping[str, Mapping[str, int | None]]


# gc.set_threshold's: a young collection every 100,000 allocations, a full one all but never.
COLLECTOR_THRESHOLDS = (100_000, 50, 1000)


def settle_collector() -> None:
    """Everything long-lived exists now (a stack's process once started, a test process once
    its tests are collected): the collector leaves it alone from now on (gc.freeze), and
    collects young objects less often, as moto allocates heavily per call. Measured: +24%
    operations/s in the local stack; in test-fast, in one process, the collector's time
    from ~9 s to ~2.3 s."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


@dataclasses.dataclass(frozen=True)
class Bounds:
    """What the emulator keeps at most (beyond what is still in use)."""

    executions: int = 1000  # finished executions per state machine
    records: int = 1000  # newest records per shard, handled or not
    record_min_age_seconds: float = 60.0  # no record younger than this is trimmed early
    metric_data: int = 10_000  # CloudWatch data points per region
    traces: int = 1000  # X-Ray traces (local/aws/xray_daemon.py keeps the newest)
    collect_after: int = 500  # trimmed executions between two full garbage collections


@dataclasses.dataclass(frozen=True)
class Trimmed:
    executions: int = 0
    threads: int = 0
    records: int = 0
    metric_data: int = 0


class Retention:
    """The housekeeping pass: trim, and collect the garbage trimming made when enough of it."""

    def __init__(self, bounds: Bounds, readers: Callable[[], StreamReaders]) -> None:
        self.bounds = bounds
        self._readers = readers
        self._uncollected = 0  # executions trimmed since the last full collection

    def run(self, now: float | None = None) -> Trimmed:
        trimmed = trim(self.bounds, self._readers(), now)
        self._uncollected += trimmed.executions
        if self._uncollected >= self.bounds.collect_after:
            gc.collect()
            allocator.give_back()  # what the collection freed, to the system
            self._uncollected = 0
        return trimmed


def trim(bounds: Bounds, readers: StreamReaders | None = None, now: float | None = None) -> Trimmed:
    """Forget what the emulator no longer needs; what was forgotten, counted.

    `readers` names, per stream and shard, the lowest sequence number a reader still needs
    (the starter's poller): only those streams lose records before their retention period
    ends. `now` is epoch seconds (default: the wall clock, the records' own clock).
    """
    return Trimmed(
        executions=trim_executions(bounds.executions),
        threads=forget_finished_threads(),
        records=trim_records(bounds, readers or {}, time.time() if now is None else now),
        metric_data=trim_metric_data(bounds.metric_data),
    )


def trim_executions(keep: int) -> int:
    """Forget the oldest finished executions beyond `keep` per state machine. Executions
    started meanwhile are kept: only the prefix of the list seen is replaced, in one step."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    removed = 0
    for account in list(stepfunctions_parser_backends.values()):
        for backend in list(account.values()):
            for machine in _listing_executions(backend):
                seen = len(machine.executions)
                executions = machine.executions[:seen]
                finished = [e for e in executions if e.status != "RUNNING"]
                if len(finished) <= keep:
                    continue
                finished.sort(key=lambda e: e.start_date)
                forget = {id(e) for e in finished[: len(finished) - keep]}
                machine.executions[:seen] = [e for e in executions if id(e) not in forget]
                removed += len(forget)
    return removed


def _listing_executions(backend: Any) -> list[Any]:
    """The state machines and their versions: a version lists its own executions too
    (local/patches/versions.py; trimmed from both lists, such an execution counts twice)."""
    machines = list(backend.state_machines)
    return machines + [
        version for machine in machines for version in list(machine.versions.values())
    ]


def forget_finished_threads() -> int:
    """Drop the finished threads from the list where moto's Step Functions interpreter
    appends every thread it starts (LocalStack's, where it served shutdown; moto never reads
    it). Threads appended meanwhile are kept: only the prefix seen is replaced, in one
    step."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    seen = len(TMP_THREADS)
    alive = [thread for thread in TMP_THREADS[:seen] if thread.is_alive()]
    TMP_THREADS[:seen] = alive
    return seen - len(alive)


def trim_records(bounds: Bounds, readers: StreamReaders, now: float) -> int:
    """Drop each shard's records that are past the stream's retention period (as Kinesis
    does) or, on a stream with registered readers, that the reader has handled, that are
    older than bounds.record_min_age_seconds, and that are not among the newest
    bounds.records. The newest record always stays: moto numbers the next record after it.
    """
    from moto.kinesis.models import kinesis_backends

    from local.state.lock import exclusive

    removed = 0
    for account in list(kinesis_backends.values()):
        for backend in list(account.values()):
            for stream in list(backend.streams.values()):
                handled = readers.get(stream.stream_name, {})
                for shard in list(stream.shards.values()):
                    with exclusive():  # GetRecords and PutRecord(s) run under this lock
                        removed += _trim_shard(
                            shard.records,
                            expired_before=now - stream.retention_period_hours * 3600,
                            # Below this sequence number, the reader is done with a record.
                            handled_below=handled.get(shard.shard_id) or 0,
                            keep=max(1, bounds.records),
                            young_after=now - bounds.record_min_age_seconds,
                        )
    return removed


def _trim_shard(
    records: Any, expired_before: float, handled_below: int, keep: int, young_after: float
) -> int:
    """Pops records from the front of the shard's ordered dict while they may go."""
    removed = 0
    while len(records) > 1:
        sequence_number, record = next(iter(records.items()))
        expired = record.created_at < expired_before
        done_with = (
            sequence_number < handled_below
            and record.created_at < young_after
            and len(records) > keep
        )
        if not (expired or done_with):
            break
        records.popitem(last=False)
        removed += 1
    return removed


def trim_metric_data(keep: int) -> int:
    """Keep the newest `keep` CloudWatch data points per region (the list only grows)."""
    from moto.cloudwatch.models import cloudwatch_backends

    removed = 0
    for account in list(cloudwatch_backends.values()):
        for backend in list(account.values()):
            excess = len(backend.metric_data) - keep
            if excess > 0:
                # One step, from the front: data points appended meanwhile stay.
                del backend.metric_data[:excess]
                removed += excess
    return removed
