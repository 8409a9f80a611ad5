"""The deploy script, run against moto's server: the stack is created, wired, and removed.

Between build and deploy the template goes through tests/infra/cfn_emulator.py, the shims for
what moto's CloudFormation does differently (listed there); AWS gets the template unshimmed.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra import bootstrap_ci, definition, deploy, functions
from ops import target as targets
from ops.archive import Window
from ops.redrive import redrive
from ops.replay import replay
from ops.target import OpsError
from tests.infra.cfn_emulator import create_ahead, create_deferred, for_emulator

STAGE = "dev"
DEV = definition.stage_environment(STAGE)  # its names (infra/definition.py)
REPLAY = definition.replay_stream_name(STAGE)


@pytest.fixture(scope="module")
def deployed(packaged_stage, tmp_path_factory) -> Iterator[tuple[boto3.Session, dict[str, str]]]:
    # The stage as `make package` packages it, once per run (tests/infra/conftest.py), copied:
    # the build writes its CloudFormation template beside it.
    build = tmp_path_factory.mktemp("build")
    packaged = shutil.copy(packaged_stage(STAGE), build / "sam.json")
    shutil.copy(packaged_stage(STAGE).with_name("deployment.zip"), build)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        session = boto3.Session(region_name="us-east-1")
        bucket = deploy.artifacts_bucket(session, None)
        built = deploy.build(STAGE, session, bucket, packaged)
        template, ahead = create_ahead(for_emulator(built), session)
        # As the pipeline deploys: CloudFormation acts with the role `make bootstrap-ci` made.
        ci = bootstrap_ci.template(STAGE, f"acme/{definition.app_name()}")
        roles = bootstrap_ci.deploy(session, bootstrap_ci.bootstrap_stack_name(STAGE), ci)
        outputs = deploy.deploy(
            STAGE, session, bucket, template, role_arn=roles["CloudFormationRoleArn"]
        )
        create_deferred(template, outputs, session)
        resources = session.client("cloudformation").list_stack_resources(
            StackName=deploy.stack_name(STAGE)
        )["StackResourceSummaries"]
        yield (
            session,
            {
                **ahead,
                **{r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources},
            },
        )
    server.stop()


def test_the_stack_is_complete_with_the_api_url(deployed):
    session, _ = deployed
    (stack,) = session.client("cloudformation").describe_stacks(StackName=deploy.stack_name(STAGE))[
        "Stacks"
    ]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    # CloudFormation acted with the pipeline's role (`make bootstrap-ci`), not the caller's.
    ci = session.client("cloudformation").describe_stacks(
        StackName=bootstrap_ci.bootstrap_stack_name(STAGE)
    )["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in ci["Outputs"]}
    assert stack["RoleARN"] == outputs["CloudFormationRoleArn"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["EndpointURL"].startswith("https://")
    assert outputs["StateMachineArn"].endswith(f":stateMachine:{DEV['STATE_MACHINE_NAME']}")


def test_every_function_exists_under_its_own_role(deployed):
    session, physical = deployed
    lambda_ = session.client("lambda")
    for function in functions.logical_ids(functions.load_app()).values():
        configuration = lambda_.get_function(FunctionName=physical[function])["Configuration"]
        assert configuration["Role"].split("/")[-1] == physical[f"{function}Role"]


def test_the_starter_mapping_carries_its_settings(deployed):
    session, physical = deployed
    mappings = session.client("lambda").list_event_source_mappings(
        FunctionName=physical["Starter"]
    )["EventSourceMappings"]
    (mapping,) = [m for m in mappings if m["EventSourceArn"].endswith(f"/{DEV['EVENT_STREAM']}")]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["ParallelizationFactor"] == 2
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        ":" + definition.starter_failure_queue_name(STAGE)
    )


def test_the_data_resources_exist(deployed):
    session, _ = deployed
    tables = session.client("dynamodb").list_tables()["TableNames"]
    assert {DEV["OPERATIONS_TABLE"], DEV["USERS_TABLE"]} <= set(tables)
    stream = session.client("kinesis").describe_stream_summary(StreamName=DEV["EVENT_STREAM"])
    assert stream["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
    assert session.client("sqs").get_queue_url(
        QueueName=definition.starter_failure_queue_name(STAGE)
    )
    replay = session.client("kinesis").describe_stream_summary(StreamName=REPLAY)
    assert replay["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


def test_the_state_machine_invokes_the_stack_functions(deployed):
    session, physical = deployed
    sfn = session.client("stepfunctions")
    (machine,) = sfn.list_state_machines()["stateMachines"]
    described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
    states = json.loads(described["definition"])["States"]
    assert physical["UserCreate"] in states["CreateUser"]["Arguments"]["FunctionName"]
    assert physical["UserApprove"] in states["ApproveUser"]["Arguments"]["FunctionName"]
    assert states["RecordFailure"]["Arguments"]["TableName"] == DEV["OPERATIONS_TABLE"]
    assert physical["UserReviewRequest"] in states["AwaitReview"]["Arguments"]["FunctionName"]
    # The JSONata expressions and the retry policies came through as written.
    assert "{% $states.context.State.EnteredTime %}" in described["definition"]
    assert all(isinstance(state.get("Retry", []), list) for state in states.values())
    assert described["roleArn"].endswith("/" + physical["WorkflowRole"])


def test_roles_hold_the_narrow_policies(deployed):
    session, physical = deployed
    iam = session.client("iam")
    (name,) = iam.list_role_policies(RoleName=physical["StarterRole"])["PolicyNames"]
    policy = json.dumps(iam.get_role_policy(RoleName=physical["StarterRole"], PolicyName=name))
    assert "states:StartExecution" in policy
    assert f":stateMachine:{DEV['STATE_MACHINE_NAME']}" in policy
    assert "dynamodb:PutItem" not in policy


def test_the_alarms_exist(deployed):
    session, _ = deployed
    alarms = session.client("cloudwatch").describe_alarms()["MetricAlarms"]
    alarm_names = {alarm["AlarmName"] for alarm in alarms}
    assert alarm_names == {
        f"{deploy.stack_name(STAGE)}-{logical_id}" for logical_id in template_alarms()
    }


def test_the_dashboard_shows_every_alarm_and_every_alarm_links_to_it(deployed):
    session, physical = deployed
    cloudwatch = session.client("cloudwatch")
    name = deploy.stack_name(STAGE)
    text = cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
    assert "${" not in text  # every reference filled in by CloudFormation
    widgets = json.loads(text)["widgets"]
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    (shown,) = [w["properties"]["alarms"] for w in widgets if w["type"] == "alarm"]
    assert sorted(shown) == sorted(alarm["AlarmArn"] for alarm in alarms)
    for alarm in alarms:
        assert alarm["AlarmDescription"].endswith(f"#dashboards/dashboard/{name}")
    drawn = json.dumps([w for w in widgets if w["type"] == "metric"])
    for function in functions.logical_ids(functions.load_app()).values():
        assert f'"FunctionName", "{physical[function]}"' in drawn


def test_api_gateway_may_write_the_access_logs(deployed):
    session, physical = deployed
    account = session.client("apigateway").get_account()
    assert account["cloudwatchRoleArn"].endswith("/" + physical["ApiGatewayLoggingRole"])
    (group,) = session.client("logs").describe_log_groups(
        logGroupNamePrefix=physical["ApiAccessLogs"]
    )["logGroups"]
    assert group["retentionInDays"] == 365


def test_the_sweeper_runs_alone_and_has_an_encrypted_dead_letter_queue(deployed):
    # moto keeps no DeadLetterConfig from a template: the template tests assert it.
    session, physical = deployed
    lambda_ = session.client("lambda")
    for function, reserved in (
        ("Sweeper", 1),
        ("Starter", definition.capacity(STAGE).starter_concurrency),
    ):
        configuration = lambda_.get_function(FunctionName=physical[function])
        assert configuration["Concurrency"]["ReservedConcurrentExecutions"] == reserved
    queue = session.client("sqs").get_queue_url(
        QueueName=definition.sweeper_dead_letter_queue_name(STAGE)
    )
    attributes = session.client("sqs").get_queue_attributes(
        QueueUrl=queue["QueueUrl"], AttributeNames=["KmsMasterKeyId"]
    )["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/aws/sqs"


def template_alarms() -> set[str]:
    from infra.archive import add_archive
    from infra.template import merge_template

    resources = add_archive(merge_template(STAGE), STAGE)["Resources"]
    # The merge template's function entries only add properties to Chalice's: no Type.
    return {k for k, v in resources.items() if v.get("Type") == "AWS::CloudWatch::Alarm"}


def test_the_replay_stream_has_the_starter_s_second_mapping_with_the_same_settings(deployed):
    session, physical = deployed
    mappings = session.client("lambda").list_event_source_mappings(
        FunctionName=physical["Starter"]
    )["EventSourceMappings"]
    by_stream = {m["EventSourceArn"].rpartition("/")[2]: m for m in mappings}
    assert set(by_stream) == {DEV["EVENT_STREAM"], REPLAY}
    settings = (
        "BatchSize",
        "MaximumRetryAttempts",
        "BisectBatchOnFunctionError",
        "DestinationConfig",
    )
    for setting in (*settings, "FunctionResponseTypes", "ParallelizationFactor"):
        assert by_stream[REPLAY][setting] == by_stream[DEV["EVENT_STREAM"]][setting]


def test_the_archive_bucket_is_named_in_the_outputs(deployed):
    session, physical = deployed
    (stack,) = session.client("cloudformation").describe_stacks(StackName=deploy.stack_name(STAGE))[
        "Stacks"
    ]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["ArchiveBucketName"] == physical["ArchiveBucket"]
    assert outputs["ReplayStreamName"] == REPLAY
    s3 = session.client("s3")
    encryption = s3.get_bucket_encryption(Bucket=outputs["ArchiveBucketName"])
    (rule,) = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    # The archive's own key, the stack's ArchiveKeyArn output. (Not through DescribeKey:
    # moto's CloudFormation keeps a KeyPolicy as an object, which its DescribeKey cannot read.)
    key_arn = _key_arns(session)[physical["ArchiveKey"]]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key_arn,
    }
    assert outputs["ArchiveKeyArn"] == key_arn
    # moto's CloudFormation keeps no LoggingConfiguration: the template tests assert it.
    assert outputs["ArchiveAccessLogBucketName"] == physical["ArchiveAccessLogBucket"]
    logs = s3.get_bucket_encryption(Bucket=outputs["ArchiveAccessLogBucketName"])
    (rule,) = logs["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_replay_and_redrive_find_the_stage_by_its_stack_outputs(deployed):
    session, physical = deployed
    target = targets.deployed(STAGE, session)
    assert (target.bucket, target.replay_stream) == (
        physical["ArchiveBucket"],
        REPLAY,
    )
    assert target.failure_queue_url.endswith("/" + definition.starter_failure_queue_name(STAGE))
    now = datetime.now(UTC)
    # moto's CloudFormation made no delivery stream: nothing was archived.
    with pytest.raises(OpsError, match="is empty: nothing has been archived yet"):
        replay(target, Window(now - timedelta(hours=1), now))
    assert redrive(target, out=io.StringIO(), wait_seconds=0).messages == 0


def test_the_reviewers_sign_in_and_are_told_of_reviews(deployed):
    session, physical = deployed
    (stack,) = session.client("cloudformation").describe_stacks(StackName=deploy.stack_name(STAGE))[
        "Stacks"
    ]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    pool = session.client("cognito-idp").describe_user_pool(UserPoolId=physical["ReviewerPool"])
    assert pool["UserPool"]["Name"] == definition.reviewer_pool_name(STAGE)
    assert pool["UserPool"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert outputs["ReviewerPoolId"] == physical["ReviewerPool"]
    assert outputs["ReviewerPageClientId"] == physical["ReviewerPageClient"]
    assert outputs["ReviewerPageUrl"].startswith("https://")
    assert outputs["ReviewerPageUrl"].endswith("/api/review/")
    # The page's settings reach the API's function; the topic and page, the review step.
    lambda_ = session.client("lambda")
    api = lambda_.get_function_configuration(FunctionName=physical["APIHandler"])
    assert api["Environment"]["Variables"]["REVIEWER_POOL_ID"] == physical["ReviewerPool"]
    assert api["Environment"]["Variables"]["REVIEWER_CLIENT_ID"] == physical["ReviewerPageClient"]
    step = lambda_.get_function_configuration(FunctionName=physical["UserReviewRequest"])
    variables = step["Environment"]["Variables"]
    assert variables["REVIEW_TOPIC_ARN"] == outputs["ReviewTopicArn"] == physical["ReviewTopic"]
    assert variables["REVIEW_PAGE_URL"] == outputs["ReviewerPageUrl"]
    # No address given (REVIEW_NOTIFICATION_EMAIL): nobody is subscribed.
    assert "ReviewEmailSubscription" not in physical
    topic = session.client("sns").list_subscriptions_by_topic(TopicArn=physical["ReviewTopic"])
    assert topic["Subscriptions"] == []
    # The next deploy keeps the stack's address unless one is given ("" removes it).
    cfn, name = session.client("cloudformation"), deploy.stack_name(STAGE)
    kept = [{"ParameterKey": "ReviewNotificationEmail", "UsePreviousValue": True}]
    assert deploy._parameters(cfn, name, None) == kept
    given = [{"ParameterKey": "ReviewNotificationEmail", "ParameterValue": "team@example.org"}]
    assert deploy._parameters(cfn, name, "team@example.org") == given
    assert deploy._parameters(cfn, deploy.stack_name("no-such-stage"), None) == []


def test_destroy_removes_the_stack_and_keeps_the_archive_readable(deployed):
    session, physical = deployed
    deploy.destroy(STAGE, session)
    stacks = session.client("cloudformation").list_stacks()["StackSummaries"]
    assert all(
        s["StackStatus"] == "DELETE_COMPLETE"
        for s in stacks
        if s["StackName"] == deploy.stack_name(STAGE)
    )
    # The archive, its access logs and its key stay (DeletionPolicy: Retain); the rest goes.
    buckets = {b["Name"] for b in session.client("s3").list_buckets()["Buckets"]}
    assert {physical["ArchiveBucket"], physical["ArchiveAccessLogBucket"]} <= buckets
    assert physical["ArchiveKey"] in _key_arns(session)
    assert physical["StackKey"] not in _key_arns(session)
    assert session.client("kinesis").list_streams()["StreamNames"] == []


def _key_arns(session: boto3.Session) -> dict[str, str]:
    """The account's KMS keys: key id -> ARN."""
    keys = session.client("kms").list_keys()["Keys"]
    return {key["KeyId"]: key["KeyArn"] for key in keys}
