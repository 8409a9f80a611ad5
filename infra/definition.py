"""The one definition of the stack's resources, per stage.

The AWS deployment merges these CloudFormation resources into Chalice's template; the local
stack provisions the very same resources in the emulator. Names come from the stage's
environment variables in .chalice/config.json, so the code and the resources agree.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
STATE_MACHINE_FILE = ROOT / "statemachine" / "user_create.asl.json"

# Chalice's logical ids for the app's functions, which the state machine invokes.
STEP_FUNCTIONS = {
    "UserCreateFunctionArn": "UserCreate",
    "UserApproveFunctionArn": "UserApprove",
    "UserCreateResponseFunctionArn": "UserCreateResponse",
    "UserReviewRequestFunctionArn": "UserReviewRequest",
}
STARTER_FUNCTION = "starter"


@dataclasses.dataclass(frozen=True)
class Capacity:
    """What scales per stage. shards=0 means an on-demand stream."""

    shards: int = 1
    parallelization: int = 1
    # STANDARD: exactly-once per execution name, visible in the console, $25 per 1M
    # transitions. EXPRESS: at-least-once, 5 minutes at most, seen only through its logs,
    # ~$1 per 1M requests plus duration. See README, "Deploy to AWS".
    workflow_type: str = "STANDARD"


# Emulated stages (local, test) use the defaults.
_CAPACITY = {
    "dev": Capacity(shards=1, parallelization=2),
    "prod": Capacity(shards=0, parallelization=10),
}


def capacity(stage: str) -> Capacity:
    return _CAPACITY.get(stage, Capacity())


def stage_environment(stage: str) -> dict[str, str]:
    """The environment variables Chalice gives the functions of a stage."""
    config = json.loads(CHALICE_CONFIG.read_text())
    if stage not in config["stages"]:
        raise ValueError(f"no stage {stage!r} in {CHALICE_CONFIG}")
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def app_name() -> str:
    return str(json.loads(CHALICE_CONFIG.read_text())["app_name"])


def starter_failure_queue_name(stage: str) -> str:
    return f"{app_name()}-{stage}-starter-failures"


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
    key = {"AttributeName": "pk", "KeyType": "HASH"}
    found: dict[str, dict[str, Any]] = {
        "OperationsTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": env["OPERATIONS_TABLE"],
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "inFlight", "AttributeType": "S"},
                    {"AttributeName": "createdAt", "AttributeType": "S"},
                ],
                "KeySchema": [key],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "in-flight",
                        "KeySchema": [
                            {"AttributeName": "inFlight", "KeyType": "HASH"},
                            {"AttributeName": "createdAt", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        },
        "UsersTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": env["USERS_TABLE"],
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [key],
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        },
        "ReviewsTable": reviews_table(env["REVIEWS_TABLE"]),
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
                "SqsManagedSseEnabled": True,
            },
        },
        "Workflow": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": env["STATE_MACHINE_NAME"],
                "StateMachineType": capacity(stage).workflow_type,
                "TracingConfiguration": {"Enabled": True},
                "Definition": json.loads(STATE_MACHINE_FILE.read_text()),
                "DefinitionSubstitutions": {
                    **{sub: {"Fn::GetAtt": [fn, "Arn"]} for sub, fn in STEP_FUNCTIONS.items()},
                    "OperationsTableName": {"Ref": "OperationsTable"},
                },
            },
        },
    }
    if capacity(stage).workflow_type == "EXPRESS":
        # Express executions are visible only through their logs (no execution data: PII).
        found["WorkflowLogs"] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": f"/aws/vendedlogs/states/{env['STATE_MACHINE_NAME']}",
                "RetentionInDays": 30,
            },
        }
        found["Workflow"]["Properties"]["LoggingConfiguration"] = {
            "Level": "ALL",
            "IncludeExecutionData": False,
            "Destinations": [
                {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["WorkflowLogs", "Arn"]}}}
            ],
        }
    return found


REVIEWS_PENDING_INDEX = "pending-reviews"


def reviews_table(name: str) -> dict[str, Any]:
    """Reviews by operation id (chalicelib/adapters/reviews_table.py), with a sparse index of
    the pending ones, oldest first, that leaves the task token out."""
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "pending", "AttributeType": "S"},
                {"AttributeName": "requestedAt", "AttributeType": "S"},
            ],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": REVIEWS_PENDING_INDEX,
                    "KeySchema": [
                        {"AttributeName": "pending", "KeyType": "HASH"},
                        {"AttributeName": "requestedAt", "KeyType": "RANGE"},
                    ],
                    "Projection": {
                        "ProjectionType": "INCLUDE",
                        "NonKeyAttributes": ["userId", "email", "name", "expiresAt"],
                    },
                }
            ],
            "TimeToLiveSpecification": {"AttributeName": "purgeAt", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    }


def _stream_mode(stage_capacity: Capacity) -> dict[str, Any]:
    if stage_capacity.shards == 0:
        return {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}}
    return {"ShardCount": stage_capacity.shards}
