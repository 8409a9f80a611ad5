"""Small helpers for the in-process tests: the API through Chalice's test client, faults at
the adapters' seams, and what the emulator holds."""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import boto3

from chalicelib.config import settings
from tests.builders import a_request_body

if TYPE_CHECKING:
    from mypy_boto3_kinesis.type_defs import RecordTypeDef
    from mypy_boto3_stepfunctions.type_defs import ExecutionListItemTypeDef

JSON = {"Content-Type": "application/json"}


def post_user(
    client: Any, email: str, name: str = "Ada", key: str | None = None, **fields: Any
) -> Any:
    """POST /users through Chalice's test client (the `stack` fixture's `stack.client`), with
    the request's other fields if given (a field a team adds, docs/extending.md)."""
    headers = dict(JSON, **({"Idempotency-Key": key} if key else {}))
    body = json.dumps(a_request_body(email=email, name=name, **fields))
    return client.http.post("/users", headers=headers, body=body)


def live(*kinds: type) -> list[int]:
    """How many objects of each kind are alive, after a collection: one pass over the heap for
    them all. Under the `young_heap` fixture (tests/conftest.py), only those the test made."""
    gc.collect()
    counts = [0] * len(kinds)
    for found in gc.get_objects():
        for index, kind in enumerate(kinds):
            if isinstance(found, kind):
                counts[index] += 1
    return counts


def body(response: Any) -> Any:
    return json.loads(response.body)


def fail_calls(
    monkeypatch: Any,
    owner: type,
    method: str,
    error: BaseException,
    failing: Callable[[int], bool],
) -> list[tuple[Any, ...]]:
    """Makes owner.method raise `error` on the calls `failing` picks (counted from 1) and
    behave on the others: a fault at an adapter's seam. Returns each call's arguments."""
    original = getattr(owner, method)
    calls: list[tuple[Any, ...]] = []

    def faulty(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if failing(len(calls)):
            raise error
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, faulty)
    return calls


def operation(client: Any, operation_id: str) -> dict[str, Any]:
    response = client.http.get(f"/operations/{operation_id}")
    assert response.status_code == 200, response.body
    return body(response)


def table_items(table_variable: str) -> list[dict[str, Any]]:
    """Every item of the table named by that environment variable, in DynamoDB JSON."""
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = client.scan(TableName=os.environ[table_variable], **kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def executions(stack: Any) -> list[ExecutionListItemTypeDef]:
    sfn = boto3.client("stepfunctions")
    return sfn.list_executions(stateMachineArn=stack.resources.state_machine_arn)["executions"]


def put_again(stack: Any, partition_key: str) -> tuple[str, RecordTypeDef]:
    """Puts the stream's only record on it again, as a producer's retry would; its shard and
    the record (as GetRecords gives it)."""
    kinesis = boto3.client("kinesis")
    stream = stack.resources.stream_name
    shard = str(kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"])
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    (record,) = kinesis.get_records(ShardIterator=iterator)["Records"]
    kinesis.put_record(StreamName=stream, Data=record["Data"], PartitionKey=partition_key)
    return shard, record


# Driving a workflow and a review on the emulator's clock (docs/contributors.md, "Write a test").

# An address the test stage sends to a reviewer (REVIEW_EMAIL_DOMAINS).
REVIEWED = "ada@review.example.org"


def review_timeout() -> timedelta:
    """The stage's REVIEW_TIMEOUT_SECONDS: advance the clock by it to time a review out."""
    return timedelta(seconds=settings().review_timeout_seconds)


def until(condition: Callable[[], Any], what: str, turns: int = 1000) -> Any:
    """Until condition() is truthy (10 ms at most between looks, 10 s in all); its value."""
    pause = threading.Event()
    for _ in range(turns):
        found = condition()
        if found:
            return found
        pause.wait(0.01)
    raise AssertionError(f"still waiting for {what}")


def awaiting_review(
    stack: Any, email: str = REVIEWED, name: str = "Ada", **fields: Any
) -> dict[str, Any]:
    """POST a user whose email the stage reviews (with the request's other fields if given),
    and wait until its workflow waits for a person (and the wait's timers run on the
    emulator's clock): the operation, RUNNING with its step AWAITING_REVIEW."""
    accepted = post_user(stack.client, email, name, **fields)
    assert accepted.status_code == 202, accepted.body
    operation_id = body(accepted)["id"]
    stack.poller.drain()
    waiting = until(
        lambda: (found := operation(stack.client, operation_id)).get("step") and found,
        "the review to be requested",
    )
    # The review is stored from inside the waiting task, which may be before the task's timers
    # start (the task's timeout and the callback's, two timed waits on the emulator's clock); a
    # clock moved before they start would not count for them.
    waits = (
        2
        * sum(
            1 for e in executions(stack) if e["status"] == "RUNNING" and e["name"] != operation_id
        )
        + 2
    )
    until(lambda: stack.clock.waiting() >= waits, "the wait to begin on the clock")
    return waiting


def decide(stack: Any, operation_id: str, decision: str, reason: str | None = None) -> Any:
    """POST /reviews/{id}: a reviewer's decision ("approve" or "reject"), the answer."""
    document = {"decision": decision, **({"reason": reason} if reason is not None else {})}
    return stack.client.http.post(
        f"/reviews/{operation_id}", headers=JSON, body=json.dumps(document)
    )


def finished(stack: Any, operation_id: str) -> dict[str, Any]:
    """Run the workflow to its end (stack.drain) and GET the operation, which must be done."""
    stack.drain()
    done = operation(stack.client, operation_id)
    assert done["done"] is True, done
    return done


class LogLines(logging.Handler):
    """The lines a logger writes, formatted as the functions write them (JSON, an EMF document
    as it is)."""

    def __init__(self) -> None:
        super().__init__()
        from chalicelib.adapters.logs import JsonFormatter

        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
