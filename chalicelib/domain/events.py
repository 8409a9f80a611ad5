"""The event that carries an accepted operation from the API to the starter."""

from __future__ import annotations

import dataclasses

from chalicelib.domain.operations import Operation, UserRequest


@dataclasses.dataclass(frozen=True)
class OperationRequested:
    """A full-state event: the starter needs nothing else to start the workflow.

    Its record format on the stream belongs to adapters.event_stream.
    """

    operation_id: str
    request: UserRequest

    @classmethod
    def of(cls, operation: Operation) -> OperationRequested:
        return cls(operation.id, operation.request)
