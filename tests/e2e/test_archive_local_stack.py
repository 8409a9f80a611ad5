"""`make run`'s stack archives what it is given, and `make replay`/`make redrive` work against
it over its AWS endpoint, as an operator runs them. The stack is shared with the other modules
that take `local_stack`: the test finds its own event in the archive, replays the window that
holds only it, and compares the dry run of the redrive with what the queue holds."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import requests

from infra.definition import (
    ROOT,
    delivery_stream_name,
    emulated_archive_bucket,
    replay_stream_name,
    starter_failure_queue_name,
)
from local.aws.provision import deployed_name
from ops.archive import split_records
from tests.builders import unique_email
from tests.local_stack_process import LocalStackProcess


def _ops(stack: LocalStackProcess, command: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", f"ops.{command}", "--endpoint-url", stack.endpoint, *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _archived(stack: LocalStackProcess, operation_id: str, timeout: float = 10) -> list[str]:
    """The keys of the archive's objects that hold the operation's event, once there are any
    (the delivery stream's buffer is a second)."""
    s3 = stack.aws("s3")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])
        ]
        holding = [
            key
            for key in keys
            if any(
                operation_id.encode() in record
                for record in split_records(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
            )
        ]
        if holding:
            return holding
        time.sleep(0.1)
    raise AssertionError(f"{operation_id} not archived after {timeout}s")


BUCKET = emulated_archive_bucket("local")


def test_an_event_is_archived_and_replayed_through_the_cli(local_stack):
    accepted = local_stack.create_user(unique_email()).json()
    done = local_stack.wait_done(accepted["id"])
    assert done["status"] == "SUCCEEDED"
    (key,) = _archived(local_stack, accepted["id"])
    assert key.startswith("events/") and f"/{delivery_stream_name('local')}-1-" in key
    # From the operation's creation, on the stack's clock: its event was published just after,
    # and no other since (a worker's tests run one at a time).
    window = [
        "--from",
        done["createdAt"],
        "--to",
        (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
    ]
    starts = _starter_invocations(local_stack)
    replayed = _ops(local_stack, "replay", *window)
    assert replayed.returncode == 0, replayed.stderr
    assert f"published 1 to {replay_stream_name('local')}" in replayed.stdout
    waiting = _messages_waiting(local_stack)  # the poison records of other modules, if any
    redriven = _ops(local_stack, "redrive", "--dry-run")
    assert redriven.returncode == 0, redriven.stderr
    if waiting:
        assert f"messages  {waiting} listed; the queue is as it was (dry run)" in redriven.stdout
    else:
        assert "messages  none: the on-failure queue is empty" in redriven.stdout
    assert _messages_waiting(local_stack) == waiting
    # The replayed event reaches the starter, which leaves the finished operation alone.
    deadline = time.monotonic() + 10
    while _starter_invocations(local_stack) == starts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _starter_invocations(local_stack) == starts + 1
    listing = requests.get(f"{local_stack.api}/_local/api/executions", timeout=5).json()[
        "executions"
    ]
    assert [e["operationId"] for e in listing].count(accepted["id"]) == 1


def _messages_waiting(stack: LocalStackProcess) -> int:
    """The messages on the starter's on-failure queue that a receive would get now."""
    sqs = stack.aws("sqs")
    queue = sqs.get_queue_url(QueueName=starter_failure_queue_name("local"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _starter_invocations(stack: LocalStackProcess) -> int:
    metrics = requests.get(f"{stack.api}/_local/api/metrics", timeout=5).json()
    return int(metrics["lambdaInvocations"].get(deployed_name("local", "starter"), 0))
