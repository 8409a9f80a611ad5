"""Create the stack's resources in the emulator from infra/definition.py.

The same CloudFormation resources that the AWS deployment merges into Chalice's template are
translated here into the API calls CloudFormation would make, plus the Chalice functions
(created with placeholder code: local/lambdas.py runs them in process).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import boto3
from chalice import Chalice

from infra import definition, refs
from infra.functions import logical_ids
from local.archive import LocalArchive, provision_archive
from local.lambdas import deployed_name, function_zip, lambda_handlers


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


def provision(app: Chalice, stage: str, session: boto3.Session) -> Provisioned:
    resources = definition.resources(stage)
    environment = definition.stage_environment(stage)
    limits = definition.function_limits(stage)
    iam = session.client("iam")
    role_arn = iam.create_role(
        RoleName=f"{app.app_name}-{stage}-local",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]

    lambda_client = session.client("lambda")
    functions: dict[str, str] = {}
    arns: dict[str, str] = {}
    for name in lambda_handlers(app):
        function_name = deployed_name(app, stage, name)
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
    queue_url = queue_arn = state_machine_arn = ""
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
            kinesis.get_waiter("stream_exists").wait(
                StreamName=props["Name"],
                WaiterConfig={"Delay": 0.05},  # type: ignore[typeddict-item]  # botocore sleeps a float
            )
            stream_arns[logical_id] = kinesis.describe_stream_summary(StreamName=props["Name"])[
                "StreamDescriptionSummary"
            ]["StreamARN"]
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
        elif kind == "AWS::StepFunctions::StateMachine":
            substitutions = refs.resolve(props["DefinitionSubstitutions"], values)
            body = json.dumps(props["Definition"])
            for key, value in substitutions.items():
                body = body.replace("${" + key + "}", value)
            state_machine_arn = session.client("stepfunctions").create_state_machine(
                name=props["StateMachineName"],
                definition=body,
                roleArn=role_arn,
                type=props["StateMachineType"],
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
        archive=provision_archive(session, stage, role_arn, stream_arns),
    )


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
