"""The local console's reading of an execution (graph, statuses, log lines) and its log book,
over histories shaped like the ones Step Functions (moto) writes."""

import itertools
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.logs import correlation
from infra.definition import resource_name
from local.aws.lambda_runtime import invoking
from local.aws.provision import deployed_name
from local.console.history import steps_from
from local.console.logbook import TRUNCATED, LogBook, LogLine
from local.console.model import END, START, attribute_logs, choice_label, graph
from tests.workflow_paths import (
    DEFINITION,
    NO_REVIEW,
    RECORD_FAILURE,
    REVIEW_CHOICE,
    broken_at,
    reviewed,
    succeeded,
)
from tests.workflow_paths import REVIEW_WAIT as AWAIT

# The definition as DescribeStateMachine gives it: the ASL, substitutions applied.
ASL = json.loads(
    json.dumps(DEFINITION)
    .replace("${OperationsTableName}", resource_name("local", "operations"))
    .replace("${UserCreateFunctionArn}", "arn:aws:lambda:us-east-1:1:function:user_create")
    .replace("${UserApproveFunctionArn}", "arn:aws:lambda:us-east-1:1:function:user_approve")
    .replace("${UserCreateResponseFunctionArn}", "arn:aws:lambda:us-east-1:1:function:response")
    .replace("${UserReviewRequestFunctionArn}", "arn:aws:lambda:us-east-1:1:function:review")
)
STATES = ASL["States"]
(REVIEW_RULE,) = STATES[REVIEW_CHOICE]["Choices"]
T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class History:
    """Events as GetExecutionHistory returns them, one millisecond apart."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def _add(self, kind: str, **details: dict) -> None:
        moment = T0 + timedelta(milliseconds=10 * len(self.events))
        self.events.append({"type": kind, "timestamp": moment, **details})

    def state(self, name: str, kind: str = "Task", *outcomes: str, exit: bool = True) -> None:
        self._add(f"{kind}StateEntered", stateEnteredEventDetails={"name": name, "input": "{}"})
        for outcome in outcomes:
            self._add("TaskScheduled")
            if outcome == "ok":
                self._add("TaskSucceeded")
            else:
                self._add("TaskFailed", taskFailedEventDetails={"error": outcome, "cause": "x"})
        if exit:
            self._add(f"{kind}StateExited", stateExitedEventDetails={"name": name, "output": "{}"})


def _drawn(history: History, status: str) -> tuple[dict, dict, list]:
    steps = steps_from(history.events)
    drawn = graph(ASL, steps, status)
    nodes = {node["id"]: node for node in drawn["nodes"]}
    taken = [(e["from"], e["to"], e["kind"]) for e in drawn["edges"] if e["taken"]]
    return nodes, drawn, taken


def _created() -> History:
    history = History()
    history.state("CreateUser", "Task", "ok")
    return history


def _happy_path() -> History:
    """Created, approved at once: CreateUser 0-30 ms, ApproveUser 40-70 ms, NeedsReview 80-90 ms."""
    history = _created()
    history.state("ApproveUser", "Task", "ok")
    history.state(REVIEW_CHOICE, "Choice")
    return history


def _transitions_allowed(state: dict) -> int:
    """How many ways out of a state the definition gives (the end counts as one)."""
    ends = state.get("End", False) or state["Type"] in ("Succeed", "Fail")
    return (
        len(state.get("Choices", []))
        + ("Default" in state)
        + ("Next" in state)
        + len(state.get("Catch", []))
        + ends
    )


def test_every_state_and_every_transition_of_the_definition_is_drawn():
    nodes, drawn, _ = _drawn(History(), "RUNNING")
    assert set(nodes) == set(STATES) | {START, END}
    assert all(node["status"] == "not-reached" for node in nodes.values())
    edges = [(e["from"], e["to"], e["kind"], e["label"]) for e in drawn["edges"]]
    assert len(edges) == len(set(edges)) == 1 + sum(map(_transitions_allowed, STATES.values()))
    assert (START, ASL["StartAt"], "start", None) in edges
    assert ("CreateUser", "ApproveUser", "next", None) in edges
    assert ("CreateUser", RECORD_FAILURE, "catch", "catch States.ALL") in edges
    assert ("ApproveUser", REVIEW_CHOICE, "next", None) in edges
    # The Choice: its rule, read as its condition (a JSONata expression, without its {% %}),
    # and its default.
    label = choice_label(REVIEW_RULE)
    assert (REVIEW_CHOICE, AWAIT, "choice", label) in edges
    assert label.startswith("$") and "{%" not in label
    assert (REVIEW_CHOICE, NO_REVIEW, "default", "default") in edges
    # Two ways from the waiting task to the same state: done, or caught (timed out, closed).
    assert [(kind, label) for source, target, kind, label in edges if source == AWAIT] == [
        ("next", None),
        ("catch", "catch States.Timeout, ReviewClosed"),
        ("catch", "catch States.ALL"),
    ]
    assert {target for source, target, *_ in edges if source == AWAIT} == {
        STATES[AWAIT]["Next"],
        RECORD_FAILURE,
    }
    for name, state in STATES.items():  # every Catch of every state, with its errors
        for catcher in state.get("Catch", []):
            label = "catch " + ", ".join(catcher["ErrorEquals"])
            assert (name, catcher["Next"], "catch", label) in edges
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            assert (name, END, "end", None) in edges
    assert nodes["CreateUser"]["resource"] == "lambda:invoke"
    assert nodes["CreateUser"]["function"] == "user_create"
    assert nodes[AWAIT]["resource"] == "lambda:invoke.waitForTaskToken"
    assert nodes[AWAIT]["function"] == "review"
    assert nodes[RECORD_FAILURE]["resource"] == "dynamodb:updateItem"
    assert nodes[REVIEW_CHOICE]["resource"] is None


def _through(path: list[str]) -> History:
    """A history that passes the states of the path, each task at its first attempt."""
    history = History()
    for name in path:
        kind = STATES[name]["Type"]
        history.state(name, kind, *(["ok"] if kind == "Task" else []))
    return history


def _hops(path: list[str]) -> list[tuple[str, str]]:
    return list(itertools.pairwise([START, *path, END]))


def test_the_path_taken_is_marked_choice_by_choice():
    nodes, _, taken = _drawn(_through(succeeded()), "SUCCEEDED")
    assert [(source, target) for source, target, _ in taken] == _hops(succeeded())
    assert (REVIEW_CHOICE, NO_REVIEW, "default") in taken
    assert [kind for *_, kind in taken if kind not in ("next", "default")] == ["start", "end"]
    assert nodes[REVIEW_CHOICE]["status"] == "succeeded"
    assert nodes[AWAIT]["status"] == "not-reached"
    assert nodes[END]["status"] == "succeeded"

    nodes, _, taken = _drawn(_through(reviewed()), "SUCCEEDED")
    assert [(source, target) for source, target, _ in taken] == _hops(reviewed())
    assert (REVIEW_CHOICE, AWAIT, "choice") in taken
    assert (AWAIT, STATES[AWAIT]["Next"], "next") in taken
    assert nodes[AWAIT]["status"] == "succeeded"
    assert nodes[reviewed()[-1]]["visits"] == 1

    # Nobody decided: the wait timed out and its Catch, not its Next, led on.
    concluding = STATES[AWAIT]["Next"]
    expired = _happy_path()
    expired.state(AWAIT, "Task", "States.Timeout")
    expired.state(concluding, "Task", "ok")
    nodes, drawn, taken = _drawn(expired, "RUNNING")
    assert taken[-2:] == [(REVIEW_CHOICE, AWAIT, "choice"), (AWAIT, concluding, "catch")]
    assert (AWAIT, concluding, "next") not in taken
    (caught,) = [e for e in drawn["edges"] if e["taken"] and e["kind"] == "catch"]
    assert caught["label"] == "catch States.Timeout, ReviewClosed"
    assert nodes[AWAIT]["status"] == "caught"
    assert nodes[AWAIT]["errors"] == ["States.Timeout"]


def test_a_retried_step_and_a_caught_step_are_told_apart():
    create, approve, record, failed = broken_at("ApproveUser")
    history = History()
    history.state(create, "Task", "TransientError", "TransientError", "ok")
    history.state(approve, "Task", "KeyError")
    history.state(record, "Task", "ok")
    history._add("FailStateEntered", stateEnteredEventDetails={"name": failed})
    history._add("ExecutionFailed", executionFailedEventDetails={"error": "USER_APPROVE_FAILED"})
    nodes, _, taken = _drawn(history, "FAILED")
    assert nodes[create]["status"] == "retried"
    assert nodes[create]["attempts"] == 3
    assert (create, approve, "next") in taken
    assert nodes[approve]["status"] == "caught"
    assert nodes[approve]["errors"] == ["KeyError"]
    assert (approve, record, "catch") in taken
    assert (approve, REVIEW_CHOICE, "next") not in taken
    assert (record, failed, "next") in taken
    assert nodes[failed]["status"] == "failed"
    assert (failed, END, "end") in taken


def test_a_state_the_execution_is_in_runs_or_waits_and_one_it_died_in_failed():
    running = _created()
    running.state("ApproveUser", "Task", exit=False)
    nodes, _, _ = _drawn(running, "RUNNING")
    assert nodes["ApproveUser"]["status"] == "running"
    assert nodes[END]["status"] == "not-reached"

    nodes, _, _ = _drawn(running, "TIMED_OUT")
    assert nodes["ApproveUser"]["status"] == "failed"

    waiting = _happy_path()
    waiting.state(AWAIT, "Task", exit=False)
    waiting._add("TaskScheduled")
    waiting._add("TaskSubmitted")
    nodes, _, taken = _drawn(waiting, "RUNNING")
    assert nodes[AWAIT]["status"] == "waiting"
    assert nodes[AWAIT]["resource"] == "lambda:invoke.waitForTaskToken"
    assert (REVIEW_CHOICE, AWAIT, "choice") in taken
    assert nodes[STATES[AWAIT]["Next"]]["status"] == "not-reached"
    assert nodes[END]["status"] == "not-reached"


def test_a_visit_carries_the_variables_its_state_assigned():
    history = _created()
    history.state("ApproveUser", "Task", exit=False)
    history._add(
        "TaskStateExited",
        stateExitedEventDetails={
            "name": "ApproveUser",
            "output": "{}",
            "assignedVariables": {"big": '"xxx"'},
            "assignedVariablesDetails": {"truncated": True},
        },
    )
    history.state(REVIEW_CHOICE, "Choice", exit=False)
    created, approved, choosing = steps_from(history.events)
    assert created["variables"] == {} and "variablesTruncated" not in created
    assert approved["variables"] == {"big": '"xxx"'} and approved["variablesTruncated"] is True
    assert "variables" not in choosing  # not exited yet: nothing assigned so far


@pytest.mark.parametrize(
    ("rule", "label"),
    [
        ({"Variable": "$.ok", "BooleanEquals": False, "Next": "x"}, "$.ok == false"),
        ({"Variable": "$.n", "NumericLessThanEquals": 3, "Next": "x"}, "$.n <= 3"),
        ({"Variable": "$.n", "NumericGreaterThanPath": "$.m", "Next": "x"}, "$.n > $.m"),
        ({"Variable": "$.s", "StringMatches": "a*", "Next": "x"}, '$.s matches "a*"'),
        ({"Variable": "$.s", "IsPresent": False, "Next": "x"}, "$.s is not present"),
        (
            {
                "And": [
                    {"Variable": "$.a", "StringEquals": "x"},
                    {"Not": {"Variable": "$.b", "IsNull": True}},
                ],
                "Next": "x",
            },
            '($.a == "x") and (not ($.b is null))',
        ),
        ({"Condition": "{% $states.input.n > 3 %}", "Next": "x"}, "$states.input.n > 3"),
        ({"Condition": "{%$exists($v)%}", "Next": "x"}, "$exists($v)"),
        ({"Condition": True, "Next": "x"}, "true"),
    ],
)
def test_choice_rules_read_as_one_line(rule, label):
    assert choice_label(rule) == label


def _line(at: datetime, message: str, function: str | None = None) -> LogLine:
    return LogLine(at.timestamp(), "INFO", "app", json.dumps({"message": message}), function)


def test_log_lines_go_to_the_state_that_ran_when_they_were_written():
    history = _happy_path()
    steps = steps_from(history.events)
    ms = timedelta(milliseconds=1)
    lines = [
        _line(T0 - 5 * ms, "operation accepted"),
        _line(T0 + 15 * ms, "user created", "user_create"),
        _line(T0 + 16 * ms, "workflow started", "starter"),
        _line(T0 + 45 * ms, "user approved", "user_approve"),
        _line(T0 + 85 * ms, "choosing"),
        _line(T0 + 130 * ms, "swept"),
    ]
    outside = attribute_logs(ASL, steps, lines)
    messages = {s["state"]: [json.loads(x["line"])["message"] for x in s["logs"]] for s in steps}
    assert messages == {
        "CreateUser": ["user created"],
        "ApproveUser": ["user approved"],
        REVIEW_CHOICE: ["choosing"],
    }
    assert [json.loads(x["line"])["message"] for x in outside["before"]] == [
        "operation accepted",
        "workflow started",  # written during CreateUser, but by the starter
    ]
    assert [json.loads(x["line"])["message"] for x in outside["after"]] == ["swept"]


def test_a_line_at_a_state_boundary_goes_to_the_lambda_task_that_wrote_it():
    """As recorded: ApproveUser exits, and two states are entered (the Choice and the next
    task), in the same millisecond (615) as a line ApproveUser's function wrote at 614.05 ms."""

    def step(state: str, entered_ms: int, duration: int) -> dict:
        entered = (T0 + timedelta(milliseconds=entered_ms)).isoformat()
        return {"state": state, "entered": entered, "durationMs": duration}

    steps = [
        step("ApproveUser", 606, 9),
        step(REVIEW_CHOICE, 615, 0),
        step("CreateResponse", 615, 6),
    ]
    late = T0 + timedelta(milliseconds=614.05)
    attribute_logs(ASL, steps, [_line(late, "user approved")])
    assert [len(s["logs"]) for s in steps] == [1, 0, 0]
    attribute_logs(ASL, steps, [_line(late, "user approved", "user_approve")])
    assert [len(s["logs"]) for s in steps] == [1, 0, 0]
    # In the millisecond CreateResponse is entered, its function has not started yet.
    same_millisecond = T0 + timedelta(milliseconds=615.4)
    attribute_logs(ASL, steps, [_line(same_millisecond, "user approved")])
    assert [len(s["logs"]) for s in steps] == [1, 0, 0]
    attribute_logs(ASL, steps, [_line(T0 + timedelta(milliseconds=617), "response built")])
    assert [len(s["logs"]) for s in steps] == [0, 0, 1]


def _record(message: str, **extra: object) -> logging.LogRecord:
    return logging.getLogger("app").makeRecord(
        "app", logging.INFO, __file__, 1, message, (), None, extra=extra
    )


def test_the_log_book_keeps_lines_by_operation_as_the_app_writes_them():
    book = LogBook()
    with correlation("op-1"), invoking(deployed_name("local", "user_create")):
        book.handle(_record("user created", user_id="u-1"))
    book.handle(_record("operation accepted", operation_id="op-2"))
    book.handle(_record("no operation here"))
    (line,) = book.lines("op-1")
    assert json.loads(line.line)["correlation_id"] == "op-1"
    assert json.loads(line.line)["user_id"] == "u-1"
    assert line.function == deployed_name("local", "user_create")
    assert [json.loads(x.line)["message"] for x in book.lines("op-2")] == ["operation accepted"]
    assert book.size()[0] == 2


def test_the_log_book_stays_bounded_however_long_it_runs():
    book = LogBook(max_operations=3, max_lines=5, max_line_chars=200, max_total_chars=4000)
    for operation in range(50):
        for index in range(20):
            with correlation(f"op-{operation}"):
                book.handle(_record(f"line {index} " + "x" * (index * 20)))
        operations, chars = book.size()
        assert operations <= 3 and chars <= 4000
    assert book.lines("op-0") == []  # the least recently written went first
    kept = book.lines("op-49")
    assert len(kept) == 5  # its newest lines
    assert '"message": "line 15 x' in kept[0].line
    assert all(len(line.line) <= 200 for line in kept)
    assert kept[-1].line.endswith(TRUNCATED)
    # The total is exact: what the lines hold, no more.
    assert book.size()[1] == sum(len(x.line) for op in (47, 48, 49) for x in book.lines(f"op-{op}"))
