"""The archive's part of the packaged stack (docs/operators.md, "Archive, replay, redrive").

infra/definition.py holds what the emulator makes too: the bucket, the delivery logs, the
delivery stream and the replay stream. Here is what only AWS needs: the archive's own key,
the bucket's access logs (in a bucket of their own), the delivery stream's role, the
buckets' TLS-only policies, alarms on delivery, the starter's reads of the replay stream and
its second mapping, and the outputs that `make replay` and `make redrive` read.
"""

from __future__ import annotations

import copy
from typing import Any

from infra import definition, security
from infra.template import _alarm, _allow, _arn, _sub

KINESIS_READS = [
    "kinesis:DescribeStream",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
# Where S3 writes the archive bucket's access logs, in the access-log bucket.
ACCESS_LOG_PREFIX = "archive/"
# Past this, the archive is late: the oldest record not yet in S3 is this old (seconds).
FRESHNESS_SLACK_SECONDS = 600


def add_archive(template: dict[str, Any], stage: str) -> dict[str, Any]:
    """Adds the archive to a merge template (infra/template.py: merge_template)."""
    resources = template["Resources"]
    resources.update(definition.archive_resources(stage))
    role = {"Fn::GetAtt": ["ArchiveDeliveryRole", "Arn"]}
    delivery = resources["ArchiveDeliveryStream"]["Properties"]
    delivery["KinesisStreamSourceConfiguration"]["RoleARN"] = role
    delivery["ExtendedS3DestinationConfiguration"]["RoleARN"] = role
    resources["ArchiveDeliveryRole"] = _delivery_role()
    resources["ArchiveKey"] = _archive_key()
    bucket = resources["ArchiveBucket"]["Properties"]
    # On AWS, the archive's own key; the emulator keeps the aws/s3 key of the definition.
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] = {"Fn::GetAtt": ["ArchiveKey", "Arn"]}
    bucket["LoggingConfiguration"] = {
        "DestinationBucketName": {"Ref": "ArchiveAccessLogBucket"},
        "LogFilePrefix": ACCESS_LOG_PREFIX,
        "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}},
    }
    resources["ArchiveAccessLogBucket"] = _access_log_bucket(bucket)
    resources["ArchiveBucketPolicy"] = _bucket_policy("ArchiveBucket", [])
    resources["ArchiveAccessLogBucketPolicy"] = _bucket_policy(
        "ArchiveAccessLogBucket", [_s3_writes_the_access_logs()]
    )
    resources.update(_alarms(stage))
    _starter_reads_the_replay_stream(resources)
    # The delivery logs join the stack's log groups under StackKey, and in its grant to Logs.
    security.encrypt_log_groups(resources)
    template["Outputs"].update(
        {
            "ArchiveBucketName": {"Value": {"Ref": "ArchiveBucket"}},
            "ReplayStreamName": {"Value": {"Ref": "ReplayStream"}},
            "ArchiveDeliveryStreamName": {"Value": {"Ref": "ArchiveDeliveryStream"}},
            # Who replays or redrives from the archive needs kms:Decrypt on it (docs/operators.md).
            "ArchiveKeyArn": {"Value": {"Fn::GetAtt": ["ArchiveKey", "Arn"]}},
            "ArchiveAccessLogBucketName": {"Value": {"Ref": "ArchiveAccessLogBucket"}},
        }
    )
    return template


def add_replay_mapping(template: dict[str, Any]) -> None:
    """The starter's mapping of the replay stream, with the settings of its Chalice-made
    mapping of the event stream (the decorator's, merged with definition.starter_mapping).

    Added to the packaged template (sam.json), where Chalice's mapping exists to copy."""
    events = template["Resources"]["Starter"]["Properties"]["Events"]
    (first,) = [event for event in events.values() if event["Type"] == "Kinesis"]
    # A SAM Kinesis event's properties are the mapping's, the stream aside.
    settings = {k: v for k, v in first["Properties"].items() if k != "Stream"}
    template["Resources"]["StarterReplayMapping"] = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            **settings,
            "FunctionName": {"Ref": "Starter"},
            "EventSourceArn": {"Fn::GetAtt": ["ReplayStream", "Arn"]},
        },
    }


def _delivery_role() -> dict[str, Any]:
    """Firehose reads the event stream, writes the archive's two prefixes, logs its errors."""
    bucket = {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}
    objects = [
        _sub(f"${{ArchiveBucket.Arn}}/{prefix}*")
        for prefix in (definition.ARCHIVE_PREFIX, definition.ARCHIVE_ERROR_PREFIX)
    ]
    log_stream = _arn(
        "logs", "log-group:${ArchiveDeliveryLogs}:log-stream:${ArchiveDeliveryLogStream}"
    )
    statements = [
        _allow(KINESIS_READS, [{"Fn::GetAtt": ["EventStream", "Arn"]}]),
        # AWS's documented set for an S3 destination, on the archive's prefixes only.
        _allow(["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"], objects),
        _allow(
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], [bucket]
        ),
        _allow(["logs:PutLogEvents"], [log_stream]),
        # The bucket's key, only as S3 uses it for the archive: with S3 Bucket Keys (on) the
        # encryption context is the bucket's ARN, without them an object's. Decrypt completes
        # multipart uploads.
        {
            **_allow(
                ["kms:Decrypt", "kms:GenerateDataKey"], [{"Fn::GetAtt": ["ArchiveKey", "Arn"]}]
            ),
            "Condition": {
                "StringEquals": {"kms:ViaService": _sub("s3.${AWS::Region}.amazonaws.com")},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, *objects]},
            },
        },
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            # Only Firehose acting for this account (the confused deputy).
            "AssumeRolePolicyDocument": security.trust(
                "firehose.amazonaws.com",
                {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}},
            ),
            "Policies": [
                {
                    "PolicyName": "least-privilege",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


def _archive_key() -> dict[str, Any]:
    """The archive's customer managed key: reading an event (emails in it) takes kms:Decrypt
    on this key besides s3:GetObject, so a broad S3 read (ReadOnlyAccess, say) reads nothing.
    Kept with the bucket when the stack is deleted: without it, the archive is unreadable."""
    return {
        "Type": "AWS::KMS::Key",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": _sub("${AWS::StackName}: the event archive (kept with its bucket)"),
            "EnableKeyRotation": True,
            # Should someone schedule its deletion, the longest window to notice and cancel.
            "PendingWindowInDays": 30,
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [security.account_administers_through_iam()],
            },
        },
    }


def _access_log_bucket(archive_bucket: dict[str, Any]) -> dict[str, Any]:
    """Who read, wrote or deleted what in the archive: S3's access logs, kept a year like
    the API's, in a bucket of their own that is as private as the archive's. Encrypted with
    S3's own keys (SSE-S3): what S3 documents for a log target; the logs hold requesters,
    addresses and object keys, never an event."""
    private = ("PublicAccessBlockConfiguration", "OwnershipControls", "VersioningConfiguration")
    return {
        "Type": "AWS::S3::Bucket",
        # The logs of a kept archive are kept too (and a bucket with objects cannot be deleted).
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            **{setting: copy.deepcopy(archive_bucket[setting]) for setting in private},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "access-logs-kept-a-year",
                        "Status": "Enabled",
                        "ExpirationInDays": security.ACCESS_LOG_RETENTION_DAYS,
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    }
                ]
            },
        },
        "Metadata": security.skip(("CKV_AWS_18", security.ACCEPTED_LOG_BUCKET_UNLOGGED)),
    }


def _s3_writes_the_access_logs() -> dict[str, Any]:
    """S3's log delivery may write the archive bucket's logs, under their prefix, only."""
    return {
        "Sid": "S3WritesTheArchiveAccessLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": _sub(f"${{ArchiveAccessLogBucket.Arn}}/{ACCESS_LOG_PREFIX}*"),
        "Condition": {
            "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}},
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        },
    }


def _bucket_policy(logical_id: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The statements, and a denial of any request without TLS."""
    bucket = {"Fn::GetAtt": [logical_id, "Arn"]}
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": logical_id},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    *statements,
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket, _sub(f"${{{logical_id}.Arn}}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    }


def _alarms(stage: str) -> dict[str, Any]:
    dimensions = [{"Name": "DeliveryStreamName", "Value": definition.delivery_stream_name(stage)}]

    def firehose(metric: str, statistic: str) -> dict[str, Any]:
        return {
            "Namespace": "AWS/Firehose",
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": statistic,
        }

    found = {
        "ArchiveLateAlarm": _alarm(
            "The archive is late: events wait longer than their buffer to reach S3.",
            firehose("DeliveryToS3.DataFreshness", "Maximum"),
            definition.archive_buffer_seconds(stage) + FRESHNESS_SLACK_SECONDS,
        ),
        "ArchiveDeliveryFailedAlarm": _alarm(
            "Deliveries to S3 failed: Firehose retries for 24 hours, then drops the data.",
            firehose("DeliveryToS3.Success", "Minimum"),
            1,
        ),
        "ArchiveReadsThrottledAlarm": _alarm(
            "Firehose's reads of the event stream are throttled: its consumers exceed a "
            "shard's 5 reads or 2 MB per second (benchmarks/model.py capacity).",
            firehose("ThrottledGetRecords", "Sum"),
            0,
        ),
    }
    found["ArchiveDeliveryFailedAlarm"]["Properties"]["ComparisonOperator"] = "LessThanThreshold"
    for logical_id, alarm in found.items():
        alarm["Properties"]["AlarmName"] = _sub(f"${{AWS::StackName}}-{logical_id}")
    return found


def _starter_reads_the_replay_stream(resources: dict[str, Any]) -> None:
    (policy,) = resources["StarterRole"]["Properties"]["Policies"]
    (reads,) = [
        statement
        for statement in policy["PolicyDocument"]["Statement"]
        if "kinesis:GetRecords" in statement["Action"]
    ]
    reads["Resource"].append({"Fn::GetAtt": ["ReplayStream", "Arn"]})
