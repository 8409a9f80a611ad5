"""Redrive the on-failure queue: `make redrive [STAGE=dev] [ARGS="--dry-run [--reveal]"]`.

Each message names a batch the starter gave up on, as Lambda writes it: the stream, the
shard, the first and last sequence numbers and arrival times, not the records. For each
message, the batch's records are read back from its stream while the stream retains them
(24 hours), else from the archive; they are put on the replay stream, and only then is the
message deleted. A message whose records cannot be found stays on the queue, with the reason.

Why the replay stream: it has its own mapping of the starter, so a redrive neither competes
with live traffic for the event stream's capacity nor is archived a second time; the starter
handles both streams' records alike (an operation that is done is not started again).

--dry-run lists the messages with their records and changes nothing; the records' emails are
hidden unless --reveal is given (the terminal is the operator's, but screens get shared).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import botocore.exceptions

from chalicelib.adapters.aws import error_code
from ops import cli
from ops.archive import archived_keys, describe, parse_event, read_object, split_records
from ops.publish import publish
from ops.target import OpsError, Target

# A message being redriven is hidden from others this long: if the command dies, it comes back.
VISIBILITY_SECONDS = 300
# The publisher stamps an event just before it arrives on the stream.
ARRIVAL_MARGIN = timedelta(minutes=1)
# A shard serves 5 GetRecords per second, which the starter's mapping and Firehose share (one
# each): reading a long batch back, stay at 2.
READ_PACE_SECONDS = 0.5
MAX_READS = 1000


class NotFound(Exception):
    """The batch's records are neither on its stream nor in the archive: the message stays."""


@dataclasses.dataclass(frozen=True)
class FailedBatch:
    stream_arn: str
    shard_id: str
    start: str
    end: str
    size: int
    first_arrival: datetime
    last_arrival: datetime
    condition: str
    attempts: int

    @property
    def stream(self) -> str:
        return self.stream_arn.rpartition("/")[2]

    @classmethod
    def parse(cls, body: str) -> FailedBatch:
        try:
            message = json.loads(body)
            info = message["KinesisBatchInfo"]
            context = message.get("requestContext", {})
            return cls(
                stream_arn=info["streamArn"],
                shard_id=info["shardId"],
                start=info["startSequenceNumber"],
                end=info["endSequenceNumber"],
                size=int(info["batchSize"]),
                first_arrival=_time(info["approximateArrivalOfFirstRecord"]),
                last_arrival=_time(info["approximateArrivalOfLastRecord"]),
                condition=str(context.get("condition", "?")),
                attempts=int(context.get("approximateInvokeCount", 0)),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise NotFound(f"it is not a Kinesis on-failure record ({error!r})") from None

    def __str__(self) -> str:
        return (
            f"{self.condition} after {self.attempts} attempts · {self.stream} {self.shard_id} "
            f"· sequence numbers {self.start}..{self.end} · {_records(self.size)} · first "
            f"arrived {self.first_arrival.isoformat().replace('+00:00', 'Z')}"
        )


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@dataclasses.dataclass(frozen=True)
class Found:
    source: str  # "the stream" or "the archive"
    records: list[tuple[str, bytes]]  # partition key, data as it was on the stream


@dataclasses.dataclass
class RedriveReport:
    """What happened to each message, counted: messages = republished + discarded + kept."""

    messages: int = 0
    republished: int = 0  # its operation events put on the replay stream again; deleted
    discarded: int = 0  # nothing in it could run (no operation event): deleted
    kept: int = 0  # its batch found nowhere: left on the queue
    published: int = 0  # records put on the replay stream
    from_stream: int = 0
    from_archive: int = 0
    unreadable: int = 0  # records of deleted messages that are not operation events

    def lines(self, target: Target, dry_run: bool) -> list[str]:
        if not self.messages:
            return ["messages  none: the on-failure queue is empty, nothing to redrive"]
        if dry_run:
            return [f"messages  {self.messages} listed; the queue is as it was (dry run)"]
        return [
            f"messages  {self.messages}: {self.republished} published again and deleted, "
            f"{self.discarded} deleted with nothing to publish, {self.kept} kept on the queue",
            f"records   {self.published} published again to {target.replay_stream} "
            f"({self.from_stream} read from the stream, {self.from_archive} from the archive); "
            f"{self.unreadable} not operation events, not published",
        ]


def redrive(
    target: Target,
    *,
    dry_run: bool = False,
    reveal: bool = False,
    out: TextIO = sys.stdout,
    wait_seconds: int = 1,
    sleep: Callable[[float], None] = time.sleep,
) -> RedriveReport:
    """Every message on the queue, redriven (or, in a dry run, listed)."""
    run = _Run(target, dry_run, reveal, out, sleep)
    sqs = target.client("sqs")
    seen: list[str] = []
    try:
        while True:
            messages = sqs.receive_message(
                QueueUrl=target.failure_queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=VISIBILITY_SECONDS,
                WaitTimeSeconds=wait_seconds,
            ).get("Messages", [])
            if not messages:
                return run.report
            for message in messages:
                if dry_run:
                    seen.append(message["ReceiptHandle"])
                run.handle(message)
    finally:
        for receipt in seen:  # a dry run leaves every message visible, as it found them
            sqs.change_message_visibility(
                QueueUrl=target.failure_queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )


@dataclasses.dataclass
class _Run:
    target: Target
    dry_run: bool
    reveal: bool
    out: TextIO
    sleep: Callable[[float], None]
    report: RedriveReport = dataclasses.field(default_factory=RedriveReport)

    def handle(self, message: dict[str, Any]) -> None:
        report, out = self.report, self.out
        report.messages += 1
        number = report.messages
        try:
            batch = FailedBatch.parse(message["Body"])
            found = fetch(self.target, batch, self.sleep)
        except NotFound as reason:
            report.kept += 1
            print(f"message {number}  kept on the queue, because {reason}", file=out)
            return
        readable = [(key, data) for key, data in found.records if parse_event(data)]
        skipped = len(found.records) - len(readable)
        where = (
            f"{batch.stream} {batch.shard_id} {batch.start}..{batch.end}, read from {found.source}"
        )
        if self.dry_run:
            print(f"message {number}  {batch}", file=out)
            print(f"  {_records(len(found.records))}, from {found.source}:", file=out)
            for _, data in found.records:
                poison = "" if parse_event(data) else "   (not an operation event)"
                print(f"    {describe(data, self.reveal)}{poison}", file=out)
            then = (
                f"  would be published again to {self.target.replay_stream} ({len(readable)} "
                "records), then deleted"
                if readable
                else "  would be deleted: no operation event in it to publish"
            )
            print(then, file=out)
            return
        target = self.target
        publish(target.client("kinesis"), target.replay_stream, readable)
        target.client("sqs").delete_message(
            QueueUrl=target.failure_queue_url, ReceiptHandle=message["ReceiptHandle"]
        )
        report.published += len(readable)
        report.unreadable += skipped
        if found.source == "the stream":
            report.from_stream += len(readable)
        else:
            report.from_archive += len(readable)
        if not readable:
            report.discarded += 1
            print(
                f"message {number}  deleted from the queue, because no record of its batch "
                f"({_records(len(found.records))}: {where}) is an operation event: published "
                "again, it would only fail again; nothing published",
                file=out,
            )
            return
        report.republished += 1
        unreadable = f"; {_records(skipped)} not operation events, not published" if skipped else ""
        print(
            f"message {number}  published again to {target.replay_stream}: "
            f"{_records(len(readable))} ({where}), then deleted from the queue{unreadable}",
            file=out,
        )


def _records(count: int) -> str:
    return f"{count} record" if count == 1 else f"{count} records"


def fetch(target: Target, batch: FailedBatch, sleep: Callable[[float], None]) -> Found:
    records = from_stream(target.client("kinesis"), batch, sleep)
    if records is not None:
        return Found("the stream", records)
    return Found("the archive", from_archive(target, batch))


def from_stream(
    kinesis: Any, batch: FailedBatch, sleep: Callable[[float], None]
) -> list[tuple[str, bytes]] | None:
    """The batch's records, first to last, while the stream still has them all; else None."""
    try:
        iterator = kinesis.get_shard_iterator(
            StreamName=batch.stream,
            ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=batch.start,
        )["ShardIterator"]
    except botocore.exceptions.ClientError as error:
        # The stream or shard is gone, or the sequence number is past its retention.
        if error_code(error) in ("ResourceNotFoundException", "InvalidArgumentException"):
            return None
        raise
    records: list[dict[str, Any]] = []
    last = int(batch.end)
    for read in range(MAX_READS):
        if read:
            sleep(READ_PACE_SECONDS)
        response = kinesis.get_records(ShardIterator=iterator, Limit=min(batch.size, 10_000))
        records += [r for r in response["Records"] if int(r["SequenceNumber"]) <= last]
        iterator = response.get("NextShardIterator")
        ended = any(int(r["SequenceNumber"]) >= last for r in response["Records"])
        caught_up = not response["Records"] and not response.get("MillisBehindLatest")
        if ended or caught_up or not iterator:
            break
    if not records or records[0]["SequenceNumber"] != batch.start:
        return None  # trimmed: the stream starts after the batch's first record
    if records[-1]["SequenceNumber"] != batch.end:
        return None
    return [(r["PartitionKey"], bytes(r["Data"])) for r in records]


def from_archive(target: Target, batch: FailedBatch) -> list[tuple[str, bytes]]:
    """The archive holds the data, not the sequence numbers: take the events of the batch's
    shard published while the batch arrived (with a margin). That can include neighbours of
    the batch on the shard: harmless, a replayed event for a done operation starts nothing."""
    if batch.stream != target.event_stream:
        raise NotFound(
            f"{batch.stream} no longer holds its records {batch.start}..{batch.end}, and only "
            f"{target.event_stream} is archived"
        )
    start, end = batch.first_arrival - ARRIVAL_MARGIN, batch.last_arrival + ARRIVAL_MARGIN
    hash_range = _hash_range(target, batch)
    try:
        keys = archived_keys(target, start, end + timedelta(microseconds=1))
    except OpsError as error:
        raise NotFound(f"its records are not on {batch.stream} any more, and {error}") from None
    found = []
    for key in keys:
        for data in split_records(read_object(target, key)):
            archived = parse_event(data)
            if archived is None or archived.published_at is None:
                continue
            if not start <= archived.published_at <= end:
                continue
            if hash_range and not _hashes_into(archived.event.operation_id, hash_range):
                continue
            found.append((archived.event.operation_id, archived.data))
    if len(found) < batch.size:
        raise NotFound(
            f"its records are not on {batch.stream} any more, and the archive holds "
            f"{len(found)} operation events of the batch's {batch.size} records"
        )
    return found


def _hash_range(target: Target, batch: FailedBatch) -> tuple[int, int] | None:
    """The shard's hash key range, while the stream lists it (else the whole stream counts)."""
    kinesis = target.client("kinesis")
    for page in kinesis.get_paginator("list_shards").paginate(StreamName=batch.stream):
        for shard in page["Shards"]:
            if shard["ShardId"] == batch.shard_id:
                keys = shard["HashKeyRange"]
                return int(keys["StartingHashKey"]), int(keys["EndingHashKey"])
    return None


def _hashes_into(partition_key: str, hash_range: tuple[int, int]) -> bool:
    """Kinesis puts a record on the shard whose range holds the MD5 of its partition key."""
    value = int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")
    return hash_range[0] <= value <= hash_range[1]


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--reveal", action="store_true", help="a dry run shows emails too")
    args = parser.parse_args(argv)

    def command(target: Target) -> int:
        report = redrive(target, dry_run=args.dry_run, reveal=args.reveal)
        print("\n".join(report.lines(target, args.dry_run)))
        return 1 if report.kept else 0

    return cli.run(args, command)


if __name__ == "__main__":
    sys.exit(main())
