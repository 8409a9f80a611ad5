"""The starter and sweeper Lambdas, invoked as Lambda would, over the emulator."""

import json
import logging
import os
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.adapters.event_stream import encode
from chalicelib.adapters.logs import JsonFormatter
from chalicelib.adapters.operations_table import OperationsTable
from chalicelib.adapters.workflows import StepFunctionsWorkflows
from chalicelib.domain.errors import TransientError
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import to_iso
from local.aws.kinesis_poller import lambda_event
from tests.builders import an_operation
from tests.helpers import body, fail_calls, operation, post_user

pytestmark = pytest.mark.integration

OPERATIONS = os.environ["OPERATIONS_TABLE"]


def _kinesis_event(*payloads: bytes) -> dict:
    """Records with distinct sequence numbers (Chalice's generator gives them all one), as the
    poller hands them to the starter."""
    arrived = datetime.fromtimestamp(1_700_000_000, UTC)
    records = [
        {
            "PartitionKey": f"p{index}",
            "SequenceNumber": f"4959{index:04d}",
            "Data": payload,
            "ApproximateArrivalTimestamp": arrived,
        }
        for index, payload in enumerate(payloads)
    ]
    stream = "arn:aws:kinesis:us-east-1:123456789012:stream/events"
    return lambda_event(records, stream, "shardId-000000000000")


def _sweep(stack) -> dict:
    scheduled = stack.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    return stack.client.lambda_.invoke("sweeper", scheduled).payload


def _stored(age: timedelta, email: str = "ada@example.org"):
    created = an_operation(email=email, now=to_iso(datetime.now(UTC) - age))
    return OperationsTable(OPERATIONS).create(created, None)


def test_the_starter_reports_only_the_records_it_could_not_handle(stack):
    good = [_stored(timedelta(0), f"u{i}@example.org") for i in range(2)]
    event = _kinesis_event(
        encode(OperationRequested.of(good[0])),
        b"\x00not an event",
        encode(OperationRequested.of(good[1])),
    )
    response = stack.client.lambda_.invoke("starter", event)
    assert response.payload == {"batchItemFailures": [{"itemIdentifier": "49590001"}]}
    stack.drain()
    for created in good:
        assert operation(stack.client, created.id)["status"] == "SUCCEEDED"


def test_a_start_that_fails_is_reported_and_succeeds_when_redelivered(stack, monkeypatch):
    created = _stored(timedelta(0))
    throttled = TransientError("ThrottlingException: StartExecution rate exceeded")
    fail_calls(monkeypatch, StepFunctionsWorkflows, "start", throttled, lambda call: call == 1)
    event = _kinesis_event(encode(OperationRequested.of(created)))
    assert stack.client.lambda_.invoke("starter", event).payload["batchItemFailures"]
    assert stack.client.lambda_.invoke("starter", event).payload == {"batchItemFailures": []}
    stack.drain()
    assert operation(stack.client, created.id)["status"] == "SUCCEEDED"


def test_a_poison_record_on_the_stream_reaches_the_failure_queue(stack):
    kinesis = boto3.client("kinesis")
    kinesis.put_record(StreamName=stack.resources.stream_name, Data=b"poison", PartitionKey="x")
    accepted = body(post_user(stack.client, "ada@example.org"))
    stack.drain()
    messages = boto3.client("sqs").receive_message(QueueUrl=stack.resources.failure_queue_url)
    (message,) = messages["Messages"]
    assert '"batchSize": 1' in message["Body"]
    assert operation(stack.client, accepted["id"])["status"] == "SUCCEEDED"


def test_the_sweeper_republishes_an_operation_whose_event_was_lost(stack):
    lost = _stored(timedelta(minutes=5))  # stored, then the API crashed before publishing
    report = _sweep(stack)
    assert report == {"republished": 1, "failed": 0}
    stack.drain()
    assert operation(stack.client, lost.id)["status"] == "SUCCEEDED"


def test_the_sweeper_fails_an_operation_that_could_never_start(stack):
    ancient = _stored(timedelta(hours=2))
    assert _sweep(stack) == {"republished": 0, "failed": 1}
    failed = operation(stack.client, ancient.id)
    assert failed["status"] == "FAILED"
    assert failed["error"]["code"] == "NOT_STARTED"


def test_the_sweeper_leaves_fresh_and_finished_operations_alone(stack):
    accepted = body(post_user(stack.client, "ada@example.org"))
    stack.drain()
    _stored(timedelta(seconds=1), "bob@example.org")
    assert _sweep(stack) == {"republished": 0, "failed": 0}
    assert operation(stack.client, accepted["id"])["status"] == "SUCCEEDED"


class _JsonLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(JsonFormatter().format(record)))


def test_every_log_line_of_a_record_and_of_its_steps_names_the_operation(stack):
    created = _stored(timedelta(0))
    captured = _JsonLines()
    logging.getLogger().addHandler(captured)
    try:
        event = _kinesis_event(encode(OperationRequested.of(created)))
        assert stack.client.lambda_.invoke("starter", event).payload == {"batchItemFailures": []}
        stack.drain()
    finally:
        logging.getLogger().removeHandler(captured)
    # The metrics' lines are EMF documents, not log entries: no operation is named in them.
    ours = [line for line in captured.lines if line.get("logger", "").startswith("chalicelib")]
    assert any("_aws" in line for line in captured.lines)
    assert {line["message"] for line in ours} >= {
        "workflow started",  # the starter's record
        "user created",
        "user approved",
        "operation done",  # the three steps
    }
    assert {line.get("correlation_id") for line in ours} == {created.id}
