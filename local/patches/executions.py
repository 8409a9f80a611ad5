"""ListExecutions and an aborted execution's history as AWS answers them, where moto's differ
(AWS's recorded answers: LocalStack's test_sfn_api snapshots). Registered in
local/patches/registry.py."""

from __future__ import annotations

import functools
from typing import Any

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
