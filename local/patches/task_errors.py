"""A DynamoDB task's own errors stay its own.

moto's DynamoDB task names every exception that is not the service's answer after the
service (`DynamoDB.AmazonDynamoDBException`, with a Python object's repr as the cause): also
the errors of the state itself, raised while it evaluates its fields
(`States.QueryEvaluationError` for a JSONata expression that returns nothing,
`States.Runtime`), and an error a TestState mock gives. moto's other integrations pass those
on as they are, as AWS does: the state fails with the error its field, or the mock, raised
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
"""

from __future__ import annotations

import functools
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment

from local.patches.hooks import Hooks


def named_as_raised(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateTaskServiceDynamoDB._from_error: an error already named is that error."""

    @functools.wraps(original)
    def from_error(self: Any, env: Environment, ex: Exception) -> FailureEvent:
        if isinstance(ex, FailureEventException):
            return ex.failure_event
        return original(self, env, ex)

    return from_error
