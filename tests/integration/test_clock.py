"""The emulator's clock (local/state/clock.py): moto's retries, waits, timeouts and history obey it,
so a workflow that waits a day runs in a test in well under a second of real time."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from local.state.clock import Clock
from tests.machines import DAY, Machine, running


@pytest.fixture
def machine() -> Iterator[Machine]:
    with running() as machine:
        yield machine


def test_a_retry_backoff_moves_the_clock_instead_of_waiting(machine: Machine):
    calls: list[float] = []

    def flaky(event: Any, context: Any) -> Any:
        calls.append(machine.clock.time())
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return {"ok": True}

    arn = machine.function("flaky", flaky)
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": arn, "Payload": {}},
        # An hour, then two: moto would sleep three hours of real time.
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3600, "BackoffRate": 2}],
        "End": True,
    }
    execution = machine.run({"Flaky": task}, "Flaky")
    machine.wait_for(execution, lambda: machine.status(execution) != "RUNNING", "retrying")

    assert machine.status(execution) == "SUCCEEDED"
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 3600 and calls[2] - calls[1] >= 7200
    events = machine.history(execution)
    span = events[-1]["timestamp"] - events[0]["timestamp"]
    assert span >= timedelta(hours=3)  # the history is on the emulator's clock too


def test_a_day_long_callback_timeout_fires_when_the_clock_is_advanced(machine: Machine):
    queue, waiting = machine.callback_task("reviews")
    waiting["Catch"] = [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}]
    execution = machine.run(
        {"Wait": waiting, "TimedOut": {"Type": "Fail", "Error": "REVIEW_TIMED_OUT"}}, "Wait"
    )
    machine.token(queue, execution)  # it waits
    assert machine.status(execution) == "RUNNING"

    machine.clock.advance(timedelta(hours=23, minutes=59))
    with pytest.raises(AssertionError, match="still RUNNING"):  # not yet: a minute is left
        machine.wait_for(
            execution, lambda: machine.status(execution) != "RUNNING", "timing out", turns=20
        )

    machine.clock.advance(timedelta(minutes=1))
    machine.wait_for(execution, lambda: machine.status(execution) != "RUNNING", "timing out")
    described = machine.sfn.describe_execution(executionArn=execution)
    assert described["status"] == "FAILED" and described["error"] == "REVIEW_TIMED_OUT"
    assert described["stopDate"] - described["startDate"] >= timedelta(days=1)


def test_a_callback_answered_in_time_does_not_time_out(machine: Machine):
    queue, waiting = machine.callback_task("answers")
    execution = machine.run({"Wait": waiting}, "Wait")
    token = machine.token(queue, execution)
    machine.clock.advance(timedelta(hours=12))
    machine.sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve"}))
    machine.ended(execution, "the answer")
    described = machine.sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"decision": "approve"}


def test_a_wait_state_waits_on_the_clock(machine: Machine):
    execution = machine.run(
        {
            "Pause": {"Type": "Wait", "Seconds": 3 * DAY, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
        "Pause",
    )
    machine.wait_for(
        execution,
        lambda: any(e["type"] == "WaitStateEntered" for e in machine.history(execution)),
        "the Wait state",
    )
    assert machine.status(execution) == "RUNNING"
    machine.clock.advance(timedelta(days=3))
    machine.wait_for(execution, lambda: machine.status(execution) != "RUNNING", "waiting")
    assert machine.status(execution) == "SUCCEEDED"


def test_faster_time_runs_the_clock_at_its_speed():
    clock = Clock(speed=3600)
    event = clock.event()
    started = clock.time()
    assert event.wait(timeout=36) is False  # 36 emulated seconds: 10 ms of real time
    assert clock.time() - started >= 36


def test_a_set_event_wakes_its_waiter_at_once_even_if_cleared():
    clock = Clock()
    event = clock.event()
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(event.wait(timeout=DAY)))
    waiter.start()
    while not clock.waiting():  # registered: it is waiting
        threading.Event().wait(0.001)
    event.set()
    event.clear()  # moto's interpreter signals a stopping execution so
    waiter.join(timeout=5)
    assert woke == [True]


def test_the_clock_does_not_go_back():
    with pytest.raises(ValueError):
        Clock().advance(-1)
