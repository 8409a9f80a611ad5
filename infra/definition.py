"""The one definition of the stack's resources, per stage.

The AWS deployment merges these CloudFormation resources into Chalice's template; the local
stack provisions the very same resources in the emulator. Names come from the stage's
environment variables in .chalice/config.json, so the code and the resources agree.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
STATE_MACHINE_FILE = ROOT / "statemachine" / "user_create.asl.json"

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


# The functions the state machine invokes, by the placeholder that stands for each ARN.
STEP_FUNCTIONS = _step_functions()
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
    # The starter's reserved concurrency: at most this many batches call StartExecution at
    # once (its quota is per account and region). Below shards x parallelization, the
    # mapping waits (iterator age, alarmed) rather than overrun the quota.
    starter_concurrency: int = 2


# Emulated stages (local, test) use the defaults.
_CAPACITY = {
    "dev": Capacity(shards=1, parallelization=2, starter_concurrency=2),
    "prod": Capacity(shards=0, parallelization=10, starter_concurrency=10),
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


def app_name() -> str:
    return str(json.loads(CHALICE_CONFIG.read_text())["app_name"])


def starter_failure_queue_name(stage: str) -> str:
    return f"{app_name()}-{stage}-starter-failures"


def sweeper_dead_letter_queue_name(stage: str) -> str:
    return f"{app_name()}-{stage}-sweeper-dead-letters"


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


def _stream_mode(stage_capacity: Capacity) -> dict[str, Any]:
    if stage_capacity.shards == 0:
        return {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}}
    return {"ShardCount": stage_capacity.shards}
