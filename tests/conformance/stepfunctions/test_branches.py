"""A Map iteration or a Parallel branch that fails aborts the others (local/patches/branches.py).

AWS's recorded executions (LocalStack snapshots): timeouts/test_timeouts
`test_service_lambda_map_timeout` (March 2024: four iterations whose Task times out; after the
first MapIterationFailed, TaskStateAborted and MapIterationAborted for each other iteration in
item order, a last TaskStateAborted, MapStateFailed, ExecutionFailed, nothing after; every one
following the failure's last event); callback/test_callback
`test_sqs_failure_in_wait_for_task_tok_no_error_field[SQS_PARALLEL_WAIT_FOR_TASK_TOKEN]`
(April 2024: TaskFailed, TaskStateAborted, ParallelStateFailed, both following the TaskFailed).
The Parallel page: https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html
(a branch that fails fails the whole Parallel state).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import boto3

from tests.conformance.stepfunctions.conftest import Machines


def _waiting(seconds: int, then: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": seconds, "Next": "T"}, "T": then},
    }


_FAIL = {"Type": "Fail", "Error": "E", "Cause": "C"}
_DONE = {"Type": "Pass", "End": True}
# item 1 fails after 5 s; the others wait 100 s
_ITEM = {
    "StartAt": "C",
    "States": {
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Soon"}],
            "Default": "Later",
        },
        "Soon": {"Type": "Wait", "Seconds": 5, "Next": "F"},
        "F": _FAIL,
        "Later": {"Type": "Wait", "Seconds": 100, "Next": "Y"},
        "Y": _DONE,
    },
}


def _caught(state: dict[str, Any]) -> dict[str, Any]:
    """A machine of `state`, whose Catch takes any error to a Pass."""
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
    states = {"S": {**state, "Catch": catch, "Next": "Caught"}, "Caught": _DONE}
    return {"StartAt": "S", "States": states}


def _until(machines: Machines, arn: str, ready: Callable[[list[dict[str, Any]]], bool]) -> None:
    pause = threading.Event()
    for _ in range(500):
        if ready(machines.history(arn)):
            return
        pause.wait(0.01)
    raise AssertionError(f"{arn}: not there: {[e['type'] for e in machines.history(arn)]}")


def _finish(machines: Machines, arn: str, step: int) -> dict[str, Any]:
    """Moves the clock `step` seconds at a time until the execution is over (a wait that
    began after one move times out at the next)."""
    pause = threading.Event()
    for _ in range(10):
        machines.clock.advance(step)
        for _ in range(100):  # 10 ms at a time, 1 s at most, before the next move
            described = machines.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return dict(described)
            pause.wait(0.01)
    raise AssertionError(f"{arn} still RUNNING")


def _token_task(queue_name: str, timeout: int) -> dict[str, Any]:
    """A task that sends a queue its token and waits for it on the emulator's clock."""
    queue = boto3.client("sqs").create_queue(QueueName=queue_name)["QueueUrl"]
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": timeout,
        "End": True,
    }


def _no_more_waits(machines: Machines, before: int) -> bool:
    """Whether the clock's waits are back to `before` (the aborted children's are over)."""
    pause = threading.Event()
    for _ in range(100):
        if machines.clock.waiting() <= before:
            return True
        pause.wait(0.01)
    return False


def _count(kind: str, times: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda history: sum(e["type"] == kind for e in history) >= times


def _from(history: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    start = next(i for i, e in enumerate(history) if e["type"] == kind)
    return history[start:]


def _shape(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Each event's type, and a Map iteration's index."""
    shaped = []
    for event in events:
        details: dict[str, Any] = next(
            (v for k, v in event.items() if k.startswith("mapIteration")), {}
        )
        shaped.append((event["type"], details.get("index")))
    return shaped


def test_the_first_iteration_to_time_out_aborts_the_others_as_aws_records(machines: Machines):
    # test_service_lambda_map_timeout's machine: four iterations, each a Task timing out
    # after 5 s (here a callback task, so that it waits on the emulator's clock).
    task = _token_task("aborts", 5)
    processor = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "LambdaInvoke"}
    definition = {
        "StartAt": "MapWait",
        "States": {
            "MapWait": {
                "Type": "Map",
                "InputPath": "$.Inputs",
                "ItemProcessor": {**processor, "States": {"LambdaInvoke": task}},
                "End": True,
            }
        },
    }
    arn = machines.start(definition, {"Inputs": [{}, {}, {}, {}]})
    _until(machines, arn, _count("TaskSubmitted", 4))
    described = _finish(machines, arn, 5)
    history = machines.history(arn)

    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    tail = _from(history, "MapIterationFailed")
    failed = tail[0]["mapIterationFailedEventDetails"]["index"]
    others = [index for index in range(4) if index != failed]
    aborts = [[("TaskStateAborted", None), ("MapIterationAborted", i)] for i in others]
    assert _shape(tail) == [
        ("MapIterationFailed", failed),
        *(event for pair in aborts for event in pair),
        ("TaskStateAborted", None),
        ("MapStateFailed", None),
        ("ExecutionFailed", None),
    ]
    last = tail[0]["previousEventId"]
    assert {e["previousEventId"] for e in tail[:-1]} == {last}
    assert next(e for e in history if e["id"] == last)["type"] == "TaskTimedOut"


def test_a_waiting_iteration_is_aborted_and_records_nothing_after(machines: Machines):
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemsPath": "$.l", "ItemProcessor": _ITEM, "End": True}},
    }
    arn = machines.start(definition, {"l": [0, 1, 2]})
    _until(machines, arn, _count("WaitStateEntered", 3))
    described = _finish(machines, arn, 5)
    history = machines.history(arn)

    assert (described["status"], described["error"]) == ("FAILED", "E")
    tail = _from(history, "FailStateEntered")
    assert _shape(tail) == [
        ("FailStateEntered", None),
        ("MapIterationFailed", 1),
        ("WaitStateAborted", None),
        ("MapIterationAborted", 0),
        ("WaitStateAborted", None),
        ("MapIterationAborted", 2),
        ("MapStateFailed", None),
        ("ExecutionFailed", None),
    ]
    assert {e["previousEventId"] for e in tail[1:-1]} == {tail[0]["id"]}


def test_a_caught_failure_leaves_no_iteration_running(machines: Machines):
    # The Map's Catch takes the error: what follows is the next state's, no sibling's
    # MapIterationSucceeded or MapIterationFailed; their Waits are over on the clock.
    definition = _caught({"Type": "Map", "ItemProcessor": _ITEM})
    before = machines.clock.waiting()
    arn = machines.start(definition, [0, 1, 2])
    _until(machines, arn, _count("WaitStateEntered", 3))
    described = _finish(machines, arn, 5)

    assert described["status"] == "SUCCEEDED"
    assert _no_more_waits(machines, before), "an aborted iteration still waits"
    tail = [e["type"] for e in _from(machines.history(arn), "MapStateFailed")]
    assert tail == [
        "MapStateFailed",
        "MapStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_a_failing_branch_aborts_a_waiting_one_before_the_parallel_fails(machines: Machines):
    branches = [_waiting(100, _DONE), _waiting(5, _FAIL)]
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}},
    }
    arn = machines.start(definition)
    _until(machines, arn, _count("WaitStateEntered", 2))
    described = _finish(machines, arn, 5)
    history = machines.history(arn)

    assert (described["status"], described["error"]) == ("FAILED", "E")
    tail = _from(history, "FailStateEntered")
    assert [e["type"] for e in tail] == [
        "FailStateEntered",
        "WaitStateAborted",
        "ParallelStateFailed",
        "ExecutionFailed",
    ]
    assert [e["previousEventId"] for e in tail[1:3]] == [tail[0]["id"]] * 2


def test_a_branch_waiting_for_its_token_is_aborted_and_waits_no_more(machines: Machines):
    task = _token_task("aborted-token", 86400)
    branches = [{"StartAt": "T", "States": {"T": task}}, _waiting(5, _FAIL)]
    definition = _caught({"Type": "Parallel", "Branches": branches})
    before = machines.clock.waiting()
    arn = machines.start(definition)
    _until(
        machines, arn, lambda h: _count("TaskSubmitted", 1)(h) and _count("WaitStateEntered", 1)(h)
    )
    described = _finish(machines, arn, 5)

    assert described["status"] == "SUCCEEDED"
    tail = [e["type"] for e in _from(machines.history(arn), "FailStateEntered")]
    assert tail[:3] == ["FailStateEntered", "TaskStateAborted", "ParallelStateFailed"]
    assert _no_more_waits(machines, before), "the aborted task still waits for its token"


def _inner_map(caught: bool) -> dict[str, Any]:
    """A branch or iteration holding a Map whose one iteration fails (its Catch taking it, if
    `caught`)."""
    inner = {
        "Type": "Map",
        "ItemsPath": "$.l",
        "ItemProcessor": {"StartAt": "F", "States": {"F": _FAIL}},
    }
    if not caught:
        return {"StartAt": "Inner", "States": {"Inner": {**inner, "End": True}}}
    caught_pass = {"Type": "Pass", "Result": "caught", "End": True}
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
    states = {"Inner": {**inner, "Catch": catch, "Next": "Caught"}, "Caught": caught_pass}
    return {"StartAt": "Inner", "States": states}


def _outer_map(caught: bool) -> dict[str, Any]:
    outer = {
        "Type": "Map",
        "ItemsPath": "$.o",
        "ItemSelector": {"l.$": "$.l"},
        "ItemProcessor": _inner_map(caught),
        "End": True,
    }
    return {"StartAt": "Outer", "States": {"Outer": outer}}


def test_a_nested_maps_caught_failure_is_no_failure_of_the_iteration_around_it(
    machines: Machines,
):
    # The inner Map's MapIterationFailed passed through the outer iteration's gate and was
    # taken for the outer iteration's failure: the execution failed with States.Runtime.
    described = machines.run(_outer_map(caught=True), {"o": [0, 1], "l": [1]})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == ["caught", "caught"]
    branches = [_inner_map(caught=True), {"StartAt": "X", "States": {"X": {**_DONE, "Result": 1}}}]
    parallel = {"Type": "Parallel", "Branches": branches, "End": True}
    described = machines.run({"StartAt": "P", "States": {"P": parallel}}, {"l": [1]})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == ["caught", 1]


def test_a_nested_maps_failure_fails_the_iteration_around_it(machines: Machines):
    described = machines.run(_outer_map(caught=False), {"o": [0], "l": [1]})
    assert (described["status"], described["error"]) == ("FAILED", "E")
    outer = [
        (e["type"], e.get("mapIterationFailedEventDetails", {}).get("name"))
        for e in machines.history(described["executionArn"])
        if e["type"] in ("MapIterationFailed", "MapIterationAborted")
    ]
    assert outer == [("MapIterationFailed", "Inner"), ("MapIterationFailed", "Outer")]
