"""The archive, replay and redrive, end to end over the emulator: every event reaches S3 as
Firehose would write it; a replay or a redrive never starts an operation twice; a batch the
starter gave up on ends SUCCEEDED once the bug is fixed and the queue redriven."""

from __future__ import annotations

import collections
import gzip
import io
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib.adapters import event_stream
from chalicelib.adapters.workflows import StepFunctionsWorkflows
from infra import definition
from ops import target as targets
from ops.archive import Window
from ops.redrive import redrive
from ops.replay import replay
from ops.target import OpsError
from tests.conftest import STAGE
from tests.helpers import body, executions, fail_calls, post_user, table_items

REPLAY = definition.replay_stream_name(STAGE)

KEY = re.compile(
    r"events/(\d{4})/(\d{2})/(\d{2})/(\d{2})/"
    + re.escape(definition.delivery_stream_name(STAGE))
    + r"-1-\d{4}(-\d{2}){5}-[0-9a-f-]{36}"
)


def _target() -> targets.Target:
    session = boto3.DEFAULT_SESSION
    assert session is not None, "the stack fixture made its session boto3's default"
    return targets.emulated(STAGE, session)


def _accept(stack, count: int, prefix: str = "user") -> list[str]:
    return [body(post_user(stack.client, f"{prefix}{i}@example.org"))["id"] for i in range(count)]


def _archived_objects(stack) -> dict[str, bytes]:
    s3 = boto3.client("s3")
    bucket = stack.resources.archive.bucket
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def _recent() -> Window:
    now = datetime.now(UTC)
    return Window(now - timedelta(hours=1), now + timedelta(minutes=1))


def _state(stack) -> tuple:
    """What a replay must not change: executions, users, operations."""
    names = sorted(e["name"] for e in executions(stack))
    return names, table_items("USERS_TABLE"), table_items("OPERATIONS_TABLE")


def _replayed(stack) -> int:
    return sum(shard.stats.records_delivered for shard in stack.replay.shards)


def _fail_the_starter(stack, monkeypatch, count: int) -> list[str]:
    """Accept operations while every workflow start breaks: the mapping retries, bisects,
    then sends the batches' coordinates to the on-failure queue."""
    bug = RuntimeError("a bug in the starter")
    fail_calls(monkeypatch, StepFunctionsWorkflows, "start", bug, lambda call: True)
    ids = _accept(stack, count, "failed")
    stack.drain()
    monkeypatch.undo()  # the fix
    return ids


def _queued(stack) -> int:
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.resources.failure_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _statuses(stack, ids: list[str]) -> dict[str, str]:
    items = {i["pk"]["S"]: i for i in table_items("OPERATIONS_TABLE")}
    return {i: items[i]["status"]["S"] for i in ids}


def _one_execution_and_one_user_each(stack, ids: list[str]) -> None:
    names = collections.Counter(e["name"] for e in executions(stack))
    assert all(names[i] == 1 for i in ids), names
    users = [u for u in table_items("USERS_TABLE") if u["pk"]["S"].startswith("user#")]
    per_operation = collections.Counter(u["operationId"]["S"] for u in users)
    assert all(per_operation[i] == 1 for i in ids), per_operation
    assert len(users) == len(per_operation)


def test_every_event_is_archived_gzipped_one_per_line_under_its_hour(stack):
    ids = _accept(stack, 3)
    stack.drain()
    objects = _archived_objects(stack)
    assert objects and all(KEY.fullmatch(key) for key in objects), list(objects)
    lines = [line for data in objects.values() for line in gzip.decompress(data).splitlines()]
    events = [event_stream.decode(line) for line in lines]
    assert [e.operation_id for e in events] == ids
    for key, data in objects.items():
        published = [
            datetime.fromisoformat(event_stream.decode(line).published_at or "")
            for line in gzip.decompress(data).splitlines()
        ]
        named = KEY.fullmatch(key)
        assert named is not None, key  # every key matched above
        year, month, day, hour_of_day = (int(part) for part in named.groups()[:4])
        hour = datetime(year, month, day, hour_of_day, tzinfo=UTC)
        assert all(hour <= moment < hour + timedelta(hours=1) for moment in published)


def test_the_archive_keeps_a_record_that_is_not_an_event(stack):
    boto3.client("kinesis").put_record(
        StreamName=stack.resources.stream_name, Data=b"poison", PartitionKey="x"
    )
    stack.drain()
    (data,) = _archived_objects(stack).values()
    assert gzip.decompress(data) == b"poison\n"


def test_replaying_a_finished_window_changes_nothing_however_often(stack):
    _accept(stack, 2)
    body(post_user(stack.client, "eve@example.test"))  # rejected: FAILED, done all the same
    stack.drain()
    before = _state(stack)
    for replays in (1, 2):
        report = replay(_target(), _recent())
        assert (report.in_window, report.published, report.unreadable) == (3, 3, 0)
        stack.drain()
        assert _replayed(stack) == 3 * replays  # the starter read them, and started nothing
        assert _state(stack) == before


def test_a_dry_run_replays_nothing(stack):
    _accept(stack, 2)
    stack.drain()
    report = replay(_target(), _recent(), dry_run=True)
    assert (report.in_window, report.published) == (2, 0)
    stack.drain()
    assert _replayed(stack) == 0


def test_a_replay_takes_only_the_events_published_in_its_window(stack):
    _accept(stack, 2)
    stack.drain()
    after = datetime.now(UTC) + timedelta(microseconds=1)
    report = replay(_target(), Window(after, after + timedelta(hours=1)), dry_run=True)
    assert (report.records, report.in_window, report.outside_window) == (2, 0, 2)


def test_an_empty_archive_and_an_empty_window_are_one_line_errors(stack):
    with pytest.raises(OpsError, match=r"the archive s3://\S+/events/ is empty"):
        replay(_target(), _recent())
    _accept(stack, 1)
    stack.drain()
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(OpsError, match=r"nothing archived in s3://\S+ for \[2020-01-01T00:00:00Z"):
        replay(_target(), Window(long_ago, long_ago + timedelta(hours=2)))


def test_a_failed_batch_is_redriven_from_the_stream_once_fixed(stack, monkeypatch):
    ids = _fail_the_starter(stack, monkeypatch, 3)
    assert set(_statuses(stack, ids).values()) == {"RUNNING"}  # marked, never started
    assert _queued(stack) >= 1
    out = io.StringIO()
    report = redrive(_target(), out=out, wait_seconds=0)
    assert (report.kept, report.discarded) == (0, 0) and report.republished >= 1
    assert report.messages == report.republished
    assert (report.published, report.from_stream, report.from_archive) == (3, 3, 0)
    assert _queued(stack) == 0
    stack.drain()
    assert set(_statuses(stack, ids).values()) == {"SUCCEEDED"}
    _one_execution_and_one_user_each(stack, ids)
    said = out.getvalue().splitlines()
    assert len(said) == report.messages
    assert all(
        re.match(
            rf"message \d  published again to {re.escape(REPLAY)}: \d records? \(.*, read "
            r"from the stream\), then deleted from the queue$",
            line,
        )
        for line in said
    )


def test_a_batch_no_longer_on_the_stream_is_redriven_from_the_archive(stack, monkeypatch):
    ids = _fail_the_starter(stack, monkeypatch, 2)
    _trim_the_stream(stack)  # past its retention
    report = redrive(_target(), out=io.StringIO(), wait_seconds=0)
    assert (report.kept, report.from_stream) == (0, 0)
    # Each message takes the shard's events of its arrival window: its own, and neighbours.
    assert report.from_archive >= len(ids)
    stack.drain()
    assert set(_statuses(stack, ids).values()) == {"SUCCEEDED"}
    _one_execution_and_one_user_each(stack, ids)


def test_a_batch_found_nowhere_stays_on_the_queue(stack, monkeypatch):
    _fail_the_starter(stack, monkeypatch, 1)
    _trim_the_stream(stack)
    boto3.client("s3").delete_objects(
        Bucket=stack.resources.archive.bucket,
        Delete={"Objects": [{"Key": key} for key in _archived_objects(stack)]},
    )
    out = io.StringIO()
    report = redrive(_target(), out=out, wait_seconds=0)
    assert (report.messages, report.kept, report.republished, report.discarded) == (1, 1, 0, 0)
    assert out.getvalue().startswith(
        "message 1  kept on the queue, because its records are not on "
        f"{definition.resource_name(STAGE, 'events')} any more, and the archive"
    )
    assert _queued(stack) == 1


def test_a_dry_run_lists_the_records_without_emails_and_leaves_the_queue(stack, monkeypatch):
    ids = _fail_the_starter(stack, monkeypatch, 1)
    queued = _queued(stack)
    out = io.StringIO()
    report = redrive(_target(), dry_run=True, out=out, wait_seconds=0)
    assert report.messages == queued and report.republished == report.discarded == 0
    listing = out.getvalue()
    assert f"  would be published again to {REPLAY} (" in listing
    assert ids[0] in listing and "<email>" in listing and "@example.org" not in listing
    assert "from the stream" in listing
    again = io.StringIO()
    redrive(_target(), dry_run=True, reveal=True, out=again, wait_seconds=0)
    assert "failed0@example.org" in again.getvalue()
    assert _replayed(stack) == 0
    # Still there, and visible at once: a real redrive takes them.
    assert redrive(_target(), out=io.StringIO(), wait_seconds=0).republished == queued


def test_a_record_that_is_not_an_event_is_not_redriven(stack):
    boto3.client("kinesis").put_record(
        StreamName=stack.resources.stream_name, Data=b"poison", PartitionKey="x"
    )
    stack.drain()
    out = io.StringIO()
    report = redrive(_target(), out=out, wait_seconds=0)
    assert (report.messages, report.republished, report.discarded, report.kept) == (1, 0, 1, 0)
    assert (report.published, report.unreadable) == (0, 1)
    assert _queued(stack) == 0
    (said,) = out.getvalue().splitlines()
    assert said.startswith("message 1  deleted from the queue, because no record of its batch (1 ")
    assert said.endswith("nothing published")
    assert report.lines(_target(), dry_run=False) == [
        "messages  1: 0 published again and deleted, 1 deleted with nothing to publish, "
        "0 kept on the queue",
        f"records   0 published again to {REPLAY} (0 read from the stream, "
        "0 from the archive); 1 not operation events, not published",
    ]


def test_replay_and_redrive_together_still_run_each_operation_once(stack, monkeypatch):
    done = _accept(stack, 2, "done")
    stack.drain()
    failed = _fail_the_starter(stack, monkeypatch, 3)
    replay(_target(), _recent())
    redrive(_target(), out=io.StringIO(), wait_seconds=0)
    replay(_target(), _recent())
    stack.drain()
    assert set(_statuses(stack, done + failed).values()) == {"SUCCEEDED"}
    _one_execution_and_one_user_each(stack, done + failed)


def _trim_the_stream(stack) -> None:
    """Kinesis drops records after the retention period (24 h here); moto never does."""
    from moto.kinesis.models import kinesis_backends

    stream = kinesis_backends["123456789012"]["us-east-1"].streams[stack.resources.stream_name]
    for shard in stream.shards.values():
        shard.records.clear()


def test_the_local_target_names_the_stage_resources(stack):
    target = _target()
    assert target.replay_stream == definition.replay_stream_name(STAGE)
    assert target.bucket == stack.resources.archive.bucket
    assert target.failure_queue_url == stack.resources.failure_queue_url
    assert target.event_stream == stack.resources.stream_name
