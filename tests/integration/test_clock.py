"""The emulator's clock (local/state/clock.py): moto's retries, waits, timeouts and history obey it,
so a workflow that waits a day runs in a test in well under a second of real time."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.definition import LAMBDA_RUNTIME
from local.aws.lambda_runtime import FunctionSpec, InProcessLambdas
from local.aws.provision import function_zip
from local.emulator import EMULATOR_CONFIG
from local.patches import registry
from local.patches.hooks import Hooks
from local.state.clock import Clock

DAY = 24 * 3600


class Machine:
    """A state machine in moto on a test clock, its Lambda tasks run in process."""

    def __init__(self, clock: Clock, runtime: InProcessLambdas) -> None:
        self.clock = clock
        self.runtime = runtime
        self.sfn = boto3.client("stepfunctions")
        self.role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")[
            "Role"
        ]["Arn"]

    def function(self, name: str, handler: Callable[[Any, Any], Any]) -> str:
        arn = boto3.client("lambda").create_function(
            FunctionName=name,
            Runtime=LAMBDA_RUNTIME,
            Role=self.role,
            Handler="app.handler",
            Code={"ZipFile": function_zip()},
        )["FunctionArn"]
        self.runtime.register(name, FunctionSpec(handler, arn, 128, 60))
        return str(arn)

    def run(self, states: dict[str, Any], start_at: str) -> str:
        machine = self.sfn.create_state_machine(
            name=f"m{len(self.sfn.list_state_machines()['stateMachines'])}",
            definition=json.dumps({"StartAt": start_at, "States": states}),
            roleArn=self.role,
        )["stateMachineArn"]
        return str(self.sfn.start_execution(stateMachineArn=machine, name="e")["executionArn"])

    def status(self, arn: str) -> str:
        return str(self.sfn.describe_execution(executionArn=arn)["status"])

    def wait_for(
        self, arn: str, predicate: Callable[[], bool], what: str, turns: int = 500
    ) -> None:
        """Until the predicate holds; each turn waits 10 ms at most (5 s in all by default)."""
        pause = threading.Event()
        for _ in range(turns):
            if predicate():
                return
            pause.wait(0.01)
        raise AssertionError(f"{what}: still {self.status(arn)}")

    def callback_task(self, queue_name: str) -> tuple[str, dict[str, Any]]:
        """A queue, and a task that sends it its token and waits a day for the answer."""
        queue = str(boto3.client("sqs").create_queue(QueueName=queue_name)["QueueUrl"])
        task = {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
            "TimeoutSeconds": DAY,
            "End": True,
        }
        return queue, task

    def history(self, arn: str) -> list[dict[str, Any]]:
        return list(self.sfn.get_execution_history(executionArn=arn)["events"])


@pytest.fixture
def machine() -> Iterator[Machine]:
    clock = Clock(skip_sleeps=True)
    runtime = InProcessLambdas()
    with (
        mock_aws(config=EMULATOR_CONFIG),
        registry.applied(Hooks(clock=clock, lambdas=runtime)),
    ):
        yield Machine(clock, runtime)


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
    sqs = boto3.client("sqs")
    machine.wait_for(
        execution,
        lambda: bool(sqs.receive_message(QueueUrl=queue).get("Messages")),
        "the callback task's message",
    )
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
    sqs = boto3.client("sqs")
    messages: list[dict[str, Any]] = []
    machine.wait_for(
        execution,
        lambda: bool(
            messages.extend(sqs.receive_message(QueueUrl=queue).get("Messages", [])) or messages
        ),
        "the callback task's message",
    )
    machine.clock.advance(timedelta(hours=12))
    token = json.loads(messages[0]["Body"])["token"]
    machine.sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve"}))
    machine.wait_for(execution, lambda: machine.status(execution) != "RUNNING", "the answer")
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
