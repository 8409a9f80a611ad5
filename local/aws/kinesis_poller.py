"""A Kinesis event source mapping that behaves like Lambda's, over the emulator's API.

moto's own mapping invokes once per record with no retries. This one reads each shard with
GetRecords and gives the function what Lambda would: batches up to BatchSize gathered for at
most MaximumBatchingWindowInSeconds, per-shard order, a checkpoint that only moves past
records that succeeded, retries of a failed batch, BisectBatchOnFunctionError, partial batch
responses (ReportBatchItemFailures), MaximumRetryAttempts and MaximumRecordAgeInSeconds, and
an SQS on-failure destination that receives the failed batch's metadata (as Lambda sends it).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class MappingConfig:
    function_name: str
    stream_arn: str
    batch_size: int
    batching_window_seconds: float
    starting_position: str
    report_batch_item_failures: bool
    bisect_on_error: bool
    max_retry_attempts: int  # -1: until the record expires
    max_record_age_seconds: int  # -1: never
    on_failure_queue_url: str | None

    @property
    def stream_name(self) -> str:
        return self.stream_arn.rpartition("/")[2]

    @classmethod
    def from_definition(
        cls,
        function_name: str,
        stream_arn: str,
        decorator: Any,
        mapping: dict[str, Any],
        on_failure_queue_url: str | None,
    ) -> MappingConfig:
        """From the app's @on_kinesis_record config and infra's extra mapping settings."""
        return cls(
            function_name=function_name,
            stream_arn=stream_arn,
            batch_size=decorator.batch_size,
            batching_window_seconds=decorator.maximum_batching_window_in_seconds,
            starting_position=decorator.starting_position,
            report_batch_item_failures="ReportBatchItemFailures"
            in mapping.get("FunctionResponseTypes", []),
            bisect_on_error=bool(mapping.get("BisectBatchOnFunctionError", False)),
            max_retry_attempts=int(mapping.get("MaximumRetryAttempts", -1)),
            max_record_age_seconds=int(mapping.get("MaximumRecordAgeInSeconds", -1)),
            on_failure_queue_url=on_failure_queue_url,
        )


@dataclasses.dataclass
class PollerStats:
    invocations: int = 0
    records_delivered: int = 0
    batches_failed: int = 0
    batches_sent_to_failure_queue: int = 0


class ShardPoller:
    """Delivers one shard's records in order; call poll() repeatedly."""

    def __init__(
        self,
        config: MappingConfig,
        shard_id: str,
        kinesis: Any,
        lambda_: Any,
        sqs: Any,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.shard_id = shard_id
        self._now = now  # the batching window's time: the emulator's clock in a stack
        self._kinesis, self._lambda, self._sqs = kinesis, lambda_, sqs
        # By name: moto's iterators lose the stream when asked by ARN.
        self._iterator: str | None = kinesis.get_shard_iterator(
            StreamName=config.stream_name,
            ShardId=shard_id,
            ShardIteratorType=config.starting_position,
        )["ShardIterator"]
        self._buffer: list[dict[str, Any]] = []  # read, not yet checkpointed, in order
        self._read_through: int | None = None  # sequence number of the last record read
        self._first_buffered_at: float | None = None
        self._attempts = 0  # failed attempts of the batch at the head of the buffer
        self._batch_limit = config.batch_size  # shrinks while bisecting
        self.stats = PollerStats()
        # The sequence number of the last record the mapping is done with (handled, or given
        # up on): what Lambda checkpoints. None until the first.
        self.checkpoint: str | None = None

    @property
    def idle(self) -> bool:
        return not self._buffer

    @property
    def needed_from(self) -> int | None:
        """The lowest sequence number this poller may still need from the shard: its first
        record not checkpointed past, or the one after the last it read (None: none read).
        Read from another thread (the housekeeping's) while this one polls."""
        first = next(iter(self._buffer), None)
        if first is not None:
            return int(first["SequenceNumber"])
        return None if self._read_through is None else self._read_through + 1

    def poll(self, flush: bool = False) -> bool:
        """Read what is new and deliver one batch when it is due; True if anything happened.

        flush ignores the batching window (tests drain the stream deterministically).
        """
        read = self._read()
        if not self._buffer:
            return read
        window_over = (
            self._first_buffered_at is not None
            and self._now() - self._first_buffered_at >= self.config.batching_window_seconds
        )
        if flush or window_over or len(self._buffer) >= self.config.batch_size:
            self._deliver(self._buffer[: min(self._batch_limit, self.config.batch_size)])
            return True
        return read

    def _read(self) -> bool:
        if self._iterator is None or len(self._buffer) >= self.config.batch_size:
            return False
        response = self._kinesis.get_records(
            ShardIterator=self._iterator, Limit=self.config.batch_size
        )
        self._iterator = response.get("NextShardIterator")
        records = response["Records"]
        if records and not self._buffer:
            self._first_buffered_at = self._now()
        self._buffer.extend(records)
        if records:
            self._read_through = int(records[-1]["SequenceNumber"])
        return bool(records)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        failed_from = self._invoke(batch)
        if failed_from is None:
            self._checkpoint(len(batch))
            self._batch_limit = self.config.batch_size
            return
        self.stats.batches_failed += 1
        # Everything before the first failed record is done: move the checkpoint past it.
        self._checkpoint(failed_from)
        failing = batch[failed_from:]
        self._attempts += 1
        if self._exhausted(failing):
            self._send_to_failure_destination(failing)
            self._checkpoint(len(failing))
            self._batch_limit = self.config.batch_size
        elif self.config.bisect_on_error and len(failing) > 1:
            self._batch_limit = max(1, len(failing) // 2)

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """Run the function on the batch; the index of the first failed record, or None."""
        self.stats.invocations += 1
        self.stats.records_delivered += len(batch)
        response = self._lambda.invoke(
            FunctionName=self.config.function_name,
            Payload=json.dumps(lambda_event(batch, self.config.stream_arn, self.shard_id)),
        )
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            logger.warning("starter failed on a batch of %d: %s", len(batch), payload[:500])
            return 0
        if not self.config.report_batch_item_failures:
            return None
        return _first_failed_index(batch, json.loads(payload or b"null"))

    def _exhausted(self, failing: list[dict[str, Any]]) -> bool:
        config = self.config
        if config.max_retry_attempts >= 0 and self._attempts > config.max_retry_attempts:
            return True
        if config.max_record_age_seconds < 0:
            return False
        arrived = failing[0]["ApproximateArrivalTimestamp"].timestamp()
        return time.time() - arrived > config.max_record_age_seconds

    def _checkpoint(self, count: int) -> None:
        if count:
            self.checkpoint = self._buffer[count - 1]["SequenceNumber"]
            del self._buffer[:count]
            self._attempts = 0
            self._first_buffered_at = self._now() if self._buffer else None

    def _send_to_failure_destination(self, batch: list[dict[str, Any]]) -> None:
        self.stats.batches_sent_to_failure_queue += 1
        logger.error(
            "batch of %d records from %s sent to the on-failure destination after %d attempts",
            len(batch),
            self.shard_id,
            self._attempts,
        )
        if not self.config.on_failure_queue_url:
            return
        message = {
            "requestContext": {
                "requestId": batch[0]["SequenceNumber"],
                "functionArn": self.config.function_name,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self._attempts,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "KinesisBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": batch[0]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": batch[0][
                    "ApproximateArrivalTimestamp"
                ].isoformat(),
                "approximateArrivalOfLastRecord": batch[-1][
                    "ApproximateArrivalTimestamp"
                ].isoformat(),
                "batchSize": len(batch),
                "streamArn": self.config.stream_arn,
            },
        }
        self._sqs.send_message(
            QueueUrl=self.config.on_failure_queue_url, MessageBody=json.dumps(message)
        )


def lambda_event(
    records: Sequence[Mapping[str, Any]], stream_arn: str, shard_id: str
) -> dict[str, Any]:
    """The event Lambda gives a function for a batch of GetRecords records (the one builder,
    for the poller and for tests that hand a batch to a handler)."""
    region = stream_arn.split(":")[3]
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode(),
                    "approximateArrivalTimestamp": record[
                        "ApproximateArrivalTimestamp"
                    ].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def _first_failed_index(batch: list[dict[str, Any]], response: Any) -> int | None:
    """Lambda's reading of a partial batch response: retry from the lowest failed record.

    A response it cannot read, or an identifier that is not in the batch, fails the batch.
    """
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return None
    positions = {record["SequenceNumber"]: index for index, record in enumerate(batch)}
    indexes = []
    for failure in response["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return 0
        indexes.append(positions[identifier])
    return min(indexes)


class StreamPoller:
    """One ShardPoller per shard of the stream."""

    def __init__(
        self,
        config: MappingConfig,
        kinesis: Any,
        lambda_: Any,
        sqs: Any,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream_name = config.stream_name
        shards = kinesis.list_shards(StreamName=config.stream_name)["Shards"]
        self.shards = [
            ShardPoller(config, s["ShardId"], kinesis, lambda_, sqs, now=now) for s in shards
        ]

    def poll(self, flush: bool = False) -> bool:
        polled = [shard.poll(flush) for shard in self.shards]  # every shard, no short-circuit
        return any(polled)

    @property
    def idle(self) -> bool:
        return all(shard.idle for shard in self.shards)

    def needed_from(self) -> dict[str, dict[str, int | None]]:
        """{stream name: {shard id: the lowest sequence number still needed}}, for trimming
        the stream (local/state/retention.py)."""
        return {self.stream_name: {shard.shard_id: shard.needed_from for shard in self.shards}}

    def drain(self) -> None:
        """Deliver everything on the stream now, retries included."""
        while self.poll(flush=True) or not self.idle:
            pass


class RecordsArrived:
    """Wakes the poller when the emulator accepts a record, as Lambda's pollers are woken."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def clear(self) -> None:
        self._event.clear()

    def wait(self, timeout: float) -> None:
        self._event.wait(timeout)

    def notifying(self, put: Callable[..., Any]) -> Callable[..., Any]:
        """Replaces KinesisBackend.put_record(s): puts, then wakes the poller."""
        event = self._event

        @functools.wraps(put)
        def put_and_wake(*args: Any, **kwargs: Any) -> Any:
            result = put(*args, **kwargs)
            event.set()
            return result

        return put_and_wake
