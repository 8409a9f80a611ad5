"""The tracing module's contracts without a tracer: the trace header, the record's trace field
(old records still decode), and that tracing never fails the work it records
(chalicelib/adapters/tracing.py, event_stream.py)."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Any

import pytest

from chalicelib.adapters import tracing, tracing_common
from chalicelib.adapters.event_stream import decode, encode
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import UserRequest

pytestmark = pytest.mark.unit
HEADER = "Root=1-5f84c7a1-a0b1c2d3e4f5a6b7c8d9e0f1;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def fresh_reports(monkeypatch):
    """Each test sees tracing failures as if none had been logged yet."""
    monkeypatch.setattr(tracing_common, "_reported", set())


def test_a_trace_header_reads_and_writes_as_x_ray_writes_it():
    # https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader
    header = tracing.TraceHeader.parse(HEADER)
    assert header == tracing.TraceHeader("1-5f84c7a1-a0b1c2d3e4f5a6b7c8d9e0f1", "53995c3f42cd8ad8")
    assert str(header) == HEADER
    assert header.started == 0x5F84C7A1
    assert tracing.TraceHeader.parse("Root=1-5f84c7a1-a0b1c2d3e4f5a6b7c8d9e0f1;Sampled=0") == (
        tracing.TraceHeader("1-5f84c7a1-a0b1c2d3e4f5a6b7c8d9e0f1", None, sampled=False)
    )


@pytest.mark.parametrize(
    "text",
    [None, "", "Root=;Parent=x", "Root=1-zz-a0b1;Sampled=1", "Parent=53995c3f42cd8ad8", "{}"],
)
def test_what_is_not_a_trace_header_is_none(text):
    assert tracing.TraceHeader.parse(text) is None


def test_a_record_in_todays_format_has_no_trace_and_decodes_as_before():
    # The archive holds records from before the trace header travelled with the event.
    old = (
        b'{"type":"user.create","operationId":"op-1",'
        b'"request":{"email":"ada@example.org","name":"Ada"},"publishedAt":"2026-11-23T10:00Z"}'
    )
    event = decode(old)
    assert event == OperationRequested("op-1", UserRequest("ada@example.org", "Ada"))
    assert event.trace_header is None
    assert encode(event) == old  # and, replayed, it is the same record


def test_the_trace_header_travels_with_the_event_and_is_not_its_identity():
    event = OperationRequested("op-1", UserRequest("ada@example.org", "Ada"), None, HEADER)
    data = encode(event)
    assert data.endswith(b',"traceHeader":"' + HEADER.encode() + b'"}')
    parsed = decode(data)
    assert parsed.trace_header == HEADER
    assert parsed == OperationRequested("op-1", UserRequest("ada@example.org", "Ada"))


def test_a_trace_field_that_is_not_a_string_does_not_make_the_record_poison():
    data = (
        b'{"type":"user.create","operationId":"op-1",'
        b'"request":{"email":"ada@example.org","name":"Ada"},"traceHeader":{"Root":1}}'
    )
    assert decode(data).trace_header is None


class _Broken:
    """A tracer every call of which fails."""

    def subsegment(self, name, operation_id):
        raise RuntimeError("no daemon")

    def annotate(self, operation_id):
        raise OSError("buffer full")

    def trace_header(self):
        raise ValueError("malformed")

    @contextlib.contextmanager
    def continued(self, header, name, operation_id, service):
        yield
        raise RuntimeError("cannot close")


@pytest.fixture
def broken(monkeypatch, fresh_reports):
    monkeypatch.setattr(tracing, "_tracer", _Broken())
    monkeypatch.setattr(tracing, "_decided", True)


def test_a_failing_tracer_never_fails_the_work_and_is_logged_once(broken, caplog):
    ran = []
    with caplog.at_level(logging.WARNING, "chalicelib.adapters.tracing"):
        for _ in range(3):
            with tracing.subsegment("accept_user_request", "op-1"):
                ran.append("work")
            tracing.annotate("op-1")
            assert tracing.trace_header() is None
            fresh = tracing.TraceHeader(f"1-{int(time.time()):08x}-{'a' * 24}", "b" * 16)
            with tracing.continued(str(fresh), "start_workflow", "op-1", "starter"):
                ran.append("continued")
    assert ran == ["work", "continued"] * 3
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 4, warnings  # each kind of failure once: 4 kinds, 3 rounds
    assert all("is not logged again" in w for w in warnings)


def test_the_works_own_exception_passes_through_a_failing_tracer(broken):
    with pytest.raises(KeyError), tracing.subsegment("step"):
        raise KeyError("the step's own error")


def test_off_records_nothing_and_imports_no_tracer(monkeypatch):
    monkeypatch.setenv("TRACER", "off")
    tracing.reset()
    try:
        assert tracing.active() is None
        with tracing.continued(HEADER, "start_workflow", "op-1", "starter"):
            assert tracing.trace_header() is None
    finally:
        tracing.reset()


def test_an_unknown_tracer_is_off():
    assert tracing.TRACERS == ("xray", "otel", "off")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACER", "zipkin")
        assert tracing.tracer_name() == "off"


def test_the_x_ray_emitter_drops_what_it_cannot_send_and_says_so_once(fresh_reports, caplog):
    from chalicelib.adapters.tracing_xray import Emitter
    from local.process.child import free_port

    class Entity:
        def __init__(self, text: str) -> None:
            self.text = text

        def serialize(self) -> str:
            return self.text

    emitter = Emitter()
    emitter.set_daemon_address(f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}")  # nobody listens
    with caplog.at_level(logging.WARNING, "chalicelib.adapters.tracing"):
        for _ in range(3):
            emitter.send_entity(Entity('{"id": "a", "note": "' + "x" * 70_000 + '"}'))
            emitter.send_entity(Entity('{"id": "b"}'))  # to a daemon that is down: dropped
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "tracing: sending a segment to the X-Ray daemon failed (ValueError: a segment document "
        "of 70023 bytes (over 64 KB))"
    ]
    sent: list[Any] = []
    emitter.deliver = sent.append
    emitter.send_entity(Entity('{"email": "ada@example.org"}'))
    assert sent == ['{"email": "<email>"}']  # nothing personal leaves
