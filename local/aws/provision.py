"""CloudFormation's part: create the stack's resources in the emulator from infra/definition.py.

The same CloudFormation resources that the AWS deployment merges into Chalice's template are
translated here into the API calls CloudFormation would make, plus the Chalice functions
(created with placeholder code: local/aws/lambda_runtime.py runs them in process) and the
archive (the bucket, the delivery logs and the delivery stream of infra/archive.py; the
bucket's lifecycle rule is not applied: moto neither moves nor expires objects).
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
import zipfile
from typing import Any

import boto3
from chalice import Chalice

from infra import definition, refs
from infra.functions import logical_ids
from local.aws.firehose import LocalArchive
from local.aws.lambda_runtime import lambda_handlers

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
class ReviewerPool:
    """The reviewers' user pool of a stage with REVIEW_AUTH=cognito, and the page's client."""

    pool_id: str
    pool_arn: str
    client_id: str
    region: str

    @property
    def issuer(self) -> str:
        """The `iss` of the pool's tokens: AWS's address of the pool, which moto writes too."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


@dataclasses.dataclass(frozen=True)
class Provisioned:
    stage: str
    stream_name: str
    stream_arn: str
    state_machine_arn: str
    failure_queue_url: str
    failure_queue_arn: str
    functions: dict[str, str]  # Chalice name -> deployed function name
    function_arns: dict[str, str]  # Chalice name -> function ARN
    replay_stream_arn: str = ""
    archive: LocalArchive | None = None
    review_topic_arn: str = ""
    # The local stack's inbox of the review topic: a queue subscribed to it, which the console
    # reads (on AWS, a stage setting subscribes an email address instead).
    notifications_queue_url: str = ""
    reviewers: ReviewerPool | None = None


def deployed_name(stage: str, name: str) -> str:
    """The function name Chalice deploys a handler under: <app>-<stage>-<handler>."""
    return definition.resource_name(stage, name)


def function_zip() -> bytes:
    """Code for moto's create_function: never run, the handlers run in process."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# dispatched in process by local/aws/lambda_runtime.py\n")
    return buffer.getvalue()


def provision(app: Chalice, stage: str, session: boto3.Session) -> Provisioned:
    resources = definition.resources(stage)
    environment = definition.stage_environment(stage)
    limits = definition.function_limits(stage)
    iam = session.client("iam")
    role_arn = iam.create_role(
        RoleName=definition.resource_name(stage, "local"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]

    lambda_client = session.client("lambda")
    functions: dict[str, str] = {}
    arns: dict[str, str] = {}
    for name in lambda_handlers(app):
        function_name = deployed_name(stage, name)
        created = lambda_client.create_function(
            FunctionName=function_name,
            Runtime=definition.LAMBDA_RUNTIME,
            Role=role_arn,
            Handler=f"app.{name}",
            Code={"ZipFile": function_zip()},
            Timeout=limits.timeout_seconds,
            MemorySize=limits.memory_mb,
            Environment={"Variables": environment},
        )
        functions[name] = function_name
        arns[name] = created["FunctionArn"]

    # What the template's references resolve to: tables and queues by Ref, functions by
    # their Chalice logical id's Arn.
    values: dict[str, str] = {
        f"{logical_id}.Arn": arns[name]
        for name, logical_id in logical_ids(app).items()
        if name in arns
    }
    queue_url = queue_arn = state_machine_arn = topic_arn = ""
    stream_arns: dict[str, str] = {}  # logical id -> ARN
    # Dependencies first: the state machine refers to the tables and functions.
    for logical_id, resource in sorted(
        resources.items(), key=lambda item: item[1]["Type"] == "AWS::StepFunctions::StateMachine"
    ):
        kind, props = resource["Type"], resource["Properties"]
        if kind == "AWS::DynamoDB::Table":
            _create_table(session, props)
            values[logical_id] = props["TableName"]
        elif kind == "AWS::Kinesis::Stream":
            kinesis = session.client("kinesis")
            kinesis.create_stream(StreamName=props["Name"], ShardCount=props.get("ShardCount", 1))
            stream_arns[logical_id] = _active_stream_arn(kinesis, props["Name"])
            values[logical_id] = props["Name"]
        elif kind == "AWS::SQS::Queue":
            sqs = session.client("sqs")
            queue_url = sqs.create_queue(
                QueueName=props["QueueName"],
                Attributes={"MessageRetentionPeriod": str(props["MessageRetentionPeriod"])},
            )["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            values[logical_id] = queue_url
        elif kind == "AWS::SNS::Topic":
            topic_arn = session.client("sns").create_topic(
                Name=props["TopicName"], Attributes={"KmsMasterKeyId": props["KmsMasterKeyId"]}
            )["TopicArn"]
            values[logical_id] = topic_arn
        elif kind.startswith("AWS::Cognito::"):
            continue  # the reviewers' sign-in, below
        elif kind == "AWS::StepFunctions::StateMachine":
            substitutions = refs.resolve(props["DefinitionSubstitutions"], values)
            body = definition.substituted(props["Definition"], substitutions)
            state_machine_arn = session.client("stepfunctions").create_state_machine(
                name=props["StateMachineName"],
                definition=body,
                roleArn=role_arn,
                type=props["StateMachineType"],
                tracingConfiguration={
                    "enabled": bool(props.get("TracingConfiguration", {}).get("Enabled"))
                },
            )["stateMachineArn"]
        else:
            raise ValueError(f"the local stack cannot create {kind} ({logical_id})")

    return Provisioned(
        stage=stage,
        stream_name=environment["EVENT_STREAM"],
        stream_arn=stream_arns["EventStream"],
        state_machine_arn=state_machine_arn,
        failure_queue_url=queue_url,
        failure_queue_arn=queue_arn,
        functions=functions,
        function_arns=arns,
        replay_stream_arn=stream_arns["ReplayStream"],
        archive=_provision_archive(
            session, stage, role_arn, {f"{id_}.Arn": arn for id_, arn in stream_arns.items()}
        ),
        review_topic_arn=topic_arn,
        notifications_queue_url=_notifications_inbox(session, stage, topic_arn),
        reviewers=(
            provision_reviewers(session, stage)
            if any(r["Type"].startswith("AWS::Cognito::") for r in resources.values())
            else None
        ),
    )


def provision_reviewers(session: boto3.Session, stage: str) -> ReviewerPool:
    """The reviewers' user pool, its page's client and group (infra/definition.py:
    reviewer_resources), as CloudFormation makes them; a stage with REVIEW_AUTH=cognito has
    them, and a test may give them to another."""
    cognito = session.client("cognito-idp")
    values: dict[str, str] = {}
    for logical_id, resource in definition.reviewer_resources(stage).items():
        kind, props = resource["Type"], refs.resolve(resource["Properties"], values)
        if kind == "AWS::Cognito::UserPool":
            name, enabled = props.pop("UserPoolName"), props.pop("EnabledMfas")
            created = cognito.create_user_pool(PoolName=name, **props)["UserPool"]
            cognito.set_user_pool_mfa_config(
                UserPoolId=created["Id"],
                SoftwareTokenMfaConfiguration={"Enabled": "SOFTWARE_TOKEN_MFA" in enabled},
                MfaConfiguration=props["MfaConfiguration"],
            )
            values[logical_id], values[f"{logical_id}.Arn"] = created["Id"], created["Arn"]
        elif kind == "AWS::Cognito::UserPoolClient":
            values[logical_id] = cognito.create_user_pool_client(**props)["UserPoolClient"][
                "ClientId"
            ]
        elif kind == "AWS::Cognito::UserPoolGroup":
            cognito.create_group(**props)
            values[logical_id] = props["GroupName"]
        else:
            raise ValueError(f"the local stack cannot create {kind} ({logical_id})")
    return ReviewerPool(
        pool_id=values[definition.POOL],
        pool_arn=values[f"{definition.POOL}.Arn"],
        client_id=values[definition.PAGE_CLIENT],
        region=session.region_name,
    )


def notifications_queue_name(stage: str) -> str:
    return definition.resource_name(stage, "review-notifications")


def _notifications_inbox(session: boto3.Session, stage: str, topic_arn: str) -> str:
    """A queue subscribed to the review topic: what the topic sent, for the console."""
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=notifications_queue_name(stage))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    session.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return url


def _active_stream_arn(kinesis: Any, name: str) -> str:
    """The stream's ARN once it is ACTIVE, as CloudFormation waits for it: DescribeStreamSummary
    answers both, one call a poll (moto's streams are ACTIVE at once: one call in all, where
    the stream_exists waiter's DescribeStream and then the ARN took two)."""
    while True:
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            return str(summary["StreamARN"])
        time.sleep(0.05)


def _create_table(session: boto3.Session, props: dict[str, Any]) -> None:
    dynamodb = session.client("dynamodb")
    params = {
        k: props[k]
        for k in (
            "TableName",
            "BillingMode",
            "AttributeDefinitions",
            "KeySchema",
            "GlobalSecondaryIndexes",
        )
        if k in props
    }
    dynamodb.create_table(**params)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=props["TableName"], PointInTimeRecoverySpecification=pitr
        )


def _provision_archive(
    session: boto3.Session, stage: str, role_arn: str, values: dict[str, str]
) -> LocalArchive:
    """Creates the archive's resources; `values`: what the template's references resolve to
    so far (infra/refs.py's keys), which this adds to."""
    delivery: dict[str, Any] = {}
    for logical_id, resource in definition.archive_resources(stage).items():
        kind, props = resource["Type"], refs.resolve(resource["Properties"], values)
        if kind == "AWS::S3::Bucket":
            bucket = values[logical_id] = definition.emulated_archive_bucket(stage)
            values[f"{logical_id}.Arn"] = f"arn:aws:s3:::{bucket}"
            _create_bucket(session, bucket, props)
        elif kind == "AWS::Logs::LogGroup":
            logs = session.client("logs")
            logs.create_log_group(logGroupName=props["LogGroupName"])
            logs.put_retention_policy(
                logGroupName=props["LogGroupName"], retentionInDays=props["RetentionInDays"]
            )
            values[logical_id] = props["LogGroupName"]
        elif kind == "AWS::Logs::LogStream":
            session.client("logs").create_log_stream(
                logGroupName=props["LogGroupName"], logStreamName=props["LogStreamName"]
            )
            values[logical_id] = props["LogStreamName"]
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
