"""One contract per port, run against the in-memory fake (tests/contract/fakes.py) and against the
real adapter over moto in process: what the unit tests assume of a fake, the adapter does.

The fake runs in the unit tier, the adapter in the integration tier (pytest markers). The
adapters share one provisioned emulator per module (the stage's resources from
infra/definition.py, through the local stack's provisioning); each test works on its own
operations, users, emails and keys, so the tests stay independent. TaskCallbacks' adapter
resumes real executions: each of its tests has moto executing state machines of its own, on
a test clock (tests/machines.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from chalicelib.adapters import aws
from chalicelib.adapters.event_stream import EventStream, decode
from chalicelib.adapters.operations_table import OperationsTable
from chalicelib.adapters.reviews_table import ReviewsTable
from chalicelib.adapters.state_machine import review_result
from chalicelib.adapters.users_table import UsersTable
from chalicelib.adapters.workflows import StepFunctionsCallbacks, StepFunctionsWorkflows
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import OperationError
from chalicelib.domain.reviews import TaskToken
from chalicelib.services.ports import (
    EventPublisher,
    OperationRepository,
    ReviewRepository,
    TaskCallbacks,
    UserRepository,
    Workflows,
)
from local.aws.provision import Provisioned
from local.patches import registry
from local.patches.hooks import Hooks
from tests.conftest import STAGE, emulated_aws
from tests.contract.fakes import (
    FakeCallbacks,
    FakeEvents,
    FakeOperations,
    FakeReviews,
    FakeUsers,
    FakeWorkflows,
)
from tests.machines import Machine, running
from tests.states.conftest import LOCAL_ROLE, definition_for

IMPLEMENTATIONS = [
    pytest.param("fake", marks=pytest.mark.unit),
    pytest.param("adapter", marks=pytest.mark.integration),
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Provisioned]:
    """The stage's resources in moto, without executing state machines."""
    from app import app
    from local.aws.provision import provision

    with emulated_aws() as session:
        yield provision(app, STAGE, session)


def _table_name(request: pytest.FixtureRequest, variable: str) -> str | None:
    """For the adapter, the emulator's table named by that variable; None for the fake."""
    if request.param == "fake":
        return None
    request.getfixturevalue("emulator")
    return os.environ[variable]


@pytest.fixture(params=IMPLEMENTATIONS)
def operations(request: pytest.FixtureRequest) -> OperationRepository:
    table = _table_name(request, "OPERATIONS_TABLE")
    return FakeOperations() if table is None else OperationsTable(table)


@dataclasses.dataclass
class RecordedFailures:
    """An OperationRepository, and how the workflow fails one of its operations itself: its
    failure-recording state (RecordFailure), with a step's error."""

    operations: OperationRepository
    record: Callable[[str, OperationError], None]


@pytest.fixture(params=IMPLEMENTATIONS)
def failures(request: pytest.FixtureRequest) -> RecordedFailures:
    table = _table_name(request, "OPERATIONS_TABLE")
    if table is None:
        fake = FakeOperations()
        return RecordedFailures(fake, fake.fail_as_the_workflow_does)
    return RecordedFailures(OperationsTable(table), _record_failure)


def _record_failure(operation_id: str, error: OperationError) -> None:
    """The workflow's RecordFailure state (statemachine/user_create.asl.json, as the stage
    deploys it) run once through TestState, its DynamoDB call made for real on the table."""
    with registry.applied(Hooks()):
        answer = boto3.client("stepfunctions").test_state(
            definition=definition_for("123456789012", "us-east-1"),
            stateName="RecordFailure",
            roleArn=LOCAL_ROLE,
            input="{}",
            variables=json.dumps(
                {
                    "request": {"operationId": operation_id},
                    "failure": {"code": error.code, "message": error.message},
                }
            ),
        )
    # Recorded (on to StepFailed), or the operation was done already (AlreadyRecorded).
    assert answer.get("nextState") in ("StepFailed", "AlreadyRecorded"), answer


@pytest.fixture(params=IMPLEMENTATIONS)
def users(request: pytest.FixtureRequest) -> UserRepository:
    table = _table_name(request, "USERS_TABLE")
    return FakeUsers() if table is None else UsersTable(table)


@pytest.fixture(params=IMPLEMENTATIONS)
def reviews(request: pytest.FixtureRequest) -> ReviewRepository:
    table = _table_name(request, "REVIEWS_TABLE")
    return FakeReviews() if table is None else ReviewsTable(table)


@dataclasses.dataclass
class Stream:
    """An EventPublisher, a second one whose stream is unavailable, and a way to read back
    what reached the stream."""

    publisher: EventPublisher
    unavailable: EventPublisher
    published: Callable[[], list[OperationRequested]]


@pytest.fixture(params=IMPLEMENTATIONS)
def stream(request: pytest.FixtureRequest) -> Stream:
    if request.param == "fake":
        fake = FakeEvents()
        return Stream(fake, FakeEvents(fail=True), lambda: list(fake.published))
    request.getfixturevalue("emulator")
    name = os.environ["EVENT_STREAM"]
    return Stream(EventStream(name), EventStream(f"{name}-missing"), lambda: _read(name))


def _read(stream_name: str) -> list[OperationRequested]:
    kinesis = boto3.client("kinesis")
    found: list[OperationRequested] = []
    for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found += [decode(r["Data"]) for r in kinesis.get_records(ShardIterator=iterator)["Records"]]
    return found


@dataclasses.dataclass
class Executions:
    """Workflows, and how many executions each operation has."""

    workflows: Workflows
    count: Callable[[str], int]


@pytest.fixture(params=IMPLEMENTATIONS)
def executions(request: pytest.FixtureRequest) -> Executions:
    if request.param == "fake":
        fake = FakeWorkflows()
        return Executions(fake, fake.started.count)
    arn = request.getfixturevalue("emulator").state_machine_arn
    adapter = StepFunctionsWorkflows(os.environ["STATE_MACHINE_NAME"], arn)

    def count(operation_id: str) -> int:
        listed = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)
        return sum(1 for e in listed["executions"] if e["name"] == operation_id)

    return Executions(adapter, count)


@dataclasses.dataclass
class Waits:
    """TaskCallbacks, and workflows for it to resume, each waiting in a callback task
    (.waitForTaskToken) for a day: how to start one, what one went on with once resumed, how
    its wait times out, and the service throttling meanwhile."""

    callbacks: TaskCallbacks
    wait: Callable[[], TaskToken]
    continued_with: Callable[[TaskToken], Any]
    time_out: Callable[[TaskToken], None]
    throttled: Callable[[], contextlib.AbstractContextManager[None]]


@pytest.fixture(params=IMPLEMENTATIONS)
def waits(request: pytest.FixtureRequest) -> Iterator[Waits]:
    if request.param == "fake":
        yield _fake_waits()
        return
    with running() as machine:
        yield WaitingExecutions(machine).waits()


def _fake_waits() -> Waits:
    fake = FakeCallbacks()

    def continued_with(token: TaskToken) -> Any:
        (decision,) = [decision for resumed, decision in fake.resumed if resumed == token]
        return review_result(decision)

    @contextlib.contextmanager
    def throttled() -> Iterator[None]:
        fake.fail = True
        try:
            yield
        finally:
            fake.fail = False

    return Waits(fake, lambda: fake.wait(uuid.uuid4().hex), continued_with, fake.end, throttled)


class WaitingExecutions:
    """Executions of a one-state machine on the emulator's clock: a task that sends its token
    to a queue (sqs:sendMessage.waitForTaskToken), where the test reads it, and waits a day;
    the execution's output is what the task was resumed with."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.executions: dict[TaskToken, str] = {}

    def waits(self) -> Waits:
        return Waits(
            StepFunctionsCallbacks(),
            self.wait,
            self.continued_with,
            self.time_out,
            self.throttled,
        )

    def wait(self) -> TaskToken:
        queue, task = self.machine.callback_task(f"callbacks-{len(self.executions)}")
        execution = self.machine.run({"Wait": task}, "Wait")
        token = TaskToken(self.machine.token(queue, execution))
        self.executions[token] = execution
        return token

    def continued_with(self, token: TaskToken) -> Any:
        execution = self.executions[token]
        self.machine.ended(execution, "the resumed workflow")
        described = self.machine.sfn.describe_execution(executionArn=execution)
        assert described["status"] == "SUCCEEDED", described
        return json.loads(described["output"])

    def time_out(self, token: TaskToken) -> None:
        execution = self.executions[token]
        self.machine.clock.advance(timedelta(days=1))
        self.machine.ended(execution, "timing out")
        described = self.machine.sfn.describe_execution(executionArn=execution)
        assert (described["status"], described.get("error")) == ("FAILED", "States.Timeout")

    @contextlib.contextmanager
    def throttled(self) -> Iterator[None]:
        """SendTaskSuccess answered with ThrottlingException, as the SDK reports it once its
        retries are spent. Answered at botocore's before-call, so the request never reaches
        moto: a before-send answer would not stop moto's own before-send handler, which
        performs the request all the same (botocore calls every one)."""
        events = aws.client("stepfunctions").meta.events
        refused: list[dict[str, Any]] = []

        def throttle(params: dict[str, Any], **_: object) -> tuple[AWSResponse, dict[str, Any]]:
            refused.append(params)
            error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
            answer = AWSResponse("https://states.amazonaws.com/", 400, HTTPHeaders(), None)
            return answer, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

        event = "before-call.sfn.SendTaskSuccess"
        # botocore-stubs type a handler as returning None; a before-call handler may answer.
        events.register_first(event, throttle)  # type: ignore[arg-type]
        try:
            yield
        finally:
            events.unregister(event, throttle)  # type: ignore[arg-type]
        assert len(refused) == 1
