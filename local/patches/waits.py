"""Wait states as AWS runs them, where moto's differ. Registered in local/patches/registry.py."""

from __future__ import annotations

import functools
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
    StringJSONata,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment

from local.aws.stepfunctions.failures import states_failure
from local.patches.hooks import Hooks
from local.patches.jsonata import query_evaluation_failure

# The longest delay a Wait takes: 2^31 - 1 seconds (24855 days and a little); AWS's recorded
# executions wait 24855 days and fail a wait of 24856 with "Wait state delay is too long."
LONGEST_WAIT_SECONDS = 2**31 - 1


def wait_timestamp_failure(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces Timestamp._create_failure_event(self, env, timestamp_str): a JSONata Wait
    whose Timestamp is no ISO-8601 date-time fails with States.QueryEvaluationError, recorded
    as an EvaluationFailed event at the field "Timestamp", in AWS's words; moto failed it
    with States.Runtime in JSONPath's (TimestampPath keeps those)."""

    @functools.wraps(original)
    def _create_failure_event(self: Any, env: Environment, timestamp_str: str) -> Any:
        if not isinstance(self.string, StringJSONata):
            return original(self, env, timestamp_str)
        cause = (
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            f"format string: {timestamp_str}"
        )
        failure = query_evaluation_failure(env, cause, "Timestamp", follows_last_event=True)
        return failure.failure_event

    return _create_failure_event


def longest_wait(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces WaitFunction._eval_body(self, env): a delay over LONGEST_WAIT_SECONDS fails
    the state with States.Runtime, as on AWS; moto waited."""

    def _eval_body(self: Any, env: Environment) -> None:
        seconds = self._get_wait_seconds(env=env)
        if seconds > LONGEST_WAIT_SECONDS:
            raise states_failure(
                env,
                StatesErrorNameType.StatesRuntime,
                "Wait state delay is too long.",
                HistoryEventType.ExecutionFailed,
            )
        self._wait_interval(env=env, wait_seconds=seconds)

    return _eval_body
