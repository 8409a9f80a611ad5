"""The stream's record format (chalicelib/adapters/event_stream.py: encode, decode)."""

import pytest

from chalicelib.adapters.event_stream import MalformedEvent, decode, encode
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import UserRequest, new_operation

pytestmark = pytest.mark.unit


def test_events_round_trip():
    event = OperationRequested.of(new_operation(UserRequest("ada@example.org", "Ada")))
    assert decode(encode(event)) == event


def test_the_record_format_is_compact_json():
    # Records already on a stream (and replayed from its archive) have this exact shape.
    event = OperationRequested("op-1", UserRequest("ada@example.org", "Ada"))
    assert encode(event) == (
        b'{"type":"user.create","operationId":"op-1",'
        b'"request":{"email":"ada@example.org","name":"Ada"}}'
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"type": "user.delete", "operationId": "x", "request": {"email": "a", "name": "b"}}',
        b'{"type": "user.create", "operationId": "x"}',
        b'{"type": "user.create", "operationId": "x", "request": {"email": 1, "name": "b"}}',
        b"\xff\xfe",
    ],
)
def test_malformed_events_are_recognised(data):
    with pytest.raises(MalformedEvent):
        decode(data)
