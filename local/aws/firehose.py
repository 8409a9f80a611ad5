"""Firehose's part of the archive, which moto does not play.

moto accepts a KinesisStreamAsSource delivery stream but never reads the stream, and its S3
destination writes what PutRecordBatch gets as it is (no processors, no compression) under
<prefix>YYYY/MM/dd/HH/ (UTC). So (the delivery stream and its bucket are created by
local/aws/provision.py):

- ArchiveFeeder reads the event stream as Firehose does, with the poller's shard reader (its
  own iterator and checkpoint), and once a buffer is due (the delivery stream's buffering
  interval) applies the delivery stream's processor and compression and puts the buffer into
  the delivery stream as one record, so as one object, as Firehose writes one object per
  buffer. Keys have Firehose's shape, except that AWS ends a gzipped object's name in ".gz".
"""

from __future__ import annotations

import dataclasses
import gzip
from typing import Any

from local.aws.kinesis_poller import MappingConfig, ShardPoller, StreamPoller

# Firehose reads up to 10,000 records per GetRecords call, once a second per shard.
FIREHOSE_READ_LIMIT = 10_000


@dataclasses.dataclass(frozen=True)
class LocalArchive:
    bucket: str
    delivery_stream_name: str
    buffer_seconds: float
    compression: str  # GZIP or UNCOMPRESSED
    delimiter: bytes  # b"\n" with the AppendDelimiterToRecord processor

    def object_body(self, records: list[bytes]) -> bytes:
        """What Firehose writes for a buffer of records."""
        body = b"".join(record + self.delimiter for record in records)
        return gzip.compress(body) if self.compression == "GZIP" else body


class _ArchiveShard(ShardPoller):
    """One shard, read as Firehose reads it; a due buffer goes to the delivery stream."""

    def __init__(
        self,
        config: MappingConfig,
        shard_id: str,
        kinesis: Any,
        firehose: Any,
        archive: LocalArchive,
    ) -> None:
        super().__init__(config, shard_id, kinesis, lambda_=None, sqs=None)
        self._firehose = firehose
        self._archive = archive

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        self.stats.invocations += 1
        self.stats.records_delivered += len(batch)
        response = self._firehose.put_record_batch(
            DeliveryStreamName=self._archive.delivery_stream_name,
            Records=[{"Data": self._archive.object_body([r["Data"] for r in batch])}],
        )
        # Not delivered: the checkpoint stays, and the buffer is tried again (Firehose retries).
        return 0 if response["FailedPutCount"] else None


class ArchiveFeeder(StreamPoller):
    """Firehose's reads of the event stream, which moto's Firehose does not make."""

    def __init__(self, stream_arn: str, archive: LocalArchive, kinesis: Any, firehose: Any) -> None:
        config = MappingConfig(
            function_name=archive.delivery_stream_name,
            stream_arn=stream_arn,
            batch_size=FIREHOSE_READ_LIMIT,
            batching_window_seconds=archive.buffer_seconds,
            # The delivery stream is created with the stream: it reads it from the start.
            starting_position="TRIM_HORIZON",
            report_batch_item_failures=False,
            bisect_on_error=False,
            max_retry_attempts=-1,  # until delivered, as Firehose retries
            max_record_age_seconds=-1,
            on_failure_queue_url=None,
        )
        self.stream_name = config.stream_name
        shards = kinesis.list_shards(StreamName=config.stream_name)["Shards"]
        self.shards = [
            _ArchiveShard(config, s["ShardId"], kinesis, firehose, archive) for s in shards
        ]
