"""Reading an operation's execution on the emulator: its history, and the states it entered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3

from chalicelib.adapters.workflows import execution_arn

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
