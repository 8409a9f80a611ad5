"""Reading an operation's execution on the emulator: its history, and the states it entered."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import boto3

from chalicelib.adapters.workflows import execution_arn
from infra.definition import workflow_definition
from infra.functions import load_app, logical_ids

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef


def history(stack: Any, operation_id: str) -> list[HistoryEventTypeDef]:
    """Every event of the operation's execution, oldest first."""
    arn = execution_arn(stack.resources.state_machine_arn, operation_id)
    pages = boto3.client("stepfunctions").get_paginator("get_execution_history")
    return [event for page in pages.paginate(executionArn=arn) for event in page["events"]]


def states_entered(stack: Any, operation_id: str) -> list[str]:
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in history(stack, operation_id)
        if event["type"].endswith("StateEntered")
    ]


def failed_tasks(stack: Any, operation_id: str) -> list[HistoryEventTypeDef]:
    """Task failures in the history: what Lambda's error metrics would count."""
    return [
        event
        for event in history(stack, operation_id)
        if event["type"] in ("TaskFailed", "LambdaFunctionFailed")
    ]


def functions_of(states: Iterable[str]) -> list[str]:
    """The app's functions (Chalice names) that these states of the definition invoke, in
    order: each Task's ${<LogicalId>FunctionArn} placeholder, as infra/definition.py reads them."""
    definition = workflow_definition()
    names = {logical: name for name, logical in logical_ids(load_app()).items()}
    return [
        names[logical]
        for state in states
        for logical in re.findall(
            r"\$\{(\w+)FunctionArn\}", json.dumps(definition["States"][state])
        )
    ]
