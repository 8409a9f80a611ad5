"""The event that carries an accepted operation from the API to the starter."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from chalicelib.domain.operations import OPERATION_TYPE_USER_CREATE, Operation, UserRequest


class MalformedEvent(ValueError):
    """A stream record that is not an operation event: retrying it cannot help."""


@dataclasses.dataclass(frozen=True)
class OperationRequested:
    """A full-state event: the starter needs nothing else to start the workflow."""

    operation_id: str
    request: UserRequest
    # When it was put on the stream (ISO 8601 UTC), stamped by the publisher: the archive is
    # replayed by it. Not part of the event's identity: a republished event is the same event.
    published_at: str | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def of(cls, operation: Operation) -> OperationRequested:
        return cls(operation.id, operation.request)

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {
            "type": OPERATION_TYPE_USER_CREATE,
            "operationId": self.operation_id,
            "request": dataclasses.asdict(self.request),
        }
        if self.published_at is not None:
            body["publishedAt"] = self.published_at
        return json.dumps(body, separators=(",", ":")).encode()

    def workflow_input(self) -> dict[str, Any]:
        return {
            "operationId": self.operation_id,
            "email": self.request.email,
            "name": self.request.name,
        }

    @classmethod
    def from_bytes(cls, data: bytes) -> OperationRequested:
        try:
            body = json.loads(data)
            if body["type"] != OPERATION_TYPE_USER_CREATE:
                raise MalformedEvent(f"unknown event type {body['type']!r}")
            request = body["request"]
            event = cls(
                str(body["operationId"]),
                UserRequest(request["email"], request["name"]),
                body.get("publishedAt"),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise MalformedEvent(f"not an operation event: {error}") from error
        if not all(isinstance(v, str) for v in (event.request.email, event.request.name)):
            raise MalformedEvent("not an operation event: request fields must be strings")
        if not isinstance(event.published_at, str | None):
            raise MalformedEvent("not an operation event: publishedAt must be a string")
        return event
