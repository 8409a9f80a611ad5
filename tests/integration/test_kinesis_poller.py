"""The local event source mapping behaves like Lambda's (it is what the e2e tests rely on)."""

import base64
import json
from collections.abc import Callable

import boto3
import pytest

from infra.definition import LAMBDA_RUNTIME
from local.aws.kinesis_poller import MappingConfig, StreamPoller
from local.aws.lambda_runtime import FunctionSpec, InProcessLambdas
from local.aws.provision import function_zip
from local.patches import registry
from local.patches.hooks import Hooks
from local.state.clock import Clock
from tests.conftest import emulated_aws

STREAM = "probe-stream"


class Harness:
    def __init__(self, handler: Callable, **overrides: object) -> None:
        self.batches: list[list[str]] = []
        self._handler = handler
        self.kinesis = boto3.client("kinesis")
        self.sqs = boto3.client("sqs")
        self.kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        stream_arn = self.kinesis.describe_stream_summary(StreamName=STREAM)[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        self.queue_url = self.sqs.create_queue(QueueName="probe-failures")["QueueUrl"]
        role = boto3.client("iam").create_role(RoleName="probe", AssumeRolePolicyDocument="{}")
        boto3.client("lambda").create_function(
            FunctionName="probe",
            Runtime=LAMBDA_RUNTIME,
            Role=role["Role"]["Arn"],
            Handler="app.probe",
            Code={"ZipFile": function_zip()},
        )
        settings = {
            "function_name": "probe",
            "stream_arn": stream_arn,
            "batch_size": 10,
            "batching_window_seconds": 0,
            "starting_position": "TRIM_HORIZON",
            "report_batch_item_failures": True,
            "bisect_on_error": True,
            "max_retry_attempts": 2,
            "max_record_age_seconds": -1,
            "on_failure_queue_url": self.queue_url,
            **overrides,
        }
        self.clock = Clock()
        self.poller = StreamPoller(
            MappingConfig(**settings),
            self.kinesis,
            boto3.client("lambda"),
            self.sqs,
            now=self.clock.time,
        )

    def handle(self, event: dict, context: object) -> object:
        records = [(r["kinesis"]["sequenceNumber"], r["kinesis"]["data"]) for r in event["Records"]]
        self.batches.append([base64.b64decode(data).decode() for _, data in records])
        return self._handler(records)

    def put(self, *values: str) -> None:
        for value in values:
            self.kinesis.put_record(StreamName=STREAM, Data=value.encode(), PartitionKey="p")

    def failure_messages(self) -> list[dict]:
        response = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in response.get("Messages", [])]

    @property
    def delivered(self) -> list[str]:
        return [value for batch in self.batches for value in batch]


@pytest.fixture
def harness_for():
    with emulated_aws():
        runtime = InProcessLambdas()
        with registry.applied(Hooks(lambdas=runtime), ["in-process-lambdas"]):

            def build(handler: Callable, **overrides: object) -> Harness:
                harness = Harness(handler, **overrides)
                runtime.register("probe", FunctionSpec(harness.handle, "arn:probe", 128, 60))
                return harness

            yield build


def _failing(values: set[str], times: int = 10**9) -> Callable:
    """A handler that reports the given values as failed items, `times` times each."""
    seen: dict[str, int] = {}

    def handler(records):
        failures = []
        for sequence_number, data in records:
            value = base64.b64decode(data).decode()
            if value in values and seen.get(value, 0) < times:
                seen[value] = seen.get(value, 0) + 1
                failures.append({"itemIdentifier": sequence_number})
        return {"batchItemFailures": failures}

    return handler


def test_records_arrive_in_order_in_batches_of_batch_size(harness_for):
    harness = harness_for(lambda records: {"batchItemFailures": []})
    values = [f"r{i:02d}" for i in range(25)]
    harness.put(*values)
    harness.poller.drain()
    assert [len(batch) for batch in harness.batches] == [10, 10, 5]
    assert harness.delivered == values


def test_a_partial_failure_redelivers_from_the_failed_record_only(harness_for):
    harness = harness_for(_failing({"r3"}, times=1))
    harness.put(*[f"r{i}" for i in range(6)])
    harness.poller.drain()
    assert harness.batches[0] == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert harness.batches[1][0] == "r3"  # the checkpoint moved past r0..r2
    assert harness.delivered.count("r0") == 1
    assert harness.failure_messages() == []


def test_a_poison_record_is_isolated_sent_to_the_queue_and_the_shard_moves_on(harness_for):
    harness = harness_for(_failing({"poison"}))
    harness.put("a", "b", "poison", "c", "d")
    harness.poller.drain()
    (message,) = harness.failure_messages()
    info = message["KinesisBatchInfo"]
    assert info["batchSize"] == 1  # bisecting isolated it
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert {"c", "d"} <= set(harness.delivered)
    harness.put("e")
    harness.poller.drain()
    assert harness.batches[-1] == ["e"]


def test_a_function_error_fails_the_batch_and_bisects_it(harness_for):
    def handler(records):
        if any(base64.b64decode(data) == b"boom" for _, data in records):
            raise RuntimeError("crash")

    harness = harness_for(handler)
    harness.put("a", "b", "c", "boom")
    harness.poller.drain()
    assert harness.batches[0] == ["a", "b", "c", "boom"]
    assert harness.batches[1] == ["a", "b"]  # half of the failed batch, retried
    (message,) = harness.failure_messages()
    assert message["KinesisBatchInfo"]["batchSize"] == 1


def test_without_report_batch_item_failures_the_response_is_ignored(harness_for):
    harness = harness_for(_failing({"a"}), report_batch_item_failures=False)
    harness.put("a", "b")
    harness.poller.drain()
    assert harness.batches == [["a", "b"]]


def test_an_unreadable_item_identifier_fails_the_whole_batch(harness_for):
    calls = []

    def handler(records):
        calls.append(len(records))
        return (
            {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}
            if len(calls) == 1
            else {"batchItemFailures": []}
        )

    harness = harness_for(handler, bisect_on_error=False)
    harness.put("a", "b")
    harness.poller.drain()
    assert harness.batches == [["a", "b"], ["a", "b"]]


def test_the_batching_window_holds_a_small_batch(harness_for):
    harness = harness_for(lambda records: None, batching_window_seconds=3600)
    harness.put("a")
    harness.poller.poll()
    assert harness.batches == []  # within the window, below the batch size
    harness.clock.advance(1800)
    harness.poller.poll()
    assert harness.batches == []
    harness.clock.advance(1800)  # the window is over, on the emulator's clock
    harness.poller.poll()
    assert harness.batches == [["a"]]
