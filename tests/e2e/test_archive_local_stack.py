"""`make run`'s stack archives what it is given, and `make replay`/`make redrive` work against
it over its AWS endpoint, as an operator runs them."""

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
)
from local.aws.provision import deployed_name
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


def _archived(stack: LocalStackProcess, timeout: float = 10) -> list[str]:
    """The archive's keys, once there are any (the delivery stream's buffer is a second)."""
    s3 = stack.aws("s3")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        if keys:
            return keys
        time.sleep(0.1)
    raise AssertionError(f"nothing archived after {timeout}s")


BUCKET = emulated_archive_bucket("local")


def test_an_event_is_archived_and_replayed_through_the_cli(local_stack):
    accepted = local_stack.create_user("ada@example.org").json()
    assert local_stack.wait_done(accepted["id"])["status"] == "SUCCEEDED"
    (key,) = _archived(local_stack)
    assert key.startswith("events/") and f"/{delivery_stream_name('local')}-1-" in key
    now = datetime.now(UTC)
    window = [
        "--from",
        (now - timedelta(minutes=5)).isoformat(),
        "--to",
        (now + timedelta(minutes=1)).isoformat(),
    ]
    starts = _starter_invocations(local_stack)
    replayed = _ops(local_stack, "replay", *window)
    assert replayed.returncode == 0, replayed.stderr
    assert f"published 1 to {replay_stream_name('local')}" in replayed.stdout
    redriven = _ops(local_stack, "redrive", "--dry-run")
    assert redriven.returncode == 0, redriven.stderr
    assert "messages  none: the on-failure queue is empty" in redriven.stdout
    # The replayed event reaches the starter, which leaves the finished operation alone.
    deadline = time.monotonic() + 10
    while _starter_invocations(local_stack) == starts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _starter_invocations(local_stack) == starts + 1
    listing = requests.get(f"{local_stack.api}/_local/api/executions", timeout=5).json()[
        "executions"
    ]
    assert [e["operationId"] for e in listing].count(accepted["id"]) == 1


def _starter_invocations(stack: LocalStackProcess) -> int:
    metrics = requests.get(f"{stack.api}/_local/api/metrics", timeout=5).json()
    return int(metrics["lambdaInvocations"].get(deployed_name("local", "starter"), 0))
