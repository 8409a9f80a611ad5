"""The packaged template (`make package`): what the deployed stack will be made of."""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.model import StringShape
from cfnlint.config import ConfigMixIn, ManualArgs
from cfnlint.decode.decode import decode_str
from cfnlint.runner import Runner
from moto import mock_aws

from chalicelib.adapters import metrics
from chalicelib.domain.errors import ErrorCode
from chalicelib.domain.reviews import REVIEWERS_GROUP
from chalicelib.http.auth import REVIEWERS_AUTHORIZER, STACK_POOL_ARN
from chalicelib.http.problems import PROBLEM_TYPES
from infra import definition, functions, gateway, package, refs
from infra.archive import KINESIS_READS
from infra.deploy import expand
from infra.template import XRAY_ACTIONS

FUNCTIONS = sorted(functions.logical_ids(functions.load_app()).values())


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request, packaged_stage) -> tuple[str, dict]:
    return request.param, json.loads(packaged_stage(request.param).read_text())


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _statements(template: dict, role: str) -> list[dict]:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


# cfn-lint's schema of a state machine (1.58.0) wants a number in a Task's TimeoutSeconds and
# HeartbeatSeconds, where a JSONata state may write an expression ("TimeoutSeconds": "{% ...
# %}": https://states-language.net/#jsonata-task-state, "Timeouts"): the same false positive
# it fixed for a Wait's Seconds (aws-cloudformation/cfn-lint#4342) and for Arguments (#4398).
# Only that one finding is set aside, on those two fields, for an expression.
_JSONATA_SECONDS = re.compile(r"^'\{%.*%\}' is not of type 'number'$", re.DOTALL)


def _cfn_lint_false_positive(match: Any) -> bool:
    return (
        match.rule.id == "E3601"
        and match.path[-1] in ("TimeoutSeconds", "HeartbeatSeconds")
        and bool(_JSONATA_SECONDS.match(match.message))
    )


@functools.cache
def _linter() -> Runner:
    """`cfn-lint --ignore-checks=W3005` in this process, its rules loaded once for every
    template of the module as its command line loads them once for every file it is given
    (loading them is a quarter of linting a stage's template)."""
    return Runner(ConfigMixIn(**ManualArgs(ignore_checks=["W3005"])))


def _lint(template: dict) -> None:
    decoded, errors = decode_str(json.dumps(template))
    matches = errors or list(_linter().validate_template(decoded))
    matches = [m for m in matches if not _cfn_lint_false_positive(m)]
    assert matches == [], "\n".join(f"{m.rule.id} {m.message} {m.path}" for m in matches)


def test_cfn_lint_passes(packaged):
    _, template = packaged
    _lint(template)


def test_the_lint_is_not_blind():
    """A property no resource type has fails it."""
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Nope": 1}}}}
    with pytest.raises(AssertionError, match=r"E3002 .*'Nope' was unexpected"):
        _lint(template)


def test_the_lint_sets_aside_only_a_jsonata_timeout():
    """A state machine's definition is still checked: a number's field holding text that is
    not a JSONata expression fails it."""
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Definition": {"QueryLanguage": "JSONata", "StartAt": "T", "States": {"T": task}},
        },
    }
    task["TimeoutSeconds"] = "{% $states.input.seconds %}"
    _lint({"Resources": {"Machine": machine}})
    task["TimeoutSeconds"] = "sixty"
    with pytest.raises(AssertionError, match=r"E3601 'sixty' is not of type 'number'"):
        _lint({"Resources": {"Machine": machine}})


def test_the_expanded_template_passes_cfn_lint_and_orders_the_mapping(packaged):
    _, template = copy.deepcopy(packaged)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/bundle.zip"
    with mock_aws():
        expanded = expand(template, boto3.Session(region_name="us-east-1"))
    mappings = [
        r for r in expanded["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    (mapping,) = [m for m in mappings if "EventStream" in m.get("DependsOn", [])]
    (replay,) = [m for m in mappings if m is not mapping]
    assert replay["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["ReplayStream", "Arn"]}
    stages = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert [s["Properties"]["StageName"] for s in stages] == ["api"]
    _lint(expanded)


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
    assert "stream/" + definition.resource_name(stage, "events") in json.dumps(props["Stream"])
    assert props["BatchSize"] == 100


def _assert_least_privilege(template: dict, resource_free_actions: list[list[str]]) -> None:
    """No wildcard action anywhere; "*" resources only for actions AWS cannot scope."""
    roles = _resources(template, "AWS::IAM::Role")
    assert set(roles) == {f"{f}Role" for f in FUNCTIONS} | {
        "WorkflowRole",
        "ApiGatewayLoggingRole",
        "ArchiveDeliveryRole",
    }
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


def test_a_stage_cannot_be_express_since_the_workflow_waits_for_reviewers():
    with pytest.raises(ValueError, match="only STANDARD state machines"):
        definition.Capacity(workflow_type="EXPRESS")
    assert {definition.capacity(stage).workflow_type for stage in ("dev", "prod")} == {"STANDARD"}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        # The state machine too, by its name (see test_only_the_api_resumes_...).
        ("APIHandlerRole", {"OperationsTable", "UsersTable", "EventStream", "ReviewsTable"}),
        (
            "StarterRole",
            {"EventStream", "ReplayStream", "StarterFailureQueue", "OperationsTable", "Workflow"},
        ),
        ("UserCreateRole", {"UsersTable"}),
        ("UserApproveRole", {"UsersTable", "ReviewsTable"}),
        ("UserCreateResponseRole", {"UsersTable", "OperationsTable"}),
        (
            "SweeperRole",
            {
                "OperationsTable",
                "EventStream",
                "Workflow",
                "SweeperDeadLetterQueue",
                "ReviewsTable",
            },
        ),
        # The functions of the workflow's tasks (infra/definition.py reads them from the ASL).
        ("WorkflowRole", {*definition.STEP_FUNCTIONS.values(), "OperationsTable"}),
        ("UserReviewRequestRole", {"ReviewsTable", "OperationsTable", "ReviewTopic"}),
        (
            "ArchiveDeliveryRole",
            {
                "EventStream",
                "ArchiveBucket",
                "ArchiveKey",
                "ArchiveDeliveryLogs",
                "ArchiveDeliveryLogStream",
            },
        ),
    ],
)
def test_each_role_touches_only_its_own_resources(packaged, role, allowed):
    _, template = packaged
    statements = [s for s in _statements(template, role) if not s["Action"][0].startswith("xray")]
    assert refs.references(statements) == allowed


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
    assert workflow["Definition"] == definition.workflow_definition()
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


def test_every_function_is_told_the_names_the_stage_derives(packaged):
    """.chalice/config.json names no resource: the packaging gives each function the names
    infra/definition.py derives (infra/chalice_cli.py), which the resources carry too."""
    stage, template = packaged
    derived = definition.resource_names(stage)
    for logical_id in functions.logical_ids(functions.load_app()).values():
        variables = template["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
        assert {name: variables[name] for name in derived} == derived
    tables = _resources(template, "AWS::DynamoDB::Table")
    assert tables["OperationsTable"]["Properties"]["TableName"] == derived["OPERATIONS_TABLE"]


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


def test_the_bundle_is_small_and_has_no_botocore(packaged, packaged_stage):
    stage, _ = packaged
    bundle = packaged_stage(stage).with_name("deployment.zip")
    assert bundle.stat().st_size < 1024 * 1024
    import zipfile

    names = zipfile.ZipFile(bundle).namelist()
    assert "app.py" in names
    assert any(n.startswith("aws_xray_sdk/") for n in names)
    assert not any(n.startswith(("botocore/", "boto3/")) for n in names)
    # Compiled dependencies are built for the functions' runtime, not for this interpreter.
    abi = definition.LAMBDA_RUNTIME.removeprefix("python").replace(".", "")
    extensions = [n for n in names if n.endswith(".so")]
    assert extensions
    assert all(f".cpython-{abi}-" in n for n in extensions), extensions


def test_every_function_runs_the_stated_runtime_with_the_configured_limits(packaged):
    stage, template = packaged
    limits = definition.function_limits(stage)
    for function in FUNCTIONS:
        props = template["Resources"][function]["Properties"]
        assert props["Runtime"] == definition.LAMBDA_RUNTIME
        assert (props["Timeout"], props["MemorySize"]) == (
            limits.timeout_seconds,
            limits.memory_mb,
        )


def test_a_runtime_the_build_cannot_produce_stops_it_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(package, "LAMBDA_RUNTIME", "python2.7")
    with pytest.raises(package.BuildError, match=r"^cannot build for python2\.7 \(") as raised:
        package.package("dev", tmp_path)
    assert "\n" not in str(raised.value)


def test_the_state_machine_invokes_functions_of_the_app():
    assert set(definition.STEP_FUNCTIONS.values()) <= set(FUNCTIONS)
    assert definition.STEP_FUNCTIONS


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_chalice_deploy_policy_names_the_stage_resources_only(stage):
    from infra.chalice_policy import policy

    statements = policy(stage)["Statement"]
    text = json.dumps(statements)
    assert "Fn::" not in text and "${" not in text
    for statement in statements:
        assert all("*" not in action for action in statement["Action"])
        for resource in statement["Resource"]:
            if resource == "*":
                assert statement["Action"] == sorted(XRAY_ACTIONS)
                continue
            # A resource of the stage, or one the account has whatever its stacks (a default
            # event bus, say), named whole: never a wildcard that reaches another stage's.
            named = resource.split(":", 5)[5]
            assert definition.resource_name(stage, "") in named or "*" not in named, resource
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
    # The reviewers' routes have their own authorizer; the problem types' pages and the
    # reviewer page are public.
    public = [
        op
        for (path, _), op in _operations(template).items()
        if not path.startswith(("/review", "/problems"))
    ]
    if stage == "prod":
        assert body["securityDefinitions"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
        assert all(op.get("security") == [{"sigv4": []}] for op in public)
    else:
        assert not any("security" in op for op in public)
    pages = [op for (path, _), op in _operations(template).items() if path.startswith("/problems")]
    assert pages and not any("security" in op for op in pages)


def _gateway_responses(template: dict) -> dict[str, dict]:
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    return body["x-amazon-apigateway-gateway-responses"]


def test_every_gateway_response_is_problem_json_with_its_own_status(packaged):
    _, template = packaged
    responses = _gateway_responses(template)
    model = botocore.session.get_session().get_service_model("apigateway")
    response_types = model.shape_for("GatewayResponseType")
    assert isinstance(response_types, StringShape)  # an enum of strings
    assert set(responses) == set(response_types.enum)
    for response_type, response in responses.items():
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        for template_text in response["responseTemplates"].values():
            # What API Gateway sends once it substitutes its quoted message.
            sent = template_text.replace("$context.error.messageString", '"its message"')
            problem = json.loads(sent)
            assert set(problem) == {"type", "title", "status", "detail"}, response_type
            assert problem["status"] == int(response["statusCode"])
            # The page of its type, below the stage's root on the default URL (gateway.py).
            root, _, slug = problem["type"].rpartition("/problems/")
            assert root == "/$context.stage"
            assert PROBLEM_TYPES[slug].title == problem["title"]
            assert problem["detail"] == "its message"
        if response["statusCode"] == "429":
            assert headers["gatewayresponse.header.Retry-After"] == "'1'"


def test_gateway_statuses_follow_the_contract(packaged):
    stage, template = packaged
    status = {t: int(r["statusCode"]) for t, r in _gateway_responses(template).items()}
    signed = definition.stage_environment(stage)["API_AUTH"] == "iam"
    # An unknown path, or under IAM mostly an unsigned request (see infra/gateway.py).
    assert status["MISSING_AUTHENTICATION_TOKEN"] == (401 if signed else 404)
    assert status["RESOURCE_NOT_FOUND"] == 404
    assert status["UNAUTHORIZED"] == 401
    assert status["ACCESS_DENIED"] == status["INVALID_SIGNATURE"] == 403
    assert status["THROTTLED"] == status["QUOTA_EXCEEDED"] == 429
    assert status["REQUEST_TOO_LARGE"] == 413
    assert status["UNSUPPORTED_MEDIA_TYPE"] == 415
    assert status["BAD_REQUEST_BODY"] == status["DEFAULT_4XX"] == 400
    assert all(
        status[t] >= 500 for t in ("DEFAULT_5XX", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT")
    )


def test_gateway_problems_speak_the_app_s_vocabulary():
    from chalicelib.http.problems import (
        Problem,
        forbidden,
        internal_error,
        not_found,
        unauthorized,
    )
    from chalicelib.http.validation import parse_user_request

    def app_problem(call) -> Problem:
        with pytest.raises(Problem) as raised:
            call()
        return raised.value

    same = {
        401: unauthorized("no token"),
        403: forbidden("not a reviewer"),
        404: not_found("user"),
        500: internal_error(),
        413: app_problem(
            lambda: parse_user_request({"content-type": "application/json"}, b"{}" * 9, 4)
        ),
        415: app_problem(lambda: parse_user_request({"content-type": "text/plain"}, b"{}", 99)),
    }
    for response_type in gateway.response_types():
        edge = gateway.answer(response_type, "dev")
        if edge.status in same:
            assert (edge.slug, edge.title) == (same[edge.status].slug, same[edge.status].title)


def test_the_cognito_authorizer_s_refusals_are_401_problems(packaged):
    """API Gateway answers a request its Cognito authorizer refuses (no token, or one expired,
    of another pool, not valid) with UNAUTHORIZED, 401
    (https://repost.aws/knowledge-center/api-gateway-cognito-401-unauthorized); the app itself
    answers 403 to a reviewer outside the group (chalicelib/http/auth.py)."""
    _, template = packaged
    unauthorized = _gateway_responses(template)["UNAUTHORIZED"]
    assert unauthorized["statusCode"] == "401"
    for text in unauthorized["responseTemplates"].values():
        sent = json.loads(text.replace("$context.error.messageString", '"Unauthorized"'))
        assert sent["type"].endswith("/problems/unauthorized") and sent["status"] == 401


def test_the_gateway_responses_reach_the_deployed_api_definition(packaged):
    _, template = copy.deepcopy(packaged)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/bundle.zip"
    with mock_aws():
        expanded = expand(template, boto3.Session(region_name="us-east-1"))
    (api,) = _resources(expanded, "AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"] == (
        _gateway_responses(packaged[1])
    )


def test_api_gateway_logs_through_a_role_kept_with_the_account_setting(packaged):
    _, template = packaged
    resources = template["Resources"]
    for kept in ("ApiGatewayLoggingRole", "ApiGatewayAccount"):
        assert (
            resources[kept]["DeletionPolicy"] == resources[kept]["UpdateReplacePolicy"] == "Retain"
        )
    (statement,) = _statements(template, "ApiGatewayLoggingRole")
    prefix = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    assert all(r["Fn::Sub"].startswith(prefix) for r in statement["Resource"])
    assert all(a.startswith("logs:") for a in statement["Action"])
    assert "ApiGatewayAccount" in resources["RestAPI"]["DependsOn"]


def test_the_api_writes_json_access_logs_with_the_request_ids(packaged):
    _, template = packaged
    setting = template["Resources"]["RestAPI"]["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    # What API Gateway writes once it substitutes its values (quoted, "-" when missing).
    line = json.loads(re.sub(r"\$context\.[\w.]+", "-", setting["Format"]))
    assert {"requestId", "extendedRequestId", "lambdaRequestId", "path", "status"} <= set(line)
    assert "$context.requestId" in setting["Format"]
    assert "$context.integration.requestId" in setting["Format"]


def test_queues_topic_and_log_groups_are_encrypted_at_rest(packaged):
    _, template = packaged
    key = {"Fn::GetAtt": ["StackKey", "Arn"]}
    queues = _resources(template, "AWS::SQS::Queue")
    assert set(queues) == {"StarterFailureQueue", "SweeperDeadLetterQueue"}
    assert all(q["Properties"]["KmsMasterKeyId"] == definition.QUEUE_KEY for q in queues.values())
    topics = _resources(template, "AWS::SNS::Topic")
    # CloudWatch publishes alarms only to a topic under a customer managed key; a function,
    # a principal of the account, publishes to one under SNS's AWS managed key.
    assert topics["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == key
    assert topics["ReviewTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert set(topics) == {"AlarmTopic", "ReviewTopic"}
    groups = _resources(template, "AWS::Logs::LogGroup")
    # The API's access logs and Firehose's delivery errors (and an Express stage's executions).
    assert {"ApiAccessLogs", "ArchiveDeliveryLogs"} <= set(groups)
    log_groups = groups.values()
    for log_group in log_groups:
        assert log_group["Properties"]["KmsKeyId"] == key
        assert log_group["Properties"]["RetentionInDays"] > 0
    stack_key = template["Resources"]["StackKey"]["Properties"]
    assert stack_key["EnableKeyRotation"] is True
    (logs,) = [s for s in stack_key["KeyPolicy"]["Statement"] if s["Sid"].startswith("Logs")]
    arns = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert {a["Fn::Sub"].rsplit(":", 1)[1] for a in arns} == {
        g["Properties"]["LogGroupName"] for g in log_groups
    }


def test_the_sweeper_has_a_dead_letter_queue_and_runs_alone(packaged):
    stage, template = packaged
    sweeper = template["Resources"]["Sweeper"]["Properties"]
    assert sweeper["DeadLetterQueue"] == {
        "Type": "SQS",
        "TargetArn": {"Fn::GetAtt": ["SweeperDeadLetterQueue", "Arn"]},
    }
    assert sweeper["ReservedConcurrentExecutions"] == 1
    starter = template["Resources"]["Starter"]["Properties"]
    assert starter["ReservedConcurrentExecutions"] == definition.capacity(stage).starter_concurrency
    alarmed = json.dumps(_resources(template, "AWS::CloudWatch::Alarm"))
    assert '"SweeperDeadLetterQueue", "QueueName"' in alarmed


def test_every_accepted_finding_says_why(packaged):
    _, template = packaged
    skips = [
        (logical_id, entry)
        for logical_id, resource in template["Resources"].items()
        for entry in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for logical_id, entry in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", entry["id"]), (logical_id, entry)
        assert len(entry["comment"].split()) >= 10, (logical_id, entry)


def test_firehose_archives_the_event_stream_gzipped_by_the_hour(packaged):
    stage, template = packaged
    delivery = template["Resources"]["ArchiveDeliveryStream"]["Properties"]
    role = {"Fn::GetAtt": ["ArchiveDeliveryRole", "Arn"]}
    assert delivery["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert delivery["KinesisStreamSourceConfiguration"] == {
        "KinesisStreamARN": {"Fn::GetAtt": ["EventStream", "Arn"]},
        "RoleARN": role,
    }
    s3 = delivery["ExtendedS3DestinationConfiguration"]
    assert s3["BucketARN"] == {"Fn::GetAtt": ["ArchiveBucket", "Arn"]} and s3["RoleARN"] == role
    # A prefix without expressions: Firehose appends YYYY/MM/dd/HH/ (UTC), as moto does.
    assert s3["Prefix"] == "events/" and "!{" not in s3["Prefix"] + s3["ErrorOutputPrefix"]
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["ProcessingConfiguration"]["Processors"] == [{"Type": "AppendDelimiterToRecord"}]
    assert s3["BufferingHints"]["IntervalInSeconds"] == {"dev": 60, "prod": 300}[stage]
    assert s3["CloudWatchLoggingOptions"] == {
        "Enabled": True,
        "LogGroupName": {"Ref": "ArchiveDeliveryLogs"},
        "LogStreamName": {"Ref": "ArchiveDeliveryLogStream"},
    }
    logs = template["Resources"]["ArchiveDeliveryLogs"]["Properties"]
    assert logs["LogGroupName"] == f"/aws/kinesisfirehose/{definition.delivery_stream_name(stage)}"


def test_the_archive_bucket_is_private_encrypted_tls_only_tiered_and_kept(packaged):
    _, template = packaged
    bucket = template["Resources"]["ArchiveBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["ArchiveKey", "Arn"]},
    }
    # S3 Bucket Keys: a short-lived bucket-level key, not a KMS request per object.
    assert rule["BucketKeyEnabled"] is True
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": "ArchiveAccessLogBucket"
    }
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "archive/"
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled" and "ExpirationInDays" not in lifecycle
    assert lifecycle["Transitions"] == [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}]
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    policy = template["Resources"]["ArchiveBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ArchiveBucket"}
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert refs.references(deny["Resource"]) == {"ArchiveBucket"} and len(deny["Resource"]) == 2


def test_the_delivery_role_is_firehose_s_for_this_account_only(packaged):
    _, template = packaged
    role = template["Resources"]["ArchiveDeliveryRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}}
    statements = {
        tuple(s["Action"]): s["Resource"] for s in _statements(template, "ArchiveDeliveryRole")
    }
    assert statements[tuple(KINESIS_READS)] == [{"Fn::GetAtt": ["EventStream", "Arn"]}]
    objects = statements[("s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject")]
    assert objects == [
        {"Fn::Sub": "${ArchiveBucket.Arn}/events/*"},
        {"Fn::Sub": "${ArchiveBucket.Arn}/errors/*"},
    ]
    assert not any(
        a.startswith(("kinesis:Put", "s3:Delete")) for actions in statements for a in actions
    )
    (key,) = [
        s for s in _statements(template, "ArchiveDeliveryRole") if "kms:Decrypt" in s["Action"]
    ]
    assert key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert key["Resource"] == [{"Fn::GetAtt": ["ArchiveKey", "Arn"]}]
    # Only as S3 uses it for the archive: its Bucket Key (the bucket's ARN) or an object under
    # the archive's prefixes; nothing else under the key.
    assert key["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}},
        "StringLike": {
            "kms:EncryptionContext:aws:s3:arn": [{"Fn::GetAtt": ["ArchiveBucket", "Arn"]}, *objects]
        },
    }
    # Nothing else of the role names a key, and no other role names this one.
    assert sum("kms:" in a for actions in statements for a in actions) == 2
    others = {r: _statements(template, r) for r in _resources(template, "AWS::IAM::Role")}
    assert [r for r, s in others.items() if "ArchiveKey" in refs.references(s)] == [
        "ArchiveDeliveryRole"
    ]


def test_the_archive_and_what_reads_it_outlive_the_stack(packaged):
    _, template = packaged
    resources = template["Resources"]
    for kept in ("ArchiveBucket", "ArchiveKey", "ArchiveAccessLogBucket"):
        assert resources[kept]["DeletionPolicy"] == "Retain", kept
        assert resources[kept]["UpdateReplacePolicy"] == "Retain", kept
    key = resources["ArchiveKey"]["Properties"]
    assert key["EnableKeyRotation"] is True and key["PendingWindowInDays"] == 30
    # The account administers it through IAM; no service or other account is named.
    (statement,) = key["KeyPolicy"]["Statement"]
    assert statement["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    assert "Condition" not in statement
    assert template["Outputs"]["ArchiveKeyArn"] == {"Value": {"Fn::GetAtt": ["ArchiveKey", "Arn"]}}


def test_the_archive_s_access_logs_go_to_a_private_bucket_only_s3_logging_writes(packaged):
    _, template = packaged
    resources = template["Resources"]
    logs = resources["ArchiveAccessLogBucket"]
    props = logs["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # SSE-S3: what S3 documents for a server access log target.
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    archive = resources["ArchiveBucket"]["Properties"]
    for setting in ("PublicAccessBlockConfiguration", "OwnershipControls"):
        assert props[setting] == archive[setting], setting
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["ExpirationInDays"] == 365
    assert "LoggingConfiguration" not in props
    assert [entry["id"] for entry in logs["Metadata"]["checkov"]["skip"]] == ["CKV_AWS_18"]
    policy = resources["ArchiveAccessLogBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ArchiveAccessLogBucket"}
    allow, deny = policy["PolicyDocument"]["Statement"]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == {"Fn::Sub": "${ArchiveAccessLogBucket.Arn}/archive/*"}
    assert allow["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}},
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    }
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert refs.references(deny["Resource"]) == {"ArchiveAccessLogBucket"}


def test_the_starter_reads_the_replay_stream_with_the_settings_of_the_event_stream(packaged):
    _, template = packaged
    resources = template["Resources"]
    replay = resources["ReplayStream"]["Properties"]
    assert replay["Name"] == definition.replay_stream_name(packaged[0])
    assert replay["ShardCount"] == 1
    assert replay["StreamEncryption"]["EncryptionType"] == "KMS"
    mapping = resources["StarterReplayMapping"]
    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": "Starter"}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["ReplayStream", "Arn"]}
    chalice = resources["Starter"]["Properties"]["Events"]["StarterKinesisEventSource"]
    same = {k: v for k, v in chalice["Properties"].items() if k != "Stream"}
    assert {k: v for k, v in props.items() if k in same} == same
    assert set(props) == set(same) | {"FunctionName", "EventSourceArn"}


def test_alarms_watch_the_archive(packaged):
    stage, template = packaged
    alarms = {k: v["Properties"] for k, v in _resources(template, "AWS::CloudWatch::Alarm").items()}
    late, failed = alarms["ArchiveLateAlarm"], alarms["ArchiveDeliveryFailedAlarm"]
    assert late["MetricName"] == "DeliveryToS3.DataFreshness"
    assert late["Threshold"] == definition.archive_buffer_seconds(stage) + 600
    assert failed["MetricName"] == "DeliveryToS3.Success"
    assert (failed["ComparisonOperator"], failed["Threshold"]) == ("LessThanThreshold", 1)
    assert alarms["ArchiveReadsThrottledAlarm"]["MetricName"] == "ThrottledGetRecords"
    for name in ("ArchiveLateAlarm", "ArchiveDeliveryFailedAlarm", "ArchiveReadsThrottledAlarm"):
        assert alarms[name]["Namespace"] == "AWS/Firehose"
        assert alarms[name]["Dimensions"] == [
            {"Name": "DeliveryStreamName", "Value": definition.delivery_stream_name(stage)}
        ]
        assert alarms[name]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_outputs_name_what_replay_and_redrive_need(packaged):
    _, template = packaged
    outputs = template["Outputs"]
    assert outputs["ArchiveBucketName"] == {"Value": {"Ref": "ArchiveBucket"}}
    assert outputs["ReplayStreamName"] == {"Value": {"Ref": "ReplayStream"}}
    assert "StarterFailureQueueUrl" in outputs


def test_the_reviewers_routes_take_a_reviewer_s_token_of_the_stack_s_pool_on_every_stage(
    packaged,
):
    _, template = packaged
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    reviewers = {key: op for key, op in _operations(template).items() if "/reviews" in key[0]}
    # The routes, and the 405 answers to their other methods (chalicelib/http/edges.py).
    assert {("/reviews", "get"), ("/reviews/{operation_id}", "post")} <= set(reviewers)
    assert all(op.get("security") == [{REVIEWERS_AUTHORIZER: []}] for op in reviewers.values())
    scheme = body["securityDefinitions"][REVIEWERS_AUTHORIZER]
    assert (scheme["in"], scheme["name"]) == ("header", "Authorization")
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "cognito_user_pools"
    # The stack's pool, not the placeholder app.py is packaged with (chalicelib/http/auth.py).
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["ReviewerPool", "Arn"]}]
    assert STACK_POOL_ARN not in json.dumps(template)
    # Only the page's client's ID tokens: API Gateway matches their aud against this.
    assert authorizer["identityValidationExpression"] == {"Fn::Sub": "^${ReviewerPageClient}$"}
    # The reviewer page is open, so that a browser can load it under any API_AUTH.
    page = {key: op for key, op in _operations(template).items() if key[0].startswith("/review/")}
    page.update({key: op for key, op in _operations(template).items() if key[0] == "/review"})
    assert {("/review", "get"), ("/review/{name}", "get")} <= set(page)
    assert not any("security" in op for op in page.values())


def test_the_reviewers_pool_is_for_people_an_administrator_adds(packaged):
    stage, template = packaged
    resources = template["Resources"]
    pool = resources["ReviewerPool"]["Properties"]
    assert pool["UserPoolName"] == definition.reviewer_pool_name(stage)
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    invitation = pool["AdminCreateUserConfig"]["InviteMessageTemplate"]
    assert "{username}" in invitation["EmailMessage"] and "{####}" in invitation["EmailMessage"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 14
    assert all(
        policy[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols")
    )
    assert policy["TemporaryPasswordValidityDays"] == 7
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("OPTIONAL", ["SOFTWARE_TOKEN_MFA"])
    # Nothing kept of a reviewer but a user name and the address the invitation goes to.
    assert [attribute["Name"] for attribute in pool["Schema"]] == ["email"]
    client = resources["ReviewerPageClient"]["Properties"]
    assert client["UserPoolId"] == {"Ref": "ReviewerPool"}
    assert client["GenerateSecret"] is False  # it runs in a browser
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert (client["IdTokenValidity"], client["TokenValidityUnits"]["IdToken"]) == (60, "minutes")
    group = resources["ReviewersGroup"]["Properties"]
    assert (group["GroupName"], group["UserPoolId"]) == (REVIEWERS_GROUP, {"Ref": "ReviewerPool"})
    # The page's settings come from the API's function; the ids, from the stack's outputs.
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["REVIEWER_POOL_ID"] == {"Ref": "ReviewerPool"}
    assert variables["REVIEWER_CLIENT_ID"] == {"Ref": "ReviewerPageClient"}
    assert variables["REVIEW_AUTH"] == "cognito"
    outputs = template["Outputs"]
    assert outputs["ReviewerPoolId"] == {"Value": {"Ref": "ReviewerPool"}}
    assert outputs["ReviewerPageClientId"] == {"Value": {"Ref": "ReviewerPageClient"}}


def test_a_requested_review_is_announced_on_the_stack_s_topic(packaged):
    stage, template = packaged
    resources = template["Resources"]
    topic = resources["ReviewTopic"]["Properties"]
    assert topic["TopicName"] == definition.resource_name(stage, "review-requests")
    variables = resources["UserReviewRequest"]["Properties"]["Environment"]["Variables"]
    assert variables["REVIEW_TOPIC_ARN"] == {"Ref": "ReviewTopic"}
    assert variables["REVIEW_PAGE_URL"] == {
        "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/review/"
    }
    publishers = [
        role
        for role in _resources(template, "AWS::IAM::Role")
        if any("sns:Publish" in s["Action"] for s in _statements(template, role))
    ]
    assert publishers == ["UserReviewRequestRole"]
    (publish,) = [
        s for s in _statements(template, "UserReviewRequestRole") if "sns:Publish" in s["Action"]
    ]
    assert (publish["Action"], publish["Resource"]) == (["sns:Publish"], [{"Ref": "ReviewTopic"}])
    # The stage setting: an email address subscribed when given (infra/deploy.py).
    parameter = template["Parameters"]["ReviewNotificationEmail"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("team@example.org")
    assert not pattern.fullmatch("not an address")
    subscription = resources["ReviewEmailSubscription"]
    assert subscription["Condition"] == "NotifyByEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "ReviewTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "ReviewNotificationEmail"},
    }
    assert template["Conditions"]["NotifyByEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReviewNotificationEmail"}, ""]}]
    }


def test_only_the_api_resumes_a_waiting_workflow_and_only_this_one(packaged):
    stage, template = packaged
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
    # The stage's state machine by its name: a reference would make the API's function depend
    # on the state machine, which depends (through the review-request step's page address) on
    # the API: a cycle.
    name = template["Resources"]["Workflow"]["Properties"]["StateMachineName"]
    assert name == definition.resource_name(stage, "workflow")
    assert statement["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
            f"stateMachine:{name}"
        }
    ]


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


def test_only_the_sweeper_queries_the_failures_to_measure_and_finds_keys_only(packaged):
    _, template = packaged
    props = template["Resources"]["OperationsTable"]["Properties"]
    (index,) = [
        i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == "unmeasured-failures"
    ]
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["unmeasured", "updatedAt"]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    index_arn = {"Fn::Sub": "${OperationsTable.Arn}/index/unmeasured-failures"}
    granted = [
        (role, statement)
        for role in _resources(template, "AWS::IAM::Role")
        for statement in _statements(template, role)
        if index_arn in statement["Resource"]
    ]
    ((role, query),) = granted
    assert role == "SweeperRole"
    assert query["Action"] == ["dynamodb:Query"]
    assert query["Resource"] == [{"Fn::Sub": "${OperationsTable.Arn}/index/in-flight"}, index_arn]


def test_the_state_machine_waits_for_a_reviewer_with_a_timeout(packaged):
    _, template = packaged
    states = template["Resources"]["Workflow"]["Properties"]["Definition"]["States"]
    wait = states["AwaitReview"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert "$states.context.Task.Token" in wait["Arguments"]["Payload"]
    assert "$states.input.review.timeoutSeconds" in wait["TimeoutSeconds"]
    caught = {error: c["Next"] for c in wait["Catch"] for error in c["ErrorEquals"]}
    assert caught["States.Timeout"] == "ConcludeReview"
    assert caught["States.ALL"] == "RecordFailure"
    assert all("States.Timeout" not in r["ErrorEquals"] for r in wait["Retry"])
    assert states["NeedsReview"]["Type"] == "Choice"


def test_a_stage_that_traces_with_open_telemetry_gets_the_adot_layer_and_its_wrapper(
    monkeypatch,
):
    from infra.template import merge_template

    xray = merge_template("dev")["Resources"]
    assert all("Layers" not in xray[f]["Properties"] for f in FUNCTIONS)
    monkeypatch.setattr(definition, "tracer", lambda stage: "otel")
    otel = merge_template("dev")["Resources"]
    for function in FUNCTIONS:
        properties = otel[function]["Properties"]
        # https://aws-otel.github.io/docs/getting-started/lambda/lambda-python
        assert properties["Layers"] == [definition.otel_layer()]
        assert properties["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == (
            "/opt/otel-instrument"
        )
        assert properties["Tracing"] == "Active"  # X-Ray still receives the spans
    assert otel["Starter"]["Properties"]["Environment"]["Variables"]["STATE_MACHINE_ARN"]


def test_the_adot_layer_is_the_stack_region_s_own_and_a_team_can_name_another(monkeypatch):
    """The layer is regional, and its publishing account and version differ by region
    (https://aws-otel.github.io/docs/getting-started/lambda/lambda-python: "Lambda layers are a
    regionalized resource"), so the stack looks its region up in one table."""
    from infra.template import merge_template

    assert "Mappings" not in merge_template("dev")
    monkeypatch.setattr(definition, "tracer", lambda stage: "otel")
    template = merge_template("dev")
    layer = template["Resources"]["Starter"]["Properties"]["Layers"][0]
    table_name, region, key = layer["Fn::FindInMap"]
    assert region == {"Ref": "AWS::Region"}
    table = template["Mappings"][table_name]
    for name, entry in table.items():
        arn = entry[key].split(":")
        assert arn[:4] == ["arn", "aws", "lambda", name], entry
        assert arn[6] == "AWSOpenTelemetryDistroPython" and int(arn[7]) >= 1, entry
    assert table["us-east-1"][key] != table["eu-west-1"][key]  # versions differ by region
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Role": "arn:aws:iam::123456789012:role/r",
            "Code": {"ZipFile": "def handler(event, context): pass"},
            "Handler": "index.handler",
            "Runtime": definition.LAMBDA_RUNTIME,
            "Layers": [layer],
        },
    }
    _lint({"Mappings": template["Mappings"], "Resources": {"Function": function}})
    monkeypatch.setenv("ADOT_LAYER_ARN", "arn:aws:lambda:us-east-1:111122223333:layer:Mine:3")
    assert merge_template("dev")["Resources"]["Starter"]["Properties"]["Layers"] == [
        {"Fn::Sub": "arn:aws:lambda:us-east-1:111122223333:layer:Mine:3"}
    ]


def _widgets(template: dict) -> list[dict]:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(body)["widgets"]


def _drawn(template: dict) -> list[tuple[str, str, dict[str, str], str]]:
    """Every metric the dashboard draws: namespace, name, dimensions, statistic."""
    found = []
    for widget in _widgets(template):
        for *names, options in widget["properties"].get("metrics", []):
            namespace, name, *pairs = names
            found.append(
                (namespace, name, dict(zip(pairs[::2], pairs[1::2], strict=True)), options["stat"])
            )
    return found


def test_every_function_writes_its_metrics_under_the_stage_s_namespace(packaged):
    stage, template = packaged
    for function in FUNCTIONS:
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables.items() >= definition.metrics_environment(stage).items()


def test_the_dashboard_draws_each_app_metric_as_the_functions_write_it(packaged):
    """Each of the app's metrics on the dashboard is one the emitter writes, with the dimensions
    and values it writes (its EMF document built from the very same terms); and the dashboard
    draws every metric of the catalogue, every error code, both decisions.
    (tests/e2e/test_metrics.py: a run of the stack writes each of them.)"""
    stage, template = packaged
    namespace = definition.metrics_environment(stage)[metrics.NAMESPACE_VARIABLE]
    catalogue = {metric.name: metric for metric in metrics.CATALOGUE}
    drawn = [d for d in _drawn(template) if d[0] == namespace]
    for _, name, dimensions, stat in drawn:
        assert dimensions.pop(metrics.STAGE) == stage
        measurement = metrics.Measurement(catalogue[name], [1.0], dimensions)
        written = metrics.document(namespace, stage, [measurement], 0)
        (directive,) = written["_aws"]["CloudWatchMetrics"]  # type: ignore[index]
        assert directive["Dimensions"] == [[metrics.STAGE, *dimensions]]
        assert stat in ("Sum", "Maximum") or re.fullmatch(r"p\d+", stat)
    assert {name for _, name, _, _ in drawn} == set(catalogue)
    by = {
        (name, dimension): {d[dimension] for _, n, d, _ in drawn if n == name}
        for name, dimension in (("OperationsFailed", "ErrorCode"), ("ReviewsDecided", "Decision"))
    }
    assert by["OperationsFailed", "ErrorCode"] == set(ErrorCode)
    assert by["ReviewsDecided", "Decision"] == {"approve", "reject"}


def test_the_dashboard_draws_the_aws_metrics_that_matter(packaged):
    _, template = packaged
    drawn = _drawn(template)
    assert {(namespace, name) for namespace, name, _, _ in drawn} >= {
        ("AWS/ApiGateway", "4XXError"),
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"),
        ("AWS/States", "ExecutionsStarted"),
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionsTimedOut"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    }

    def named(namespace: str, metric: str, dimension: str) -> set[str]:
        return {d[dimension] for n, m, d, _ in drawn if (n, m) == (namespace, metric)}

    for metric in ("Errors", "Throttles", "Duration"):
        assert named("AWS/Lambda", metric, "FunctionName") == {f"${{{f}}}" for f in FUNCTIONS}
    tables = {f"${{{t}}}" for t in _resources(template, "AWS::DynamoDB::Table")}
    assert named("AWS/DynamoDB", "WriteThrottleEvents", "TableName") == tables
    queues = named("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    assert "${StarterFailureQueue.QueueName}" in queues
    # Every reference is to the stack's own resources (or CloudFormation's pseudo parameters).
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for reference in re.findall(r"\$\{([^}]+)\}", body):
        assert reference.startswith("AWS::") or reference.split(".")[0] in template["Resources"]


def test_every_alarm_is_on_the_dashboard_and_names_it(packaged):
    _, template = packaged
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 8
    (widget,) = [w for w in _widgets(template) if w["type"] == "alarm"]
    assert widget["properties"]["alarms"] == [f"${{{alarm}.Arn}}" for alarm in sorted(alarms)]
    dashboard = template["Resources"]["Dashboard"]["Properties"]
    assert dashboard["DashboardName"] == {"Fn::Sub": "${AWS::StackName}"}
    for alarm in alarms.values():
        description = alarm["Properties"]["AlarmDescription"]["Fn::Sub"]
        assert "Dashboard ${AWS::StackName}: https://" in description
        assert description.endswith("#dashboards/dashboard/${AWS::StackName}")
        assert len(description) < 1024  # CloudWatch's limit, with room for the names
