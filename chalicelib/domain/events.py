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
    # When it was put on the stream (ISO 8601 UTC), stamped by the publisher: the archive is
    # replayed by it. Not part of the event's identity: a republished event is the same event.
    published_at: str | None = dataclasses.field(default=None, compare=False)
    # The trace of the request that accepted it (an X-Ray trace header), stamped by the
    # publisher: the starter continues that trace. Not part of the event's identity either.
    trace_header: str | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def of(cls, operation: Operation) -> OperationRequested:
        return cls(operation.id, operation.request)
