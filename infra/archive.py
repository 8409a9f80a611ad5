"""The archive's part of the packaged stack (README, "Archive, replay, redrive").

infra/definition.py holds what the emulator makes too: the bucket, the delivery logs, the
delivery stream and the replay stream. Here is what only AWS needs: the delivery stream's
role, the bucket's TLS-only policy, alarms on delivery, the starter's reads of the replay
stream and its second mapping, and the outputs that `make replay` and `make redrive` read.
"""

from __future__ import annotations

from typing import Any

from infra import definition, security
from infra.template import _alarm, _allow, _arn, _sub

KINESIS_READS = [
    "kinesis:DescribeStream",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
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
    resources["ArchiveBucketPolicy"] = _tls_only()
    resources.update(_alarms(stage))
    _starter_reads_the_replay_stream(resources)
    # The delivery logs join the stack's log groups under StackKey, and in its grant to Logs.
    security.encrypt_log_groups(resources)
    template["Outputs"].update(
        {
            "ArchiveBucketName": {"Value": {"Ref": "ArchiveBucket"}},
            "ReplayStreamName": {"Value": {"Ref": "ReplayStream"}},
            "ArchiveDeliveryStreamName": {"Value": {"Ref": "ArchiveDeliveryStream"}},
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
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "firehose.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        # Only Firehose acting for this account (the confused deputy).
                        "Condition": {
                            "StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}
                        },
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "least-privilege",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


def _tls_only() -> dict[str, Any]:
    bucket = {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": "ArchiveBucket"},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket, _sub("${ArchiveBucket.Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
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
