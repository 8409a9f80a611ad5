"""The deploy script, run against moto's server: the stack is created, wired, and removed.

Between build and deploy the template goes through local/cfn_emulator.py, the shims for
what moto's CloudFormation does differently (listed there); AWS gets the template unshimmed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra import deploy
from local.cfn_emulator import create_deferred, for_emulator

STAGE = "dev"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[boto3.Session, dict[str, str]]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        session = boto3.Session(region_name="us-east-1")
        bucket = deploy.artifacts_bucket(session, None)
        template = for_emulator(deploy.build(STAGE, session, bucket))
        outputs = deploy.deploy(STAGE, session, bucket, template)
        create_deferred(template, outputs, session.client("cloudwatch"))
        resources = session.client("cloudformation").list_stack_resources(
            StackName=deploy.stack_name(STAGE)
        )["StackResourceSummaries"]
        yield session, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
    server.stop()


def test_the_stack_is_complete_with_the_api_url(deployed):
    session, _ = deployed
    (stack,) = session.client("cloudformation").describe_stacks(StackName=deploy.stack_name(STAGE))[
        "Stacks"
    ]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["EndpointURL"].startswith("https://")
    assert outputs["StateMachineArn"].endswith(":stateMachine:user-service-dev-workflow")


def test_every_function_exists_under_its_own_role(deployed):
    session, physical = deployed
    lambda_ = session.client("lambda")
    for function in ("APIHandler", "Starter", "UserCreate", "UserApprove", "UserCreateResponse"):
        configuration = lambda_.get_function(FunctionName=physical[function])["Configuration"]
        assert configuration["Role"].split("/")[-1] == physical[f"{function}Role"]


def test_the_starter_mapping_carries_its_settings(deployed):
    session, physical = deployed
    (mapping,) = session.client("lambda").list_event_source_mappings(
        FunctionName=physical["Starter"]
    )["EventSourceMappings"]
    assert mapping["EventSourceArn"].endswith(":stream/user-service-dev-events")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["ParallelizationFactor"] == 2
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        ":user-service-dev-starter-failures"
    )


def test_the_data_resources_exist(deployed):
    session, _ = deployed
    tables = session.client("dynamodb").list_tables()["TableNames"]
    assert {"user-service-dev-operations", "user-service-dev-users"} <= set(tables)
    stream = session.client("kinesis").describe_stream_summary(StreamName="user-service-dev-events")
    assert stream["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
    assert session.client("sqs").get_queue_url(QueueName="user-service-dev-starter-failures")


def test_the_state_machine_invokes_the_stack_functions(deployed):
    session, physical = deployed
    sfn = session.client("stepfunctions")
    (machine,) = sfn.list_state_machines()["stateMachines"]
    described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
    states = json.loads(described["definition"])["States"]
    assert physical["UserCreate"] in states["CreateUser"]["Parameters"]["FunctionName"]
    assert physical["UserApprove"] in states["ApproveUser"]["Parameters"]["FunctionName"]
    assert states["RecordFailure"]["Parameters"]["TableName"] == "user-service-dev-operations"
    assert physical["UserReviewRequest"] in states["AwaitReview"]["Parameters"]["FunctionName"]
    assert "$$.State.EnteredTime" in described["definition"]
    assert described["roleArn"].endswith("/" + physical["WorkflowRole"])


def test_roles_hold_the_narrow_policies(deployed):
    session, physical = deployed
    iam = session.client("iam")
    (name,) = iam.list_role_policies(RoleName=physical["StarterRole"])["PolicyNames"]
    policy = json.dumps(iam.get_role_policy(RoleName=physical["StarterRole"], PolicyName=name))
    assert "states:StartExecution" in policy
    assert ":stateMachine:user-service-dev-workflow" in policy
    assert "dynamodb:PutItem" not in policy


def test_the_alarms_exist(deployed):
    session, _ = deployed
    alarms = session.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert len(alarms) == 4


def test_destroy_removes_the_stack(deployed):
    session, _ = deployed
    deploy.destroy(STAGE, session)
    stacks = session.client("cloudformation").list_stacks()["StackSummaries"]
    assert all(
        s["StackStatus"] == "DELETE_COMPLETE"
        for s in stacks
        if s["StackName"] == deploy.stack_name(STAGE)
    )
