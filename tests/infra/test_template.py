"""The packaged template (`make package`): what the deployed stack will be made of."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra import definition
from infra.deploy import expand
from infra.package import package
from infra.template import LOG_DELIVERY_ACTIONS, XRAY_ACTIONS

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = [
    "APIHandler",
    "Starter",
    "UserCreate",
    "UserApprove",
    "UserCreateResponse",
    "Sweeper",
    "UserReviewRequest",
]


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request, tmp_path_factory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp(request.param)
    template_file = package(request.param, out)
    return request.param, json.loads(template_file.read_text())


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _statements(template: dict, role: str) -> list[dict]:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


def _logical_ids(value: object) -> set[str]:
    """The resources a policy fragment names, through Ref, GetAtt or Sub."""
    text = json.dumps(value)
    found = set(re.findall(r'"Ref": "(\w+)"', text))
    found |= set(re.findall(r'"Fn::GetAtt": \["(\w+)"', text))
    found |= {name.split(".")[0] for name in re.findall(r"\$\{(\w+(?:\.\w+)?)\}", text)}
    return {name for name in found if not name.startswith("AWS")}


def _lint(template: dict, path: Path) -> None:
    path.write_text(json.dumps(template))
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--ignore-checks=W3005", "--", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_cfn_lint_passes(packaged, tmp_path):
    _, template = packaged
    _lint(template, tmp_path / "sam.json")


def test_the_expanded_template_passes_cfn_lint_and_orders_the_mapping(packaged, tmp_path):
    _, template = copy.deepcopy(packaged)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/bundle.zip"
    with mock_aws():
        expanded = expand(template, boto3.Session(region_name="us-east-1"))
    (mapping,) = [
        r for r in expanded["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert "EventStream" in mapping["DependsOn"]
    stages = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert [s["Properties"]["StageName"] for s in stages] == ["api"]
    _lint(expanded, tmp_path / "cloudformation.json")


def test_the_starter_mapping_is_configured_beyond_the_decorator(packaged):
    stage, template = packaged
    mapping = template["Resources"]["Starter"]["Properties"]["Events"]["StarterKinesisEventSource"]
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 <= props["MaximumRetryAttempts"] <= 10
    assert 60 <= props["MaximumRecordAgeInSeconds"] <= 604800
    assert props["ParallelizationFactor"] == definition.capacity(stage).parallelization
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StarterFailureQueue", "Arn"]
    }
    assert "stream/user-service-" + stage + "-events" in json.dumps(props["Stream"])
    assert props["BatchSize"] == 100


def _assert_least_privilege(template: dict, resource_free_actions: list[list[str]]) -> None:
    """No wildcard action anywhere; "*" resources only for actions AWS cannot scope."""
    roles = _resources(template, "AWS::IAM::Role")
    assert set(roles) == {f"{f}Role" for f in FUNCTIONS} | {"WorkflowRole"}
    for role in roles:
        for statement in _statements(template, role):
            actions = statement["Action"]
            assert all("*" not in action for action in actions), (role, actions)
            if "*" in statement["Resource"]:
                assert actions in resource_free_actions, role
                assert statement["Resource"] == ["*"]


def test_no_wildcard_actions_and_no_wildcard_resources_but_xray(packaged):
    _, template = packaged
    _assert_least_privilege(template, [sorted(XRAY_ACTIONS)])


def test_an_express_stage_logs_its_executions(monkeypatch, tmp_path):
    express = definition.Capacity(workflow_type="EXPRESS")
    monkeypatch.setattr(definition, "capacity", lambda stage: express)
    template = json.loads(package("dev", tmp_path).read_text())
    workflow = template["Resources"]["Workflow"]["Properties"]
    assert workflow["StateMachineType"] == "EXPRESS"
    assert workflow["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert template["Resources"]["WorkflowLogs"]["Type"] == "AWS::Logs::LogGroup"
    sweeper = template["Resources"]["Sweeper"]["Properties"]["Environment"]["Variables"]
    assert sweeper["WORKFLOW_TYPE"] == "EXPRESS"
    _assert_least_privilege(template, [sorted(XRAY_ACTIONS), sorted(LOG_DELIVERY_ACTIONS)])
    _lint(template, tmp_path / "express.json")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (
            "APIHandlerRole",
            {"OperationsTable", "UsersTable", "EventStream", "ReviewsTable", "Workflow"},
        ),
        ("StarterRole", {"EventStream", "StarterFailureQueue", "OperationsTable", "Workflow"}),
        ("UserCreateRole", {"UsersTable"}),
        ("UserApproveRole", {"UsersTable", "ReviewsTable"}),
        ("UserCreateResponseRole", {"UsersTable"}),
        ("SweeperRole", {"OperationsTable", "EventStream", "Workflow"}),
        (
            "WorkflowRole",
            {
                "UserCreate",
                "UserApprove",
                "UserCreateResponse",
                "UserReviewRequest",
                "OperationsTable",
            },
        ),
        ("UserReviewRequestRole", {"ReviewsTable", "OperationsTable"}),
    ],
)
def test_each_role_touches_only_its_own_resources(packaged, role, allowed):
    _, template = packaged
    statements = [s for s in _statements(template, role) if not s["Action"][0].startswith("xray")]
    assert _logical_ids(statements) == allowed


def test_each_function_runs_under_its_own_role_with_tracing(packaged):
    _, template = packaged
    assert "DefaultRole" not in template["Resources"]
    for function in FUNCTIONS:
        props = template["Resources"][function]["Properties"]
        assert props["Role"] == {"Fn::GetAtt": [f"{function}Role", "Arn"]}
        assert props["Tracing"] == "Active"
    assert template["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True


def test_the_state_machine_is_the_asl_file_wired_to_the_step_functions(packaged):
    _, template = packaged
    workflow = template["Resources"]["Workflow"]["Properties"]
    assert workflow["Definition"] == json.loads(definition.STATE_MACHINE_FILE.read_text())
    assert workflow["TracingConfiguration"] == {"Enabled": True}
    substitutions = workflow["DefinitionSubstitutions"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", json.dumps(workflow["Definition"])))
    assert placeholders == set(substitutions)
    assert substitutions["UserCreateFunctionArn"] == {"Fn::GetAtt": ["UserCreate", "Arn"]}
    assert substitutions["UserApproveFunctionArn"] == {"Fn::GetAtt": ["UserApprove", "Arn"]}
    assert substitutions["UserCreateResponseFunctionArn"] == {
        "Fn::GetAtt": ["UserCreateResponse", "Arn"]
    }
    assert substitutions["OperationsTableName"] == {"Ref": "OperationsTable"}
    assert substitutions["UserReviewRequestFunctionArn"] == {
        "Fn::GetAtt": ["UserReviewRequest", "Arn"]
    }
    for function in ("Starter", "Sweeper"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["STATE_MACHINE_ARN"] == {"Ref": "Workflow"}


def test_tables_are_on_demand_with_point_in_time_recovery(packaged):
    _, template = packaged
    tables = _resources(template, "AWS::DynamoDB::Table")
    assert set(tables) == {"OperationsTable", "UsersTable", "ReviewsTable"}
    for table in tables.values():
        assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
        recovery = table["Properties"]["PointInTimeRecoverySpecification"]
        assert recovery["PointInTimeRecoveryEnabled"] is True
    ttl = tables["OperationsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expiresAt", "Enabled": True}
    ttl = tables["ReviewsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "purgeAt", "Enabled": True}


def test_stream_capacity_follows_the_stage(packaged):
    stage, template = packaged
    stream = template["Resources"]["EventStream"]["Properties"]
    if definition.capacity(stage).shards:
        assert stream["ShardCount"] == definition.capacity(stage).shards
    else:
        assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


def test_alarms_watch_what_means_trouble(packaged):
    _, template = packaged
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    metrics = json.dumps(alarms)
    for metric in (
        "IteratorAge",
        "ApproximateNumberOfMessagesVisible",
        "ExecutionsFailed",
        "5XXError",
    ):
        assert metric in metrics
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_bundle_is_small_and_has_no_botocore(packaged, tmp_path):
    stage, _ = packaged
    out = tmp_path / "bundle"
    bundle = package(stage, out).with_name("deployment.zip")
    assert bundle.stat().st_size < 1024 * 1024
    import zipfile

    names = zipfile.ZipFile(bundle).namelist()
    assert "app.py" in names
    assert any(n.startswith("aws_xray_sdk/") for n in names)
    assert not any(n.startswith(("botocore/", "boto3/")) for n in names)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_chalice_deploy_policy_names_the_stage_resources_only(stage):
    from infra.chalice_policy import policy

    statements = policy(stage)["Statement"]
    text = json.dumps(statements)
    assert "Fn::" not in text and "${" not in text
    for statement in statements:
        assert all("*" not in action for action in statement["Action"])
        for resource in statement["Resource"]:
            assert (resource == "*" and statement["Action"] == sorted(XRAY_ACTIONS)) or (
                f"user-service-{stage}-" in resource
            )
    actions = {a for s in statements for a in s["Action"]}
    assert {"states:StartExecution", "kinesis:PutRecord", "sqs:SendMessage"} <= actions


def _operations(template: dict) -> dict[tuple[str, str], dict]:
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return {
        (path, method): operation
        for path, methods in body["paths"].items()
        for method, operation in methods.items()
    }


def test_prod_requires_signed_requests_and_dev_does_not(packaged):
    stage, template = packaged
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    public = [op for (path, _), op in _operations(template).items() if "/reviews" not in path]
    if stage == "prod":
        assert body["securityDefinitions"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
        assert all(op.get("security") == [{"sigv4": []}] for op in public)
    else:
        assert not any("security" in op for op in public)


def test_the_reviewers_routes_require_signed_requests_on_every_stage(packaged):
    _, template = packaged
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    reviewers = {key: op for key, op in _operations(template).items() if "/reviews" in key[0]}
    assert set(reviewers) == {("/reviews", "get"), ("/reviews/{operation_id}", "post")}
    assert all(op.get("security") == [{"sigv4": []}] for op in reviewers.values())
    assert body["securityDefinitions"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_only_the_api_resumes_a_waiting_workflow_and_only_this_one(packaged):
    _, template = packaged
    roles = _resources(template, "AWS::IAM::Role")
    callbacks = {
        role: statement
        for role in roles
        for statement in _statements(template, role)
        if any(action.startswith("states:SendTask") for action in statement["Action"])
    }
    assert list(callbacks) == ["APIHandlerRole"]
    statement = callbacks["APIHandlerRole"]
    assert statement["Action"] == ["states:SendTaskSuccess"]  # no SendTaskFailure/Heartbeat
    assert statement["Resource"] == [{"Ref": "Workflow"}]


def test_the_reviews_table_lists_pending_reviews_without_their_tokens(packaged):
    _, template = packaged
    props = template["Resources"]["ReviewsTable"]["Properties"]
    (index,) = props["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "pending-reviews"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["pending", "requestedAt"]
    assert index["Projection"]["ProjectionType"] == "INCLUDE"
    assert "taskToken" not in index["Projection"]["NonKeyAttributes"]
    api = _statements(template, "APIHandlerRole")
    query = next(s for s in api if s["Action"] == ["dynamodb:Query"])
    assert query["Resource"] == [{"Fn::Sub": "${ReviewsTable.Arn}/index/pending-reviews"}]


def test_the_state_machine_waits_for_a_reviewer_with_a_timeout(packaged):
    _, template = packaged
    states = template["Resources"]["Workflow"]["Properties"]["Definition"]["States"]
    wait = states["AwaitReview"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert wait["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    assert "TimeoutSecondsPath" in wait or "TimeoutSeconds" in wait
    caught = {error: c["Next"] for c in wait["Catch"] for error in c["ErrorEquals"]}
    assert caught["States.Timeout"] == "ConcludeReview"
    assert caught["States.ALL"] == "AwaitReviewBroke"
    assert all("States.Timeout" not in r["ErrorEquals"] for r in wait["Retry"])
    assert states["NeedsReview"]["Type"] == "Choice"
