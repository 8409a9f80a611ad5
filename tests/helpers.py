"""Small helpers for the in-process tests: the API through Chalice's test client, faults at
the adapters' seams, and what the emulator holds."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_kinesis.type_defs import RecordTypeDef
    from mypy_boto3_stepfunctions.type_defs import ExecutionListItemTypeDef

JSON = {"Content-Type": "application/json"}


def post_user(client: Any, email: str, name: str = "Ada", key: str | None = None) -> Any:
    headers = dict(JSON, **({"Idempotency-Key": key} if key else {}))
    return client.http.post(
        "/users", headers=headers, body=json.dumps({"email": email, "name": name})
    )


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
