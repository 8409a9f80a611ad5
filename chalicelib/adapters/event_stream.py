"""The Kinesis stream that carries accepted operations to the starter, and its record format."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import botocore.exceptions

from chalicelib.adapters import aws, tracing
from chalicelib.domain.errors import PublishFailed, TransientError
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import OPERATION_TYPE_USER_CREATE, UserRequest, utc_now


class MalformedEvent(ValueError):
    """A stream record that is not an operation event: retrying it cannot help."""


def encode(event: OperationRequested) -> bytes:
    """The record's data: compact JSON, `{"type", "operationId", "request": {email, name},
    "publishedAt"?, "traceHeader"?}` (`traceHeader`: the X-Ray trace header of the request
    that accepted it; records archived before it was added have none, and need none)."""
    body: dict[str, Any] = {
        "type": OPERATION_TYPE_USER_CREATE,
        "operationId": event.operation_id,
        "request": {"email": event.request.email, "name": event.request.name},
    }
    if event.published_at is not None:
        body["publishedAt"] = event.published_at
    if event.trace_header is not None:
        body["traceHeader"] = event.trace_header
    return json.dumps(body, separators=(",", ":")).encode()


def decode(data: bytes) -> OperationRequested:
    """The event in a record's data; MalformedEvent for anything else."""
    try:
        body: Any = json.loads(data)
        if body["type"] != OPERATION_TYPE_USER_CREATE:
            raise MalformedEvent(f"unknown event type {body['type']!r}")
        request = body["request"]
        event = OperationRequested(
            str(body["operationId"]),
            UserRequest(request["email"], request["name"]),
            body.get("publishedAt"),
            # Only ever a hint: a trace header that is not a string is no reason to refuse
            # the operation, so it is left out (tracing never fails the work it records).
            trace if isinstance(trace := body.get("traceHeader"), str) else None,
        )
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedEvent(f"not an operation event: {error}") from error
    if not all(isinstance(v, str) for v in (event.request.email, event.request.name)):
        raise MalformedEvent("not an operation event: request fields must be strings")
    if not isinstance(event.published_at, str | None):
        raise MalformedEvent("not an operation event: publishedAt must be a string")
    return event


class EventStream:
    def __init__(self, stream_name: str) -> None:
        self._stream = stream_name

    def publish(self, event: OperationRequested) -> None:
        try:
            with aws.transient_errors():
                aws.client("kinesis").put_record(
                    StreamName=self._stream,
                    # Stamped as it is published: the archive is replayed by this time, and
                    # the starter continues the trace of whoever published it.
                    Data=encode(
                        dataclasses.replace(
                            event, published_at=utc_now(), trace_header=tracing.trace_header()
                        )
                    ),
                    # Operations are independent: spread them evenly over the shards.
                    PartitionKey=event.operation_id,
                )
        except (TransientError, botocore.exceptions.ClientError) as error:
            raise PublishFailed(str(error)) from error
