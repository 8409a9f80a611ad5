"""The local console's data over the emulator: executions of the real ASL read through the
Step Functions API and marked by what they did, with the app's log lines; the system."""

import itertools
import json
import os
import threading

import boto3
import pytest

from chalicelib import wiring
from chalicelib.adapters.users_table import UsersTable
from chalicelib.domain.errors import TransientError
from local.console.data import TOKEN_HIDDEN, task_tokens
from local.console.logbook import LogBook
from local.console.routes import Console
from tests import workflow_paths as paths
from tests.helpers import (
    awaiting_review,
    body,
    decide,
    fail_calls,
    finished,
    operation,
    post_user,
    table_items,
)

AWAIT, NO_REVIEW, REVIEW_CHOICE = paths.REVIEW_WAIT, paths.NO_REVIEW, paths.REVIEW_CHOICE


@pytest.fixture
def book(stack):
    book = LogBook.install()
    yield book
    book.uninstall()


@pytest.fixture
def console(stack, book):
    return Console.for_emulator(stack, book, wiring.operations().get, wiring.reviews().get, dict)


def _statuses(detail: dict) -> dict[str, str]:
    return {node["id"]: node["status"] for node in detail["graph"]["nodes"]}


def _taken(detail: dict) -> set[tuple[str, str]]:
    return {(e["from"], e["to"]) for e in detail["graph"]["edges"] if e["taken"]}


def _messages(lines: list[dict]) -> list[str]:
    return [json.loads(line["line"])["message"] for line in lines]


def test_an_execution_is_drawn_from_the_definition_it_ran(stack, console, book):
    approved = body(post_user(stack.client, "ada@example.org"))
    rejected = body(post_user(stack.client, "eve@example.test"))
    stack.drain()

    detail = console.executions.detail(approved["id"])
    machine = boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.resources.state_machine_arn
    )
    assert detail["definition"] == machine["definition"]  # substituted: no ${...} left
    assert "${" not in detail["definition"]
    states = json.loads(machine["definition"])["States"]
    statuses = _statuses(detail)
    assert set(statuses) == set(states) | {"__start__", "__end__"}
    path = paths.succeeded()
    assert [step["state"] for step in detail["steps"]] == path
    assert all(statuses[state] == "succeeded" for state in path)
    assert statuses[AWAIT] == "not-reached" and statuses[paths.RECORD_FAILURE] == "not-reached"
    assert _taken(detail) == set(itertools.pairwise(["__start__", *path, "__end__"]))
    steps = {step["state"]: step for step in detail["steps"]}
    assert "user created" in _messages(steps["CreateUser"]["logs"])
    assert "user approved" in _messages(steps["ApproveUser"]["logs"])
    # Each visit shows the variables it assigned, as the history's state-exit event has them.
    assert {
        name: json.loads(value) for name, value in steps["CreateUser"]["variables"].items()
    } == {"request": json.loads(detail["input"])}
    assert steps["ApproveUser"]["variables"] == {}
    assert "operation accepted" in _messages(detail["logs"]["before"])
    # Every line of the operation is shown once. (Until the local Lambda runtime names the
    # function of each line, the starter's "workflow started", written after StartExecution
    # returned, can fall in CreateUser's time.)
    shown = [m for step in detail["steps"] for m in _messages(step["logs"])]
    shown += _messages(detail["logs"]["before"]) + _messages(detail["logs"]["after"])
    written = [json.loads(line.line)["message"] for line in book.lines(approved["id"])]
    assert sorted(shown) == sorted(written)
    assert {"operation accepted", "workflow started", "operation done"} <= set(written)
    user_id = operation(stack.client, approved["id"])["result"]["user"]["id"]
    assert detail["links"] == {
        "operation": f"/operations/{approved['id']}",
        "user": f"/users/{user_id}",
    }
    assert detail["email"] == "ada@example.org"
    assert [event["id"] for event in detail["events"]] == list(range(1, len(detail["events"]) + 1))
    assert detail["events"][0]["type"] == "ExecutionStarted"

    # Refused by the rules: the same path (the refusal is an outcome CreateResponse records).
    refused = console.executions.detail(rejected["id"])
    assert _taken(refused) == set(itertools.pairwise(["__start__", *path, "__end__"]))
    assert _statuses(refused)[AWAIT] == "not-reached"
    steps = {step["state"]: step for step in refused["steps"]}
    assert "user rejected" in _messages(steps["ApproveUser"]["logs"])

    assert console.executions.detail("no-such-operation") is None


def test_a_review_waits_on_the_graph_then_takes_the_choice_and_hides_its_token(stack, console):
    waiting = awaiting_review(stack)
    detail = console.executions.detail(waiting["id"])
    assert detail["status"] == "RUNNING"
    statuses = _statuses(detail)
    assert statuses[AWAIT] == "waiting"
    assert statuses[REVIEW_CHOICE] == "succeeded"
    # The Choice's rule remembered what waits; the waiting state has assigned nothing yet.
    steps = {step["state"]: step for step in detail["steps"]}
    remembered = {k: json.loads(v) for k, v in steps[REVIEW_CHOICE]["variables"].items()}
    assert list(remembered) == ["approval"] and "review" in remembered["approval"]
    assert "variables" not in steps[AWAIT]
    assert statuses[NO_REVIEW] == "not-reached" and statuses["__end__"] == "not-reached"
    assert (REVIEW_CHOICE, AWAIT) in _taken(detail)
    assert (REVIEW_CHOICE, NO_REVIEW) not in _taken(detail)
    (token,) = [item["taskToken"]["S"] for item in table_items("REVIEWS_TABLE")]
    assert token not in json.dumps(detail)
    # Where the history holds it, the page says it is hidden.
    assert any(TOKEN_HIDDEN in json.dumps(event["details"]) for event in detail["events"])
    assert detail["review"]["status"] == "PENDING" and detail["review"]["decidedBy"] is None
    # What the review topic sent: the operation, its deadline and the page; no email, no token.
    (told,) = console.inbox.messages()["messages"]
    assert waiting["id"] in told["message"] and detail["review"]["expiresAt"] in told["message"]
    assert "http://localhost/review/" in told["message"]  # the test stage's REVIEW_PAGE_URL
    assert "@" not in told["message"] + told["subject"] and token not in told["message"]
    assert console.inbox.messages()["messages"] == [told]  # kept once read off the queue

    assert decide(stack, waiting["id"], "approve").status_code == 200
    assert finished(stack, waiting["id"])["status"] == "SUCCEEDED"
    done = console.executions.detail(waiting["id"])
    path = paths.reviewed()
    assert [step["state"] for step in done["steps"]] == path
    assert all(_statuses(done)[state] == "succeeded" for state in path)
    assert _taken(done) == set(itertools.pairwise(["__start__", *path, "__end__"]))
    assert token not in json.dumps(done)
    # The test stage's reviewers' routes take anyone (REVIEW_AUTH=none): nobody is named.
    assert done["review"]["decision"] == "approve" and done["review"]["decidedBy"] is None


def test_a_step_that_failed_once_is_marked_retried_with_two_attempts(stack, console, monkeypatch):
    throttled = TransientError("ProvisionedThroughputExceededException: throttled")
    calls = fail_calls(monkeypatch, UsersTable, "add", throttled, lambda call: call == 1)
    accepted = body(post_user(stack.client, "ada@example.org"))
    stack.drain()  # the retry's backoff moves the emulator's clock, not the test's
    assert len(calls) == 2
    detail = console.executions.detail(accepted["id"])
    assert detail["status"] == "SUCCEEDED"
    (create,) = [node for node in detail["graph"]["nodes"] if node["id"] == "CreateUser"]
    assert create["status"] == "retried"
    assert create["attempts"] == 2
    assert create["errors"] == ["TransientError"]
    assert ("CreateUser", "ApproveUser") in _taken(detail)
    assert ("CreateUser", paths.RECORD_FAILURE) not in _taken(detail)
    assert _statuses(detail)["ApproveUser"] == "succeeded"


def test_a_broken_step_is_caught_and_the_execution_fails_where_it_ended(
    stack, console, monkeypatch
):
    fail_calls(monkeypatch, UsersTable, "get", KeyError("a bug"), lambda call: True)
    accepted = body(post_user(stack.client, "ada@example.org"))
    stack.drain()
    detail = console.executions.detail(accepted["id"])
    assert detail["status"] == "FAILED"
    statuses = _statuses(detail)
    path = paths.broken_at("ApproveUser")
    assert statuses["ApproveUser"] == "caught"
    assert _taken(detail) == set(itertools.pairwise(["__start__", *path, "__end__"]))
    assert statuses[path[-1]] == "failed"
    (approve,) = [node for node in detail["graph"]["nodes"] if node["id"] == "ApproveUser"]
    assert approve["errors"] == ["KeyError"]
    # The Catch's assignments are the caught visit's: the failure the next state records.
    (caught,) = [step for step in detail["steps"] if step["state"] == "ApproveUser"]
    assert json.loads(caught["variables"]["failure"]) == {
        "code": "USER_APPROVE_FAILED",
        "message": "user-approve failed: KeyError",
    }


def test_a_step_in_progress_is_running(stack, console, monkeypatch):
    release = threading.Event()
    entered = threading.Event()
    activate = UsersTable.activate

    def slow_activate(self, user_id):
        entered.set()
        release.wait(10)
        return activate(self, user_id)

    monkeypatch.setattr(UsersTable, "activate", slow_activate)
    accepted = body(post_user(stack.client, "ada@example.org"))
    stack.poller.drain()  # delivered: the execution runs on its own thread
    try:
        assert entered.wait(10)
        detail = console.executions.detail(accepted["id"])
        assert detail["status"] == "RUNNING"
        assert _statuses(detail)["ApproveUser"] == "running"
        assert _statuses(detail)["__end__"] == "not-reached"
        (listed,) = console.executions.listing(None, None, 10)["executions"]
        assert listed["status"] == "RUNNING" and listed["durationMs"] is None
    finally:
        release.set()
    stack.drain()
    assert _statuses(console.executions.detail(accepted["id"]))["ApproveUser"] == "succeeded"
    # The listing's index learns that it stopped.
    (listed,) = console.executions.listing(None, None, 10)["executions"]
    assert listed["status"] == "SUCCEEDED" and listed["durationMs"] >= 0


def test_executions_are_listed_newest_first_filtered_and_searched(stack, console):
    ids = [body(post_user(stack.client, f"user{i}@example.org"))["id"] for i in range(3)]
    rejected = body(post_user(stack.client, "eve@example.test"))["id"]
    stack.drain()

    listing = console.executions.listing(None, None, 100)
    assert [e["operationId"] for e in listing["executions"]][-1] == ids[0]
    starts = [e["startDate"] for e in listing["executions"]]
    assert starts == sorted(starts, reverse=True)
    assert listing["total"] == 4 and listing["counts"] == {"SUCCEEDED": 4}
    assert all(e["durationMs"] >= 0 for e in listing["executions"])

    by_email = console.executions.listing(None, "EVE@example", 100)
    assert [e["operationId"] for e in by_email["executions"]] == [rejected]
    # Beside the execution's status, the operation's own: a refused user's execution succeeded.
    (refused,) = by_email["executions"]
    assert refused["status"] == "SUCCEEDED"
    assert refused["outcome"] == {"status": "FAILED", "code": "USER_REJECTED", "step": None}
    assert listing["executions"][-1]["outcome"]["status"] == "SUCCEEDED"
    by_id = console.executions.listing(None, ids[1][:13], 100)
    assert [e["operationId"] for e in by_id["executions"]] == [ids[1]]
    assert console.executions.listing("FAILED", None, 100)["executions"] == []
    limited = console.executions.listing(None, None, 2)
    assert len(limited["executions"]) == 2 and limited["matched"] == 4

    later = body(post_user(stack.client, "later@example.org"))["id"]
    stack.drain()
    newest = console.executions.listing(None, None, 100)
    assert newest["executions"][0]["operationId"] == later
    assert newest["executions"][0]["email"] == "later@example.org"
    assert newest["total"] == 5


def test_the_system_shows_the_starter_lag_the_failure_queue_and_the_tables(stack, console):
    for i in range(3):
        post_user(stack.client, f"user{i}@example.org")
    behind = console.system.snapshot()["stream"]["shards"][0]
    assert behind["records"] == 3
    assert behind["starter"]["checkpoint"] is None
    assert behind["starter"]["behind"]["records"] == 3

    stack.drain()
    caught_up = console.system.snapshot()["stream"]["shards"][0]
    assert caught_up["starter"]["checkpoint"] == caught_up["tip"]
    assert caught_up["starter"]["behind"] == {"records": 0, "exact": True, "oldestWaitingMs": 0}

    boto3.client("kinesis").put_record(
        StreamName=stack.resources.stream_name, Data=b"poison", PartitionKey="poison"
    )
    stack.drain()
    system = console.system.snapshot()
    (message,) = system["queue"]["messages"]
    assert system["queue"]["visible"] == 1
    assert message["body"]["KinesisBatchInfo"]["batchSize"] == 1
    (record,) = message["records"]
    assert record["data"] == "poison" and record["partitionKey"] == "poison"
    assert record["sequenceNumber"] == system["stream"]["shards"][0]["tip"]
    # Peeking leaves the message in the queue.
    assert len(console.system.snapshot()["queue"]["messages"]) == 1

    tables = {table["name"]: table["items"] for table in system["tables"]}
    assert tables[os.environ["OPERATIONS_TABLE"]] == 3
    assert tables[os.environ["USERS_TABLE"]] >= 3


@pytest.mark.parametrize(
    "parameters",
    [
        {"Payload": {"taskToken.$": "$$.Task.Token"}},  # JSONPath
        {"Payload": {"taskToken": "{% $states.context.Task.Token %}"}},  # JSONata, a field
        {"Payload": "{% $merge([$x, {'taskToken': $states.context.Task.Token}]) %}"},  # built
    ],
    ids=["jsonpath", "jsonata-field", "jsonata-object"],
)
def test_the_task_token_is_found_however_the_definition_passes_it(parameters):
    key = "Parameters" if "taskToken.$" in json.dumps(parameters) else "Arguments"
    definition = {"States": {"Wait": {"Type": "Task", key: parameters}}}
    scheduled = {"parameters": json.dumps({"Payload": {"x": 1, "taskToken": "t-1"}})}
    events = [{"type": "TaskScheduled", "taskScheduledEventDetails": scheduled}]
    assert task_tokens(definition, events) == {"t-1"}
