"""Faults injected at the adapters' seams; every scenario ends with the invariants checked:
every accepted operation done (SUCCEEDED, or FAILED with a reason), one user per email, one
execution per operation, nothing left in flight."""

from __future__ import annotations

import collections
import io
import json
import os
import threading
from collections.abc import Callable, Iterator

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders

from chalicelib.adapters import aws
from chalicelib.adapters.operations_table import OperationsTable
from chalicelib.adapters.users_table import UsersTable
from chalicelib.adapters.workflows import StepFunctionsWorkflows
from chalicelib.domain.errors import TransientError
from local.patches.clock import ClockTime
from tests.builders import unique_email
from tests.helpers import body, executions, fail_calls, post_user, table_items

pytestmark = pytest.mark.e2e


def assert_invariants(stack, accepted_ids: list[str]) -> None:
    operations = {i["pk"]["S"]: i for i in table_items("OPERATIONS_TABLE") if "status" in i}
    assert set(accepted_ids) <= set(operations)
    for operation_id in accepted_ids:
        item = operations[operation_id]
        assert item["status"]["S"] in ("SUCCEEDED", "FAILED"), operation_id
        assert "inFlight" not in item
        if item["status"]["S"] == "FAILED":
            assert item["error"]["M"]["code"]["S"] and item["error"]["M"]["message"]["S"]
    users = [i for i in table_items("USERS_TABLE") if i["pk"]["S"].startswith("user#")]
    active = collections.Counter(
        u["email"]["S"].lower() for u in users if u["status"]["S"] == "ACTIVE"
    )
    assert all(count == 1 for count in active.values()), active
    names = [e["name"] for e in executions(stack)]
    assert len(names) == len(set(names))
    started = {i for i in accepted_ids if operations[i].get("startedAt")}
    assert started <= set(names)


def _accept(stack, emails: list[str]) -> list[str]:
    return [body(post_user(stack.client, email))["id"] for email in emails]


# The first test reads the whole stream back, and so takes a stack of its own; the others
# share one (`shared`, tests/conftest.py), with emails of their own: the invariants hold
# for everything the stack holds, and for their own operations in particular.


def test_reordered_delivery_across_partitions(stack):
    kinesis = boto3.client("kinesis")
    ids = _accept(stack, ["a@example.org", "b@example.org", "c@example.org"])
    shard = kinesis.list_shards(StreamName=stack.resources.stream_name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=stack.resources.stream_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    for record in reversed(records):  # every event again, newest first
        kinesis.put_record(
            StreamName=stack.resources.stream_name,
            Data=record["Data"],
            PartitionKey=record["PartitionKey"],
        )
    stack.drain()
    assert_invariants(stack, ids)


@pytest.mark.parametrize("method", ["create", "mark_running"])
def test_operations_table_throttled(shared, monkeypatch, method):
    stack, email = shared, unique_email()
    throttled = TransientError("ProvisionedThroughputExceededException")
    fail_calls(monkeypatch, OperationsTable, method, throttled, lambda call: call == 1)
    first = post_user(stack.client, email)
    if method == "create":
        assert first.status_code == 503  # the client is told, and retries
        assert first.headers["Content-Type"] == "application/problem+json"
        first = post_user(stack.client, email)
    assert first.status_code == 202
    stack.drain()  # a throttled starter record is retried by the mapping
    assert_invariants(stack, [body(first)["id"]])


THROTTLED = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    }
).encode()


class _Body(io.BytesIO):
    def stream(self, **_: object) -> Iterator[bytes]:
        yield self.getvalue()


class WireThrottle:
    """DynamoDB refusing the app's requests to one table with a throttling error, at the wire:
    registered on the adapters' own boto3 client, ahead of the emulator. The SDK retries (up
    to its 3 attempts) before the adapter sees anything, as it would against AWS."""

    def __init__(self, table: str, times: int) -> None:
        self.table = table
        self.left = times
        self.throttled: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: AWSPreparedRequest, **_: object) -> AWSResponse | None:
        body = request.body
        assert body is None or isinstance(body, bytes | str), "DynamoDB's JSON, serialized whole"
        if self.table not in _tables_named_in(body):
            return None
        target = request.headers["X-Amz-Target"]  # bytes once botocore prepared the request
        with self._lock:
            if not self.left:
                return None
            self.left -= 1
            operation = target.decode() if isinstance(target, bytes) else target
            self.throttled.append(operation.split(".")[-1])
        return AWSResponse(request.url, 400, HTTPHeaders(), _Body(THROTTLED))


def _tables_named_in(body: bytes | str | None) -> set[str]:
    document = json.loads(body or "{}")
    tables = {document.get("TableName")}
    for item in document.get("TransactItems", []):
        tables |= {action.get("TableName") for action in item.values()}
    return tables - {None}


@pytest.fixture
def wire_throttle(shared, monkeypatch) -> Iterator[Callable[[str, int], WireThrottle]]:
    # The SDK's backoff between its attempts sleeps on the emulator's clock: no real waiting.
    monkeypatch.setattr(botocore.endpoint, "time", ClockTime(shared.clock))
    dynamodb = aws.client("dynamodb")
    installed: list[WireThrottle] = []

    def install(table: str, times: int) -> WireThrottle:
        throttle = WireThrottle(table, times)
        # botocore-stubs type a handler as returning None; a before-send handler may answer.
        dynamodb.meta.events.register_first("before-send.dynamodb", throttle)  # type: ignore[arg-type]
        installed.append(throttle)
        return throttle

    yield install
    for throttle in installed:
        dynamodb.meta.events.unregister("before-send.dynamodb", throttle)  # type: ignore[arg-type]


def test_operations_table_throttled_at_the_wire(shared, wire_throttle):
    stack, email = shared, unique_email()
    throttle = wire_throttle(os.environ["OPERATIONS_TABLE"], times=4)
    first = post_user(stack.client, email)
    # Three attempts throttled: the SDK gives up, the client gets a 503 and tries again; the
    # SDK absorbs the fourth.
    assert first.status_code == 503
    assert first.headers["Content-Type"] == "application/problem+json"
    second = post_user(stack.client, email)
    assert second.status_code == 202
    assert len(throttle.throttled) == 4
    stack.drain()
    assert_invariants(stack, [body(second)["id"]])


def test_users_table_throttled_at_the_wire(shared, wire_throttle):
    stack = shared
    throttle = wire_throttle(os.environ["USERS_TABLE"], times=4)
    ids = _accept(stack, [unique_email()])
    stack.drain()
    # The step's three SDK attempts failed; the state machine retried the step.
    assert len(throttle.throttled) == 4
    assert_invariants(stack, ids)
    assert body(stack.client.http.get(f"/operations/{ids[0]}"))["status"] == "SUCCEEDED"


def test_users_table_throttled_in_every_step(shared, monkeypatch):
    stack = shared
    for method in ("add", "get", "activate"):
        throttled = TransientError("ThrottlingException")
        fail_calls(monkeypatch, UsersTable, method, throttled, lambda call: call == 1)
    ids = _accept(stack, [unique_email()])
    stack.drain()
    assert_invariants(stack, ids)
    outcome = body(stack.client.http.get(f"/operations/{ids[0]}"))
    assert outcome["status"] == "SUCCEEDED"


def test_start_execution_throttled_for_a_while(shared, monkeypatch):
    stack = shared
    throttled = TransientError("ThrottlingException: Rate exceeded")
    fail_calls(monkeypatch, StepFunctionsWorkflows, "start", throttled, lambda call: call <= 2)
    ids = _accept(stack, [unique_email(), unique_email()])
    stack.drain()
    assert_invariants(stack, ids)


def test_the_starter_crashing_mid_batch(shared, monkeypatch):
    stack = shared
    # Not an Exception: the whole batch fails.
    died = SystemExit("the container died")
    fail_calls(monkeypatch, StepFunctionsWorkflows, "start", died, lambda call: call == 2)
    ids = _accept(stack, [unique_email() for _ in range(4)])
    stack.drain()
    assert_invariants(stack, ids)
    statuses = {body(stack.client.http.get(f"/operations/{i}"))["status"] for i in ids}
    assert statuses == {"SUCCEEDED"}


def test_many_requests_for_one_email(shared):
    stack, email = shared, unique_email()
    ids = _accept(stack, [email.capitalize(), email, email.upper()] * 3)
    stack.drain()
    assert_invariants(stack, ids)
    outcomes = collections.Counter(
        body(stack.client.http.get(f"/operations/{i}"))["status"] for i in ids
    )
    assert outcomes == {"SUCCEEDED": 1, "FAILED": 8}
