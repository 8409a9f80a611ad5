"""ListExecutions and an aborted execution's history as AWS answers them, where moto's differ
(AWS's recorded answers: LocalStack's test_sfn_api snapshots). Registered in
local/patches/registry.py."""

from __future__ import annotations

import contextvars
import functools
from typing import Any

from moto.core.utils import utcnow
from moto.stepfunctions.exceptions import ValidationException

from local.patches.hooks import Hooks

# An execution's statuses, as AWS's message lists them.
_STATUSES = ("SUCCEEDED", "TIMED_OUT", "PENDING_REDRIVE", "ABORTED", "FAILED", "RUNNING")


def status_filter_checked(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionBackend.list_executions(self, state_machine_arn, status_filter):
    a statusFilter that is no execution status is refused, as AWS does; moto listed none."""

    @functools.wraps(original)
    def list_executions(
        self: Any, state_machine_arn: str, status_filter: str | None = None, **paging: Any
    ) -> Any:
        if status_filter is not None and status_filter not in _STATUSES:
            allowed = ", ".join(_STATUSES)
            raise ValidationException(
                f"1 validation error detected: Value '{status_filter}' at 'statusFilter' failed "
                f"to satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )
        return original(self, state_machine_arn, status_filter, **paging)  # moto's paginator

    return list_executions


# The error and cause of the StopExecution request being answered.
_STOP_REQUESTED: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "stop_requested", default=(None, None)
)


def stop_with_error_and_cause(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.stop_execution(self), which read neither the request's
    error nor its cause, and StateMachine.stop_execution(self, execution_arn), which stopped
    the execution with "" for both: the ExecutionAborted event records what StopExecution was
    given, as AWS's API reference describes (StopExecution; ExecutionAbortedEventDetails)."""
    if original.__qualname__.startswith("StepFunctionResponse."):

        @functools.wraps(original)
        def answer(self: Any) -> Any:
            token = _STOP_REQUESTED.set((self._get_param("error"), self._get_param("cause")))
            try:
                return original(self)
            finally:
                _STOP_REQUESTED.reset(token)

        return answer

    @functools.wraps(original)
    def stop_execution(self: Any, execution_arn: str) -> Any:
        execution = next((x for x in self.executions if x.execution_arn == execution_arn), None)
        if execution is None:
            return original(self, execution_arn)  # moto's ExecutionDoesNotExist
        error, cause = _STOP_REQUESTED.get()
        execution.stop(stop_date=utcnow(), error=error, cause=cause)  # as moto stops it
        return execution

    return stop_execution
