"""Which errors a retrier or a catcher takes: none takes States.Runtime, as AWS's
error-handling page says ("A States.Runtime error isn't retriable, and will always cause the
execution to fail", "A retry or catch on States.ALL won't catch States.Runtime errors") and
AWS's recorded execution shows (LocalStack's test_catch_states_runtime: a Catch naming
States.Runtime, the execution failed all the same). moto's retriers and catchers took it, so
a path that found nothing went to a Catch where AWS fails the execution.

The page says the same of States.DataLimitExceeded and States.ALL; AWS's recorded executions
(March 2024, a Lambda's oversized result) show States.ALL taking it, so the engine leaves
that as moto has it.

A heartbeat timeout is States.Timeout, as AWS's recorded executions name it (TaskTimedOut,
test_heartbeat_timeout, LocalStack snapshot 2024-04), and a retrier or catcher of
States.HeartbeatTimeout takes it too: the page's "States.HeartbeatTimeout: A Task state failed
to send a heartbeat for a period longer than the HeartbeatSeconds value. ... only available
inside the Catch and Retry fields". A task's TimeoutSeconds is not a heartbeat timeout. moto
matched only States.Timeout (and States.ALL). Registered in local/patches/registry.py."""

from __future__ import annotations

import functools
from typing import Any, Final

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError
from moto.stepfunctions.parser.asl.eval.environment import Environment

from local.patches.hooks import Hooks

_RUNTIME: Final = "States.Runtime"


def terminal_errors(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps ErrorEqualsDecl._eval_body(self, env): no retrier or catcher takes
    States.Runtime (the error is on the stack; whether it matches, a bool, replaces it)."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        if getattr(env.stack[-1], "error_name", None) == _RUNTIME:
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    return eval_body


class _HeartbeatTimeout(StatesErrorName):
    """The error of a heartbeat timeout: States.Timeout, which a retrier or catcher of
    States.HeartbeatTimeout takes as well (a retrier or catcher compares its names with it)."""

    _NAMES: Final = frozenset(
        name.to_name()
        for name in (StatesErrorNameType.StatesTimeout, StatesErrorNameType.StatesHeartbeatTimeout)
    )

    def __init__(self) -> None:
        super().__init__(typ=StatesErrorNameType.StatesTimeout)

    def matches(self, error_name: str | None) -> bool:
        return error_name in self._NAMES


def heartbeat_timeouts(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps StateTask._from_error(self, env, ex): a heartbeat timeout's failure is moto's
    States.Timeout (its event and output unchanged), its error one that States.HeartbeatTimeout
    matches as well."""

    @functools.wraps(original)
    def from_error(self: Any, env: Environment, ex: Exception) -> FailureEvent:
        failure: FailureEvent = original(self, env, ex)
        if not isinstance(ex, HeartbeatTimeoutError):
            return failure
        return FailureEvent(env, _HeartbeatTimeout(), failure.event_type, failure.event_details)

    return from_error
