"""The archive on the emulator: Firehose's part, which moto does not play.

moto accepts a KinesisStreamAsSource delivery stream but never reads the stream, and its S3
destination writes what PutRecordBatch gets as it is (no processors, no compression) under
<prefix>YYYY/MM/dd/HH/ (UTC). So:

- provision_archive creates the bucket, the delivery logs and the delivery stream from
  infra/definition.py: archive_resources, as CloudFormation would (the bucket's lifecycle rule
  is not applied: moto neither moves nor expires objects);
- ArchiveFeeder reads the event stream as Firehose does, with the poller's shard reader (its
  own iterator and checkpoint), and once a buffer is due (the delivery stream's buffering
  interval) applies the delivery stream's processor and compression and puts the buffer into
  the delivery stream as one record, so as one object, as Firehose writes one object per
  buffer. Keys have Firehose's shape, except that AWS ends a gzipped object's name in ".gz";
- ArchivePollers is what the local stack polls besides the starter's mapping of the event
  stream: the feeder, and the starter's second mapping, on the replay stream.
"""

from __future__ import annotations

import dataclasses
import gzip
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3

from infra import definition
from local.kinesis_poller import MappingConfig, ShardPoller, StreamPoller

if TYPE_CHECKING:
    from local.provision import Provisioned

# Firehose reads up to 10,000 records per GetRecords call, once a second per shard.
FIREHOSE_READ_LIMIT = 10_000
# moto leaves these bucket settings unenforced; the definition's are applied all the same.
_BUCKET_SETTINGS = {
    "BucketEncryption": ("put_bucket_encryption", "ServerSideEncryptionConfiguration"),
    "PublicAccessBlockConfiguration": (
        "put_public_access_block",
        "PublicAccessBlockConfiguration",
    ),
    "OwnershipControls": ("put_bucket_ownership_controls", "OwnershipControls"),
    "VersioningConfiguration": ("put_bucket_versioning", "VersioningConfiguration"),
}
_NOT_EMULATED = {"LifecycleConfiguration"}


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


def provision_archive(
    session: boto3.Session, stage: str, role_arn: str, stream_arns: dict[str, str]
) -> LocalArchive:
    """Creates the archive's resources; stream_arns: the streams' ARNs by logical id."""
    refs: dict[str, str] = {}
    arns = dict(stream_arns)
    delivery: dict[str, Any] = {}
    for logical_id, resource in definition.archive_resources(stage).items():
        kind, props = resource["Type"], _resolve(resource["Properties"], refs, arns)
        if kind == "AWS::S3::Bucket":
            refs[logical_id] = definition.emulated_archive_bucket(stage)
            arns[logical_id] = f"arn:aws:s3:::{refs[logical_id]}"
            _create_bucket(session, refs[logical_id], props)
        elif kind == "AWS::Logs::LogGroup":
            logs = session.client("logs")
            logs.create_log_group(logGroupName=props["LogGroupName"])
            logs.put_retention_policy(
                logGroupName=props["LogGroupName"], retentionInDays=props["RetentionInDays"]
            )
            refs[logical_id] = props["LogGroupName"]
        elif kind == "AWS::Logs::LogStream":
            session.client("logs").create_log_stream(
                logGroupName=props["LogGroupName"], logStreamName=props["LogStreamName"]
            )
            refs[logical_id] = props["LogStreamName"]
        elif kind == "AWS::KinesisFirehose::DeliveryStream":
            # The stack gives the delivery stream its own role (infra/archive.py).
            props["KinesisStreamSourceConfiguration"]["RoleARN"] = role_arn
            props["ExtendedS3DestinationConfiguration"]["RoleARN"] = role_arn
            session.client("firehose").create_delivery_stream(**props)
            delivery = props
        else:
            raise ValueError(f"the local stack cannot create {kind} ({logical_id})")
    destination = delivery["ExtendedS3DestinationConfiguration"]
    return LocalArchive(
        bucket=destination["BucketARN"].rpartition(":")[2],
        delivery_stream_name=delivery["DeliveryStreamName"],
        buffer_seconds=destination["BufferingHints"]["IntervalInSeconds"],
        compression=_compression(destination["CompressionFormat"]),
        delimiter=_delimiter(destination.get("ProcessingConfiguration", {})),
    )


def _resolve(value: Any, refs: dict[str, str], arns: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return refs[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute != "Arn":
                raise ValueError(f"cannot resolve {value}")
            return arns[logical_id]
        return {key: _resolve(item, refs, arns) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, refs, arns) for item in value]
    return value


def _create_bucket(session: boto3.Session, name: str, props: dict[str, Any]) -> None:
    s3 = session.client("s3")
    region = session.region_name
    location = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=name, **location)
    for setting, value in props.items():
        if setting in _NOT_EMULATED:
            continue
        if setting not in _BUCKET_SETTINGS:
            raise ValueError(f"the local stack cannot apply the bucket's {setting}")
        method, argument = _BUCKET_SETTINGS[setting]
        api_value = _encryption(value) if setting == "BucketEncryption" else value
        getattr(s3, method)(Bucket=name, **{argument: api_value})


def _encryption(cloudformation: dict[str, Any]) -> dict[str, Any]:
    """PutBucketEncryption's shape of CloudFormation's BucketEncryption."""
    return {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                **(
                    {"BucketKeyEnabled": rule["BucketKeyEnabled"]}
                    if "BucketKeyEnabled" in rule
                    else {}
                ),
            }
            for rule in cloudformation["ServerSideEncryptionConfiguration"]
        ]
    }


def _compression(name: str) -> str:
    if name not in ("GZIP", "UNCOMPRESSED"):
        raise ValueError(f"the local archive cannot compress with {name}")
    return name


def _delimiter(processing: dict[str, Any]) -> bytes:
    processors = [p["Type"] for p in processing.get("Processors", [])] if processing else []
    if not processing.get("Enabled", False) or not processors:
        return b""
    if processors != ["AppendDelimiterToRecord"]:
        raise ValueError(f"the local archive cannot run the processors {processors}")
    return b"\n"


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


class ArchivePollers:
    """The archive feeder and the starter's mapping of the replay stream, polled together."""

    def __init__(
        self,
        starter: MappingConfig,
        resources: Provisioned,
        session: Any,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        assert resources.archive is not None
        kinesis = session.client("kinesis")
        self.feeder = ArchiveFeeder(
            resources.stream_arn, resources.archive, kinesis, session.client("firehose")
        )
        # The same settings as the event stream's mapping, on the replay stream.
        self.replay = StreamPoller(
            dataclasses.replace(starter, stream_arn=resources.replay_stream_arn),
            kinesis,
            session.client("lambda"),
            session.client("sqs"),
            now=now,
        )

    def poll(self) -> bool:
        archived = self.feeder.poll()
        replayed = self.replay.poll()
        return archived or replayed

    def drain(self) -> None:
        """Archive everything on the event stream and deliver everything on the replay stream."""
        self.feeder.drain()
        self.replay.drain()
