"""A test's own state machines in moto on a test clock: the ASL written in the test, executed
by moto (EMULATOR_CONFIG) with every patch of the registry applied, Lambda tasks run in
process. For the emulator's own tests (tests/integration/test_clock.py) and for an adapter
that needs a real execution (the TaskCallbacks contract, tests/contract/)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3

from infra.definition import LAMBDA_RUNTIME
from local.aws.lambda_runtime import FunctionSpec, InProcessLambdas
from local.aws.provision import function_zip
from local.emulator import EMULATOR_CONFIG
from local.patches import registry
from local.patches.hooks import Hooks
from local.state.clock import Clock
from tests.conftest import emulated_aws

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef

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

    def ended(self, arn: str, what: str) -> None:
        """Until the execution is no longer RUNNING."""
        self.wait_for(arn, lambda: self.status(arn) != "RUNNING", what)

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

    def token(self, queue: str, arn: str) -> str:
        """The token the execution's callback task sent to the queue, once it has."""
        messages: list[dict[str, Any]] = []

        def arrived() -> bool:
            messages.extend(boto3.client("sqs").receive_message(QueueUrl=queue).get("Messages", []))
            return bool(messages)

        self.wait_for(arn, arrived, "the callback task's message")
        return str(json.loads(messages[0]["Body"])["token"])

    def history(self, arn: str) -> list[HistoryEventTypeDef]:
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        return [event for page in pages for event in page["events"]]


@contextlib.contextmanager
def running() -> Iterator[Machine]:
    """moto executing state machines, every patch applied, on a clock that moves only when
    the test advances it (or a retry's backoff sleeps)."""
    clock = Clock(skip_sleeps=True)
    runtime = InProcessLambdas()
    with emulated_aws(EMULATOR_CONFIG), registry.applied(Hooks(clock=clock, lambdas=runtime)):
        try:
            yield Machine(clock, runtime)
        finally:
            runtime.drain()  # an Event invocation under way ends while moto is here
