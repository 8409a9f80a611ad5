"""OpenTelemetry as the tracer (`TRACER=otel`): the functions traced through OpenTelemetry's API,
the ADOT layer's part played by the emulator (local/aws/otel_layer.py), the same trace as with
the X-Ray SDK; and OTLP/HTTP received (JSON and protobuf) into the same trace store."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from local.aws.otlp import Receiver
from local.aws.xray_daemon import TraceStore
from tests.conftest import running_stack
from tests.e2e.test_traces import _entities, _path, traces_of
from tests.helpers import body, operation, post_user

pytestmark = pytest.mark.e2e


@pytest.fixture
def otel_stack(monkeypatch) -> Iterator:
    monkeypatch.setenv("TRACER", "otel")
    with running_stack(trace_all=True) as emulator:
        yield emulator


def _shape(stack) -> set[tuple[str, ...]]:
    """Every path from a trace's root to a segment or subsegment, by name, of one operation's
    traces (the account lookup the first StartExecution of a process makes left out)."""
    operation_id = body(post_user(stack.client, "ada@example.org"))["id"]
    stack.drain()
    assert operation(stack.client, operation_id)["status"] == "SUCCEEDED"
    paths = set()
    for trace in traces_of(operation_id):
        entities = _entities(trace)
        assert all(parent is None or parent in entities for _, parent in entities.values())
        paths |= {tuple(_path(entities, key)) for key in entities}
    return {path for path in paths if "sts" not in path}


def test_open_telemetry_draws_the_same_trace_as_the_x_ray_sdk(monkeypatch):
    monkeypatch.setenv("TRACER", "xray")
    with running_stack(trace_all=True) as xray:
        with_xray = _shape(xray)
    monkeypatch.setenv("TRACER", "otel")  # the same operation, traced through OpenTelemetry
    with running_stack(trace_all=True) as otel:
        with_otel = _shape(otel)
    assert with_otel == with_xray
    assert any(path[-1] == "user-service-test-workflow" for path in with_otel)
    assert len(with_otel) > 30


def test_the_spans_carry_the_annotation_and_the_links(otel_stack):
    operation_id = body(post_user(otel_stack.client, "ada@example.org"))["id"]
    otel_stack.drain()
    documents = [d for trace in traces_of(operation_id) for d in trace]
    text = json.dumps(documents)
    assert "ada@example.org" not in text
    entities = {k: e for trace in traces_of(operation_id) for k, (e, _) in _entities(trace).items()}
    starts = [e for e in entities.values() if e["name"] == "start_workflow"]
    assert len(starts) == 2  # in the operation's trace, and in the starter's invocation
    assert all(e["annotations"] == {"operation_id": operation_id} for e in starts)
    linked = [e for e in entities.values() if (e.get("metadata") or {}).get("links")]
    assert {next(iter(e["metadata"]["links"])) for e in linked} == {"operation", "invocation"}


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, TraceStore]]:
    import threading

    store = TraceStore()
    receiver = Receiver(store.put, port=0)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    yield receiver, store
    receiver.stop()


SPAN = {
    "traceId": "6b00000001234567890abcdef0123456",
    "spanId": "1111111111111111",
    "name": "user-service-dev-starter",
    "kind": 2,
    "startTimeUnixNano": "1700000000000000000",
    "endTimeUnixNano": "1700000000500000000",
    "attributes": [{"key": "operation_id", "value": {"stringValue": "op-1"}}],
}


def _export(span: dict) -> dict:
    return {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [span]}]}]}


def test_otlp_json_and_protobuf_are_received_into_the_trace_store(receiver):
    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    server, store = receiver
    url = f"http://{server.address}/v1/traces"
    answer = requests.post(url, json=_export(SPAN), timeout=5)
    assert answer.status_code == 200 and answer.json() == {}
    # Protobuf: the same span with other ids (bytes in protobuf's JSON mapping are base64).
    import base64

    other = SPAN | {
        "traceId": base64.b64encode(bytes.fromhex("6b000001" + "ab" * 12)).decode(),
        "spanId": base64.b64encode(bytes.fromhex("22" * 8)).decode(),
    }
    message = ParseDict(_export(other), ExportTraceServiceRequest())
    answer = requests.post(
        url,
        data=message.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=5,
    )
    assert answer.status_code == 200
    ExportTraceServiceResponse().ParseFromString(answer.content)
    found, missing = store.traces(
        ["1-6b000000-01234567890abcdef0123456", "1-6b000001-" + "ab" * 12]
    )
    assert not missing
    assert [json.loads(t["Segments"][0]["Document"])["name"] for t in found] == [
        "user-service-dev-starter",
        "user-service-dev-starter",
    ]


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        (("POST", "/v1/traces", b"{not json", "application/json"), 400),
        (("POST", "/v1/traces", b"\x00\xff", "application/x-protobuf"), 400),
        (("POST", "/v1/traces", b"{}", "text/plain"), 415),
        (("GET", "/v1/traces", b"", "application/json"), 405),
        (("POST", "/v1/metrics", b"{}", "application/json"), 404),
    ],
)
def test_what_is_not_an_otlp_trace_export_is_refused(receiver, sent, status):
    server, store = receiver
    method, path, data, content_type = sent
    answer = requests.request(
        method,
        f"http://{server.address}{path}",
        data=data,
        headers={"Content-Type": content_type},
        timeout=5,
    )
    assert answer.status_code == status
    assert len(store) == 0
