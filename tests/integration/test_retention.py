"""What the emulator keeps after many operations and a janitor pass: only what is in use.

moto keeps every model it creates (BaseModel's instances_tracked), every thread its Step
Functions interpreter starts, every execution, Kinesis record and CloudWatch data point;
local/state/retention.py bounds them. What must stay, the tables' items, is kept packed
(local/patches/packed_items.py): no moto Item between requests. Counted structurally (live objects),
not in bytes or time.
"""

import dataclasses
import gc
import json
import platform
import threading
import time
import uuid
import weakref

import boto3
import pytest
from moto.cloudwatch.models import cloudwatch_backends
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.kinesis.models import kinesis_backends
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from moto.stepfunctions.parser.utils import TMP_THREADS

from infra import definition
from local.state import allocator
from local.state.retention import Bounds, Retention, trim
from tests.conftest import STAGE
from tests.helpers import executions, live, post_user

OPERATIONS = 24
BOUNDS = Bounds(executions=4, records=3, record_min_age_seconds=60, metric_data=10)
LATER = 120  # seconds: every record is past the minimum age


def _stream(stack):
    return kinesis_backends["123456789012"]["us-east-1"].streams[stack.resources.stream_name]


def _shard(stack):
    (shard,) = _stream(stack).shards.values()
    return shard


def _stored_items() -> int:
    backend = dynamodb_backends["123456789012"]["us-east-1"]
    return sum(
        len(found) if isinstance(found, dict) else 1
        for table in backend.tables.values()
        for found in table.items.values()
    )


def _put(stack, count: int) -> None:
    """`count` records on the stream: one per accepted request."""
    for _ in range(count):
        assert post_user(stack.client, f"{uuid.uuid4().hex}@example.org").status_code == 202


def test_after_operations_and_a_janitor_pass_only_what_is_in_use_remains(young_heap, stack):
    # Counted among the objects this test made (young_heap), its stack's included: the state
    # machines alive before the operations are this stack's.
    (machines_before,) = live(StateMachine)
    for batch in range(0, OPERATIONS, 8):
        for index in range(batch, batch + 8):
            assert post_user(stack.client, f"u{index}@example.org").status_code == 202
        stack.drain()
    janitor = Retention(BOUNDS, stack.stream_readers)

    janitor.run(now=time.time() + LATER)

    assert len(executions(stack)) == BOUNDS.executions
    # Each transaction's backups of the tables, and the items they copied, are gone: only the
    # stack's own tables are left.
    tables = definition.resources(STAGE)
    tables_alive, items_alive, types_alive, machines_alive = live(
        Table, Item, DynamoType, StateMachine
    )
    assert tables_alive == sum(r["Type"] == "AWS::DynamoDB::Table" for r in tables.values())
    # The tables' items are kept packed (local/patches/packed_items.py): no moto Item stays alive,
    # and the only DynamoType objects left are the tables' keys, one per item.
    assert _stored_items() == 3 * OPERATIONS  # an operation, a user, an email claim
    assert items_alive == 0
    assert types_alive == _stored_items()
    # The machine, and the snapshot of it that each kept execution holds.
    assert machines_alive <= machines_before + BOUNDS.executions
    assert not [thread for thread in TMP_THREADS if not thread.is_alive()]
    assert len(_shard(stack).records) == BOUNDS.records
    metrics = cloudwatch_backends["123456789012"]["us-east-1"].metric_data
    assert len(metrics) == BOUNDS.metric_data
    # moto's dashboard still lists what is alive: each of the stack's tables.
    # moto's metaclass gives each model class instances_tracked, undeclared in its types.
    listed = {id(table) for table in Table.instances_tracked}  # type: ignore[attr-defined]
    alive = [found for found in gc.get_objects() if isinstance(found, Table)]
    assert sum(id(table) in listed for table in alive) == len(alive) == tables_alive


def test_the_janitor_frees_the_executions_it_trims_without_waiting_for_the_collector(
    young_heap, stack
):
    """Trimmed executions are reference cycles; the local stack's collector thresholds
    make full collections all but never happen (here: automatic collection off)."""
    _put(stack, 12)
    stack.drain()
    machine = next(
        machine
        for machine in stepfunctions_parser_backends["123456789012"]["us-east-1"].state_machines
        if machine.arn == stack.resources.state_machine_arn
    )
    started = [weakref.ref(execution) for execution in machine.executions]
    janitor = Retention(dataclasses.replace(BOUNDS, collect_after=8), stack.poller.needed_from)
    gc.disable()
    try:
        assert janitor.run().executions == 12 - BOUNDS.executions
        assert sum(1 for execution in started if execution() is not None) == BOUNDS.executions
    finally:
        gc.enable()


def test_the_executions_of_a_version_are_trimmed_as_its_state_machines(stack):
    # A version lists the executions started through its ARN (local/patches/versions.py).
    sfn = boto3.client("stepfunctions")
    created = sfn.create_state_machine(
        name="versioned",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/versioned",
        publish=True,
    )
    version = created["stateMachineVersionArn"]
    for _ in range(BOUNDS.executions + 2):
        arn = sfn.start_execution(stateMachineArn=version)["executionArn"]
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            threading.Event().wait(0.01)

    trim(BOUNDS)

    for listed_by in (created["stateMachineArn"], version):
        listed = sfn.list_executions(stateMachineArn=listed_by)["executions"]
        assert len(listed) == BOUNDS.executions


def test_a_record_the_poller_has_not_handled_stays(stack):
    _put(stack, 5)
    stack.drain()
    _put(stack, 5)  # not read yet

    trim(BOUNDS, stack.poller.needed_from(), now=time.time() + LATER)

    assert len(_shard(stack).records) == 5
    stack.drain()
    trim(BOUNDS, stack.poller.needed_from(), now=time.time() + LATER)
    assert len(_shard(stack).records) == BOUNDS.records


def test_a_young_record_stays_and_an_expired_one_goes_even_unread(stack):
    _put(stack, 5)
    stack.drain()

    trim(BOUNDS, stack.poller.needed_from())  # all younger than the minimum age
    assert len(_shard(stack).records) == 5

    _put(stack, 2)  # unread, and past the stream's retention period by then
    retention_period = _stream(stack).retention_period_hours * 3600
    trim(BOUNDS, {}, now=time.time() + retention_period + 1)
    records = _shard(stack).records
    assert len(records) == 1  # the newest stays: moto numbers the next record after it
    _put(stack, 1)
    assert list(records) == [7, 8]


@pytest.mark.parametrize("alive", [True, False])
def test_only_finished_threads_are_forgotten(stack, alive):
    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    if not alive:
        release.set()
        thread.join()
    TMP_THREADS.append(thread)
    try:
        trim(BOUNDS)
        assert (thread in TMP_THREADS) is alive
    finally:
        release.set()


def test_a_full_collection_hands_the_freed_memory_back_to_the_system(young_heap, monkeypatch):
    given_back: list[bool] = []

    def give_back() -> bool:
        given_back.append(True)
        return True

    monkeypatch.setattr(allocator, "give_back", give_back)
    janitor = Retention(dataclasses.replace(BOUNDS, collect_after=2), dict)

    janitor.run()  # nothing trimmed: no collection, nothing handed back
    assert given_back == []
    janitor._uncollected = 2  # as after two trimmed executions
    janitor.run()
    assert given_back == [True]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc tuning is glibc's")
def test_glibc_takes_the_arena_limit_and_the_trim():
    assert allocator.limit_arenas()
    allocator.give_back()  # bound and callable; whether pages were free to return varies
