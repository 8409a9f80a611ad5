"""A bare state machine on the emulator (moto in process, every patch of local/patches/, the
emulator's clock): create it, run it, read what AWS would answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.aws.lambda_runtime import InProcessLambdas
from local.emulator import EMULATOR_CONFIG
from local.patches import registry
from local.patches.hooks import Hooks
from local.state.clock import Clock
from tests.conftest import emulated_aws


class Machines:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sfn = boto3.client("stepfunctions")
        self.role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")[
            "Role"
        ]["Arn"]
        self.created = 0

    def create(self, definition: dict[str, Any]) -> str:
        self.created += 1
        return str(
            self.sfn.create_state_machine(
                name=f"m{self.created}", definition=json.dumps(definition), roleArn=self.role
            )["stateMachineArn"]
        )

    def run(self, definition: dict[str, Any], data: Any = None) -> dict[str, Any]:
        """Runs the definition on this input; DescribeExecution's answer once it is over."""
        return self.finished(self.start(definition, data))

    def start(self, definition: dict[str, Any], data: Any = None) -> str:
        machine = self.create(definition)
        return str(
            self.sfn.start_execution(stateMachineArn=machine, input=json.dumps(data or {}))[
                "executionArn"
            ]
        )

    def until_waiting(self, beyond: int = 0) -> None:
        """Until a wait has begun on the emulator's clock (a Wait state, a timeout): more than
        `beyond` waits under way (the count before the test started its own, when another
        test of the module may have left one)."""
        pause = threading.Event()
        for _ in range(500):
            if self.clock.waiting() > beyond:
                return
            pause.wait(0.01)
        raise AssertionError("nothing waits on the clock")

    def finished(self, arn: str) -> dict[str, Any]:
        pause = threading.Event()
        for _ in range(500):  # 10 ms at a time, 5 s at most
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return dict(described)
            pause.wait(0.01)
        raise AssertionError(f"{arn} still RUNNING")

    def history(self, arn: str) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        return [dict(event) for page in pages for event in page["events"]]


@pytest.fixture(scope="module")
def machines() -> Iterator[Machines]:
    """One emulator for a module: its tests create state machines of their own."""
    clock = Clock(skip_sleeps=True)
    lambdas = InProcessLambdas()
    with emulated_aws(EMULATOR_CONFIG), registry.applied(Hooks(clock=clock, lambdas=lambdas)):
        try:
            yield Machines(clock)
        finally:
            lambdas.drain()  # an Event invocation under way ends while moto is here


def output(described: dict[str, Any]) -> Any:
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


def query_evaluation_cause(described: dict[str, Any]) -> str:
    """The cause of an execution that failed with States.QueryEvaluationError."""
    assert (described["status"], described["error"]) == (
        "FAILED",
        "States.QueryEvaluationError",
    ), described
    return str(described["cause"])
