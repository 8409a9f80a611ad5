"""The one definition of the stack's resources, per stage.

The AWS deployment merges these CloudFormation resources into Chalice's template; the local
stack provisions the very same resources in the emulator. Every name derives from the app's
name (`app_name` in .chalice/config.json) and the stage, here; the functions read theirs
from the environment, which the packaging (infra/chalice_cli.py), the local stack and the
tests set from stage_environment(), so the code and the resources agree.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import string
from pathlib import Path
from typing import Any

from chalicelib.adapters import metrics, operations_table, reviews_table, users_table
from chalicelib.adapters.dynamodb import KEY, Index, TableSchema
from chalicelib.config import CHALICE_CONFIG, configured_app_name
from chalicelib.domain.reviews import REVIEWERS_GROUP

ROOT = Path(__file__).resolve().parent.parent
STATE_MACHINE_FILE = ROOT / "statemachine" / "user_create.asl.json"
# The workflow's retry policies by name: a task's "Retry": "<name>" in the ASL file.
RETRY_POLICIES_FILE = ROOT / "statemachine" / "retry_policies.json"

# The Lambda runtime of every function, stated once (AWS deprecates python3.13 on
# 2029-06-30). `make package` builds for it whatever Python runs the build.
LAMBDA_RUNTIME = "python3.13"


# Queues are encrypted with SSE-KMS under the AWS managed key: whoever sends to them (the
# starter's mapping, Lambda for the sweeper's dead letters) is a principal of this account,
# which that key's policy admits.
QUEUE_KEY = "alias/aws/sqs"


def _step_functions() -> dict[str, str]:
    """The ASL's ${<LogicalId>FunctionArn} placeholders -> the functions' logical ids."""
    names = re.findall(r"\$\{(\w+)FunctionArn\}", STATE_MACHINE_FILE.read_text())
    return {f"{name}FunctionArn": name for name in sorted(set(names))}


def retry_policies() -> dict[str, list[dict[str, Any]]]:
    """retry_policies.json's policies, by name, as the retriers a task's Retry holds. A
    variant ("Like" another policy, "Without" some of its errors) is spelled out."""
    written = json.loads(RETRY_POLICIES_FILE.read_text())
    policies: dict[str, list[dict[str, Any]]] = {}
    for name, policy in written.items():
        if name == "Comment":
            continue
        if "Like" in policy:
            without = set(policy["Without"])
            policies[name] = [
                {**retrier, "ErrorEquals": [e for e in retrier["ErrorEquals"] if e not in without]}
                for retrier in written[policy["Like"]]["Retry"]
            ]
        else:
            policies[name] = policy["Retry"]
    return policies


def workflow_definition() -> dict[str, Any]:
    """The state machine as AWS and the local stack run it: the ASL file with each task's named
    retry policy ("Retry": "LambdaStep") in its place. The ${...} placeholders stay, for
    DefinitionSubstitutions."""
    definition: dict[str, Any] = json.loads(STATE_MACHINE_FILE.read_text())
    policies = retry_policies()

    def resolve(states: dict[str, Any]) -> None:
        for name, state in states.items():
            named = state.get("Retry")
            if isinstance(named, str):
                if named not in policies:
                    raise ValueError(
                        f"{STATE_MACHINE_FILE.name}: {name}'s Retry names {named!r}, which "
                        f"{RETRY_POLICIES_FILE.name} does not define"
                    )
                state["Retry"] = policies[named]
            for branch in state.get("Branches", []):
                resolve(branch["States"])
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    resolve(state[key]["States"])

    resolve(definition["States"])
    return definition


def substituted(definition: dict[str, Any], substitutions: dict[str, str]) -> str:
    """The definition's text with each ${Name} placeholder replaced by its value, as
    CloudFormation applies DefinitionSubstitutions."""
    body = json.dumps(definition)
    for key, value in substitutions.items():
        body = body.replace("${" + key + "}", value)
    return body


# The functions the state machine invokes, by the placeholder that stands for each ARN.
STEP_FUNCTIONS = _step_functions()
STARTER_FUNCTION = "starter"


@dataclasses.dataclass(frozen=True)
class Capacity:
    """What scales per stage. shards=0 means an on-demand stream."""

    shards: int = 1
    parallelization: int = 1
    # STANDARD only: exactly-once per execution name, visible in the console, and able to wait
    # days for a reviewer (.waitForTaskToken), which EXPRESS workflows cannot. See
    # docs/operators.md, "Deploy to AWS".
    workflow_type: str = "STANDARD"
    # The starter's reserved concurrency: at most this many batches call StartExecution at
    # once (its quota is per account and region). Below shards x parallelization, the
    # mapping waits (iterator age, alarmed) rather than overrun the quota.
    starter_concurrency: int = 2

    def __post_init__(self) -> None:
        if self.workflow_type != "STANDARD":
            raise ValueError(
                f"workflow type {self.workflow_type!r}: the workflow waits for reviewers "
                "(.waitForTaskToken, for up to REVIEW_TIMEOUT_SECONDS), which only STANDARD "
                "state machines can do"
            )


# Emulated stages (local, test) use the defaults.
_CAPACITY = {
    "dev": Capacity(shards=1, parallelization=2, starter_concurrency=2),
    "prod": Capacity(shards=0, parallelization=10, starter_concurrency=10),
}


def capacity(stage: str) -> Capacity:
    return _CAPACITY.get(stage, Capacity())


def app_name() -> str:
    return configured_app_name()


def resource_name(stage: str, resource: str) -> str:
    """Every resource's name: the app's, the stage's, and the resource's own word."""
    return f"{app_name()}-{stage}-{resource}"


# The resources the functions find by name, by the environment variable that names each.
NAMED_RESOURCES = {
    "OPERATIONS_TABLE": "operations",
    "USERS_TABLE": "users",
    "REVIEWS_TABLE": "reviews",
    "EVENT_STREAM": "events",
    "STATE_MACHINE_NAME": "workflow",
    "REVIEW_TOPIC": "review-requests",
}


def resource_names(stage: str) -> dict[str, str]:
    """What the functions of a stage are told of names: the app's (APP_NAME), and each named
    resource's."""
    return {
        "APP_NAME": app_name(),
        **{variable: resource_name(stage, word) for variable, word in NAMED_RESOURCES.items()},
    }


def stage_environment(stage: str) -> dict[str, str]:
    """The environment variables of a stage's functions: .chalice/config.json's settings (its
    own and every stage's), where the metrics go (metrics_environment), and the names derived
    here."""
    config = json.loads(CHALICE_CONFIG.read_text())
    if stage not in config["stages"]:
        raise ValueError(f"no stage {stage!r} in {CHALICE_CONFIG}")
    settings = {
        **metrics_environment(stage),
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }
    derived = resource_names(stage)
    if stated := sorted(set(settings) & set(derived)):
        raise ValueError(
            f"{CHALICE_CONFIG} sets {', '.join(stated)}: names derive from app_name and the "
            "stage (infra/definition.py), so remove them from the config"
        )
    return {**settings, **derived}


def metrics_environment(stage: str) -> dict[str, str]:
    """Where the functions' metrics go (chalicelib/adapters/metrics.py): the app's namespace,
    the stage as a dimension. The stack sets them on every function, the local stack too."""
    return {metrics.NAMESPACE_VARIABLE: app_name(), metrics.STAGE_VARIABLE: stage}


@dataclasses.dataclass(frozen=True)
class FunctionLimits:
    timeout_seconds: int
    memory_mb: int


def function_limits(stage: str) -> FunctionLimits:
    """Every function's timeout and memory: .chalice/config.json's lambda_timeout and
    lambda_memory_size (a stage's own value first), which Chalice packages too."""
    config = json.loads(CHALICE_CONFIG.read_text())
    stage_config = config["stages"].get(stage, {})

    def setting(key: str) -> int:
        if key not in stage_config and key not in config:
            raise ValueError(f"{CHALICE_CONFIG} sets no {key}")
        return int(stage_config.get(key, config.get(key)))

    return FunctionLimits(setting("lambda_timeout"), setting("lambda_memory_size"))


# OpenTelemetry on AWS (a stage whose TRACER is `otel`): the ADOT Lambda layer, started by its
# wrapper, brings the SDK, instruments the AWS SDK and exports the spans to X-Ray. Its ARN
# differs by region, in the account that publishes it and in the version number of the same
# release: the template picks it from this table (FindInMap on the stack's region), one
# release's ARNs for every region AWS publishes it in, as AWS's own observability workshop
# lists them (aws-samples/one-observability-demo, src/cdk/lib/constructs/lambda.ts:
# getOpenTelemetryPythonLayerArn; the release tables of aws-observability/aws-otel-python-
# instrumentation give the same accounts). Not checked against a deployment: ADOT_LAYER_ARN at
# packaging time names another layer (a newer release, or a region missing here).
ADOT_LAYER_NAME = "AWSOpenTelemetryDistroPython"
ADOT_LAYER_MAP = "AdotPythonLayer"
_ADOT_MAIN_ACCOUNT = "615299751070"
ADOT_LAYERS: dict[str, tuple[str, int]] = {  # region: (publishing account, layer version)
    "us-east-1": (_ADOT_MAIN_ACCOUNT, 16),
    "us-east-2": (_ADOT_MAIN_ACCOUNT, 13),
    "us-west-1": (_ADOT_MAIN_ACCOUNT, 20),
    "us-west-2": (_ADOT_MAIN_ACCOUNT, 20),
    "af-south-1": ("904233096616", 10),
    "ap-east-1": ("888577020596", 10),
    "ap-south-1": (_ADOT_MAIN_ACCOUNT, 13),
    "ap-south-2": ("796973505492", 10),
    "ap-northeast-1": (_ADOT_MAIN_ACCOUNT, 13),
    "ap-northeast-2": (_ADOT_MAIN_ACCOUNT, 13),
    "ap-northeast-3": (_ADOT_MAIN_ACCOUNT, 12),
    "ap-southeast-1": (_ADOT_MAIN_ACCOUNT, 12),
    "ap-southeast-2": (_ADOT_MAIN_ACCOUNT, 13),
    "ap-southeast-3": ("039612877180", 10),
    "ap-southeast-4": ("713881805771", 10),
    "ap-southeast-5": ("152034782359", 1),
    "ap-southeast-7": ("980416031188", 1),
    "ca-central-1": (_ADOT_MAIN_ACCOUNT, 13),
    "ca-west-1": ("595944127152", 1),
    "eu-central-1": (_ADOT_MAIN_ACCOUNT, 13),
    "eu-central-2": ("156041407956", 10),
    "eu-west-1": (_ADOT_MAIN_ACCOUNT, 13),
    "eu-west-2": (_ADOT_MAIN_ACCOUNT, 13),
    "eu-west-3": (_ADOT_MAIN_ACCOUNT, 13),
    "eu-south-1": ("257394471194", 10),
    "eu-south-2": ("490004653786", 10),
    "eu-north-1": (_ADOT_MAIN_ACCOUNT, 13),
    "il-central-1": ("746669239226", 10),
    "me-south-1": ("980921751758", 10),
    "me-central-1": ("739275441131", 10),
    "mx-central-1": ("610118373846", 1),
    "sa-east-1": (_ADOT_MAIN_ACCOUNT, 13),
}
OTEL_WRAPPER = "/opt/otel-instrument"


def tracer(stage: str) -> str:
    """The stage's tracer: `xray` (the default), `otel` or `off`
    (chalicelib/adapters/tracing.py)."""
    return stage_environment(stage).get("TRACER", "xray")


def adot_layers() -> dict[str, dict[str, str]]:
    """The template's Mappings entry: each region's ADOT layer ARN."""
    return {
        region: {"Arn": f"arn:aws:lambda:{region}:{account}:layer:{ADOT_LAYER_NAME}:{version}"}
        for region, (account, version) in ADOT_LAYERS.items()
    }


def otel_layer() -> dict[str, Any]:
    """The ADOT layer of the stack's region (ADOT_LAYER_ARN at packaging time, if set)."""
    if chosen := os.environ.get("ADOT_LAYER_ARN"):
        return {"Fn::Sub": chosen}
    return {"Fn::FindInMap": [ADOT_LAYER_MAP, {"Ref": "AWS::Region"}, "Arn"]}


def api_stage(stage: str) -> str:
    """The API Gateway stage Chalice deploys the stage's API to (the URL's first segment)."""
    config = json.loads(CHALICE_CONFIG.read_text())
    return str(config["stages"].get(stage, {}).get("api_gateway_stage", "api"))


def api_function_name(stage: str) -> str:
    """The function Chalice deploys the API's routes in: <app>-<stage>."""
    return f"{app_name()}-{stage}"


def stack_name(stage: str) -> str:
    """The CloudFormation stack of a deployed stage (`make deploy STAGE=...`)."""
    return f"{app_name()}-{stage}"


def starter_failure_queue_name(stage: str) -> str:
    return resource_name(stage, "starter-failures")


def sweeper_dead_letter_queue_name(stage: str) -> str:
    return resource_name(stage, "sweeper-dead-letters")


def starter_mapping(stage: str) -> dict[str, Any]:
    """What the starter's event source mapping needs beyond Chalice's decorator."""
    return {
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "BisectBatchOnFunctionError": True,
        # Finite, so a poison record cannot hold its shard: after these it goes to the queue.
        "MaximumRetryAttempts": 3,
        "MaximumRecordAgeInSeconds": 3600,
        "ParallelizationFactor": capacity(stage).parallelization,
    }


def resources(stage: str) -> dict[str, dict[str, Any]]:
    env = stage_environment(stage)
    found: dict[str, dict[str, Any]] = {
        "OperationsTable": table(env["OPERATIONS_TABLE"], operations_table.SCHEMA),
        "UsersTable": table(env["USERS_TABLE"], users_table.SCHEMA),
        "ReviewsTable": table(env["REVIEWS_TABLE"], reviews_table.SCHEMA),
        "EventStream": {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {
                "Name": env["EVENT_STREAM"],
                **_stream_mode(capacity(stage)),
                "RetentionPeriodHours": 24,
                "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
            },
        },
        "StarterFailureQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": starter_failure_queue_name(stage),
                "MessageRetentionPeriod": 14 * 24 * 3600,
                "KmsMasterKeyId": QUEUE_KEY,
            },
        },
        "Workflow": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": env["STATE_MACHINE_NAME"],
                "StateMachineType": capacity(stage).workflow_type,
                "TracingConfiguration": {"Enabled": True},
                "Definition": workflow_definition(),
                "DefinitionSubstitutions": {
                    **{sub: {"Fn::GetAtt": [fn, "Arn"]} for sub, fn in STEP_FUNCTIONS.items()},
                    "OperationsTableName": {"Ref": "OperationsTable"},
                },
            },
        },
    }
    found["ReplayStream"] = replay_stream(stage)
    found["ReviewTopic"] = review_topic(env["REVIEW_TOPIC"])
    if env.get("REVIEW_AUTH") == "cognito":
        found.update(reviewer_resources(stage))
    return found


# Human review's sign-in and notification (docs/reviewers.md).

# The topic the review-request step announces each review on: SNS's AWS managed key
# encrypts it at rest (what publishes to it, a function, is a principal of this account).
TOPIC_KEY = "alias/aws/sns"
# Logical ids of the reviewers' sign-in.
POOL, PAGE_CLIENT, GROUP = "ReviewerPool", "ReviewerPageClient", "ReviewersGroup"
# Cognito's tokens for the page last an hour: then the reviewer signs in again (the page
# keeps no refresh token).
TOKEN_VALIDITY_MINUTES = 60
# A temporary password (`make reviewer`) is good for this many days.
TEMPORARY_PASSWORD_DAYS = 7
PASSWORD_POLICY = {
    "MinimumLength": 14,
    "RequireLowercase": True,
    "RequireUppercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": TEMPORARY_PASSWORD_DAYS,
}


# Symbols a shell passes through unquoted (no glob, history or comment character).
_PASSWORD_SYMBOLS = "%+-.:@_"


def generated_password(length: int = 20) -> str:
    """A password PASSWORD_POLICY takes: each kind of character, the rest at random."""
    if length < PASSWORD_POLICY["MinimumLength"]:
        raise ValueError(f"a password has at least {PASSWORD_POLICY['MinimumLength']} characters")
    kinds = [string.ascii_lowercase, string.ascii_uppercase, string.digits, _PASSWORD_SYMBOLS]
    chosen = [secrets.choice(kind) for kind in kinds]
    everything = "".join(kinds)
    chosen += [secrets.choice(everything) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


def review_topic(name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SNS::Topic",
        "Properties": {"TopicName": name, "KmsMasterKeyId": TOPIC_KEY},
    }


def reviewer_pool_name(stage: str) -> str:
    return resource_name(stage, "reviewers")


def reviewer_resources(stage: str) -> dict[str, dict[str, Any]]:
    """The reviewers' user pool (a stage with REVIEW_AUTH=cognito): people an administrator
    adds (`make reviewer`), a strong password, MFA optional, nothing kept of them but a user
    name and the email address their temporary password goes to; the page's app client (no
    secret: it runs in a browser); and the reviewers' group the app requires."""
    return {
        POOL: {
            "Type": "AWS::Cognito::UserPool",
            "Properties": {
                "UserPoolName": reviewer_pool_name(stage),
                "AdminCreateUserConfig": {
                    "AllowAdminCreateUserOnly": True,
                    "InviteMessageTemplate": {
                        "EmailSubject": "You can review sign-ups",
                        "EmailMessage": (
                            "Your user name is {username} and your temporary password is "
                            "{####}. Sign in on the reviewer page, then choose your own "
                            f"password within {TEMPORARY_PASSWORD_DAYS} days."
                        ),
                    },
                },
                "Policies": {"PasswordPolicy": PASSWORD_POLICY},
                "MfaConfiguration": "OPTIONAL",
                "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                "UsernameConfiguration": {"CaseSensitive": False},
                "AutoVerifiedAttributes": ["email"],
                "AccountRecoverySetting": {
                    "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
                },
                "Schema": [
                    {
                        "Name": "email",
                        "AttributeDataType": "String",
                        "Required": True,
                        "Mutable": True,
                    }
                ],
            },
        },
        PAGE_CLIENT: {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "ClientName": resource_name(stage, "reviewer-page"),
                "UserPoolId": {"Ref": POOL},
                "GenerateSecret": False,
                # The page signs in with the user name and password over TLS to Cognito
                # (USER_PASSWORD_AUTH): docs/reviewers.md says why not SRP.
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "PreventUserExistenceErrors": "ENABLED",
                "EnableTokenRevocation": True,
                "IdTokenValidity": TOKEN_VALIDITY_MINUTES,
                "AccessTokenValidity": TOKEN_VALIDITY_MINUTES,
                "RefreshTokenValidity": 1,
                "TokenValidityUnits": {
                    "IdToken": "minutes",
                    "AccessToken": "minutes",
                    "RefreshToken": "days",
                },
                "ReadAttributes": ["email"],
                "WriteAttributes": [],
            },
        },
        GROUP: {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": {
                "GroupName": REVIEWERS_GROUP,
                "UserPoolId": {"Ref": POOL},
                "Description": "People who decide the sign-ups left to a person",
            },
        },
    }


def table(name: str, schema: TableSchema) -> dict[str, Any]:
    """A table as its adapter uses it (the adapter's TableSchema: its indexes, projections
    and TTL attribute): keyed by one string, on demand, with point-in-time recovery."""
    keys = [
        KEY,
        *(key for index in schema.indexes for key in (index.partition_key, index.sort_key)),
    ]
    properties: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": key, "AttributeType": "S"} for key in dict.fromkeys(keys)
        ],
        "KeySchema": [{"AttributeName": KEY, "KeyType": "HASH"}],
    }
    if schema.indexes:
        properties["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": _projection(index),
            }
            for index in schema.indexes
        ]
    if schema.time_to_live is not None:
        properties["TimeToLiveSpecification"] = {
            "AttributeName": schema.time_to_live,
            "Enabled": True,
        }
    properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def _projection(index: Index) -> dict[str, Any]:
    if index.projected is None:
        return {"ProjectionType": "ALL"}
    if not index.projected:
        return {"ProjectionType": "KEYS_ONLY"}
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.projected)}


def _stream_mode(stage_capacity: Capacity) -> dict[str, Any]:
    if stage_capacity.shards == 0:
        return {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}}
    return {"ShardCount": stage_capacity.shards}


# The archive and the replay stream (docs/operators.md, "Archive, replay, redrive").

# Firehose appends the UTC hour, YYYY/MM/dd/HH/, to a prefix without expressions; so does
# moto's Firehose, so keys have the same shape on AWS and on the emulator.
ARCHIVE_PREFIX = "events/"
ARCHIVE_ERROR_PREFIX = "errors/"
# Firehose writes an object when its buffer is this old (or 5 MB): sooner means more, smaller
# objects. Emulated stages flush after a second, so that `make run` shows the archive at once.
_ARCHIVE_BUFFER_SECONDS = {"dev": 60, "prod": 300}
# Replays are paced by Step Functions' start quota (300/s), which one shard's 1,000 records/s
# exceeds already.
REPLAY_SHARDS = 1


def replay_stream_name(stage: str) -> str:
    return resource_name(stage, "replay")


def delivery_stream_name(stage: str) -> str:
    return resource_name(stage, "archive")


def emulated_archive_bucket(stage: str) -> str:
    """On AWS, CloudFormation names the bucket (it is kept when the stack is deleted, so a
    fixed name would block the next stack of the stage); the emulator's is named here."""
    return resource_name(stage, "archive")


def archive_buffer_seconds(stage: str) -> int:
    return _ARCHIVE_BUFFER_SECONDS.get(stage, 1)


def replay_stream(stage: str) -> dict[str, Any]:
    """A second stream for replays and redrives, read by the starter through its own mapping:
    a replay neither eats the event stream's read capacity nor gets archived again."""
    return {
        "Type": "AWS::Kinesis::Stream",
        "Properties": {
            "Name": replay_stream_name(stage),
            "ShardCount": REPLAY_SHARDS,
            "RetentionPeriodHours": 24,
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
    }


def archive_resources(stage: str) -> dict[str, dict[str, Any]]:
    """Every record of the event stream, delivered to S3 by Firehose: gzipped, one JSON event
    per line, under events/YYYY/MM/dd/HH/. The roles and alarms are in infra/archive.py."""
    log_group = f"/aws/kinesisfirehose/{delivery_stream_name(stage)}"
    return {
        "ArchiveBucket": {
            "Type": "AWS::S3::Bucket",
            # The archive outlives the stack: deleting the stack keeps the bucket.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            # Kept for ever, cheaper once replays of it become rare.
                            "Id": "archive-tiers",
                            "Status": "Enabled",
                            "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}],
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                        }
                    ]
                },
            },
        },
        "ArchiveDeliveryLogs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": log_group, "RetentionInDays": 30},
        },
        "ArchiveDeliveryLogStream": {
            "Type": "AWS::Logs::LogStream",
            "Properties": {
                "LogGroupName": {"Ref": "ArchiveDeliveryLogs"},
                "LogStreamName": "DestinationDelivery",
            },
        },
        "ArchiveDeliveryStream": {
            "Type": "AWS::KinesisFirehose::DeliveryStream",
            "Properties": {
                "DeliveryStreamName": delivery_stream_name(stage),
                "DeliveryStreamType": "KinesisStreamAsSource",
                "KinesisStreamSourceConfiguration": {
                    "KinesisStreamARN": {"Fn::GetAtt": ["EventStream", "Arn"]}
                },
                "ExtendedS3DestinationConfiguration": {
                    "BucketARN": {"Fn::GetAtt": ["ArchiveBucket", "Arn"]},
                    "Prefix": ARCHIVE_PREFIX,
                    "ErrorOutputPrefix": ARCHIVE_ERROR_PREFIX,
                    "BufferingHints": {
                        "IntervalInSeconds": archive_buffer_seconds(stage),
                        "SizeInMBs": 5,
                    },
                    "CompressionFormat": "GZIP",
                    # One event per line (the events are compact JSON: no newline inside).
                    "ProcessingConfiguration": {
                        "Enabled": True,
                        "Processors": [{"Type": "AppendDelimiterToRecord"}],
                    },
                    "CloudWatchLoggingOptions": {
                        "Enabled": True,
                        "LogGroupName": {"Ref": "ArchiveDeliveryLogs"},
                        "LogStreamName": {"Ref": "ArchiveDeliveryLogStream"},
                    },
                },
            },
        },
    }
