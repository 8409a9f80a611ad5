"""One contract per port, run against the in-memory fake (tests/contract/fakes.py) and against the
real adapter over moto in process: what the unit tests assume of a fake, the adapter does.

The fake runs in the unit tier, the adapter in the integration tier (pytest markers). The
adapters share one provisioned emulator per module (the stage's resources from
infra/definition.py, through the local stack's provisioning); each test works on its own
operations, users, emails and keys, so the tests stay independent.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest

from chalicelib.adapters.event_stream import EventStream, decode
from chalicelib.adapters.operations_table import OperationsTable
from chalicelib.adapters.reviews_table import ReviewsTable
from chalicelib.adapters.users_table import UsersTable
from chalicelib.adapters.workflows import StepFunctionsWorkflows
from chalicelib.domain.events import OperationRequested
from chalicelib.services.ports import (
    EventPublisher,
    OperationRepository,
    ReviewRepository,
    UserRepository,
    Workflows,
)
from local.aws.provision import Provisioned
from tests.conftest import STAGE
from tests.contract.fakes import (
    FakeEvents,
    FakeOperations,
    FakeReviews,
    FakeUsers,
    FakeWorkflows,
)

IMPLEMENTATIONS = [
    pytest.param("fake", marks=pytest.mark.unit),
    pytest.param("adapter", marks=pytest.mark.integration),
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Provisioned]:
    """The stage's resources in moto, without executing state machines."""
    from moto import mock_aws

    from app import app
    from local.aws.provision import provision

    with mock_aws():
        yield provision(app, STAGE, boto3.Session())


def unique_email() -> str:
    return f"u-{uuid.uuid4().hex[:12]}@example.org"


@pytest.fixture(params=IMPLEMENTATIONS)
def operations(request: pytest.FixtureRequest) -> OperationRepository:
    if request.param == "fake":
        return FakeOperations()
    request.getfixturevalue("emulator")
    return OperationsTable(os.environ["OPERATIONS_TABLE"])


@pytest.fixture(params=IMPLEMENTATIONS)
def users(request: pytest.FixtureRequest) -> UserRepository:
    if request.param == "fake":
        return FakeUsers()
    request.getfixturevalue("emulator")
    return UsersTable(os.environ["USERS_TABLE"])


@pytest.fixture(params=IMPLEMENTATIONS)
def reviews(request: pytest.FixtureRequest) -> ReviewRepository:
    if request.param == "fake":
        return FakeReviews()
    request.getfixturevalue("emulator")
    return ReviewsTable(os.environ["REVIEWS_TABLE"])


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
