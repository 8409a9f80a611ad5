"""Where a command acts: the stage's streams, archive bucket and on-failure queue.

The local stack's names come from infra/definition.py (the stage's config gives its endpoint
and placeholder credentials); a deployed stage's from its CloudFormation stack's outputs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from chalicelib.adapters.aws import error_code
from infra import aws_session, definition
from infra.cli import CommandError


class OpsError(CommandError):
    """A one-line reason why a command cannot go on."""


@dataclasses.dataclass(frozen=True)
class Target:
    stage: str
    session: boto3.Session
    endpoint: str | None
    event_stream: str
    replay_stream: str
    bucket: str
    failure_queue_url: str

    def client(self, service: str, config: botocore.config.Config | None = None) -> Any:
        make: Any = self.session.client  # any service: the stubs type each by its literal name
        return make(service, endpoint_url=self.endpoint, config=config)


def for_stage(stage: str, endpoint: str | None = None) -> Target:
    """The local stack for a stage whose config names an endpoint (or with --endpoint-url);
    otherwise the stage's deployed stack, with the region and credentials the AWS CLI would
    use (infra/aws_session.py)."""
    session, endpoint = stage_session(stage, endpoint)
    if endpoint is None:
        return deployed(stage, session)
    return emulated(stage, session, endpoint)


def stage_session(stage: str, endpoint: str | None = None) -> tuple[boto3.Session, str | None]:
    """The session and endpoint of a stage: the local stack's (its config names an endpoint,
    or --endpoint-url gives one), else AWS's, as the AWS CLI would find it."""
    try:
        env = definition.stage_environment(stage)
    except ValueError as error:
        raise OpsError(str(error)) from None
    endpoint = endpoint or env.get("AWS_ENDPOINT_URL")
    if endpoint is None:
        return aws_session.session(), None
    session = boto3.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    return session, endpoint


def emulated(stage: str, session: boto3.Session, endpoint: str | None = None) -> Target:
    """A stack made from infra/definition.py by local/ (`make run`, or the tests' emulator)."""
    env = definition.stage_environment(stage)
    target = Target(
        stage=stage,
        session=session,
        endpoint=endpoint,
        event_stream=env["EVENT_STREAM"],
        replay_stream=definition.replay_stream_name(stage),
        bucket=definition.emulated_archive_bucket(stage),
        failure_queue_url="",
    )
    where = f"at {endpoint}" if endpoint else "in this process"
    once = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=2)
    try:
        target.client("kinesis", once).describe_stream_summary(StreamName=target.replay_stream)
        queue = target.client("sqs", once).get_queue_url(
            QueueName=definition.starter_failure_queue_name(stage)
        )
    except botocore.exceptions.EndpointConnectionError:
        raise OpsError(
            f"no local stack answers {where}: start one with `make run`, or name its AWS "
            'endpoint (ARGS="--endpoint-url http://127.0.0.1:<aws port>")'
        ) from None
    except botocore.exceptions.ClientError as error:
        raise OpsError(
            f"the stack {where} has no {definition.replay_stream_name(stage)} or no on-failure "
            f"queue ({error_code(error)}): restart `make run`"
        ) from None
    return dataclasses.replace(target, failure_queue_url=queue["QueueUrl"])


def deployed(stage: str, session: boto3.Session) -> Target:
    """A stack made by `make deploy STAGE=...`: its outputs name what the commands need."""
    name = definition.stack_name(stage)
    try:
        (stack,) = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except botocore.exceptions.ClientError as error:
        if "does not exist" in str(error):
            raise OpsError(
                f"no stack {name} in {session.region_name}: `make deploy STAGE={stage}` first"
            ) from None
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = sorted(
        {"ArchiveBucketName", "ReplayStreamName", "StarterFailureQueueUrl"} - set(outputs)
    )
    if missing:
        raise OpsError(
            f"the stack {name} has no {', '.join(missing)} output: it predates the archive; "
            f"`make deploy STAGE={stage}`"
        )
    return Target(
        stage=stage,
        session=session,
        endpoint=None,
        event_stream=definition.stage_environment(stage)["EVENT_STREAM"],
        replay_stream=outputs["ReplayStreamName"],
        bucket=outputs["ArchiveBucketName"],
        failure_queue_url=outputs["StarterFailureQueueUrl"],
    )
