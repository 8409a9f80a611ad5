"""The local X-Ray: the trace store (local/aws/xray_daemon.py), its filter expressions
(local/aws/xray_filters.py), the daemon's datagrams, OTLP spans as segments (local/aws/otlp.py)
and the console's timeline (local/console/timeline.py), on documents made here."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from local.aws import otlp
from local.aws.xray_daemon import BadSegment, Daemon, TraceStore, compile_segments
from local.aws.xray_filters import UnsupportedFilter, compile_filter
from local.console.timeline import timeline

pytestmark = pytest.mark.unit
TRACE = "1-6b000000-0123456789abcdef01234567"
OTHER = "1-6b000001-0123456789abcdef01234567"


def _segment(trace: str, segment_id: str, name: str, start: float, end: float, **extra) -> str:
    return json.dumps(
        {"trace_id": trace, "id": segment_id, "name": name, "start_time": start, "end_time": end}
        | extra
    )


@pytest.fixture
def store() -> TraceStore:
    store = TraceStore(keep=10)
    store.put(
        _segment(
            TRACE,
            "a" * 16,
            "user-service/api",
            100.0,
            100.5,
            origin="AWS::ApiGateway::Stage",
            http={"request": {"method": "POST", "url": "/users"}, "response": {"status": 202}},
        )
    )
    store.put(
        json.dumps(
            {
                "trace_id": TRACE,
                "id": "b" * 16,
                "name": "accept_user_request",
                "type": "subsegment",
                "parent_id": "a" * 16,
                "start_time": 100.1,
                "end_time": 100.4,
                "annotations": {"operation_id": "op-1", "attempt": 2, "reviewed": False},
            }
        )
    )
    store.put(
        _segment(
            OTHER, "c" * 16, "user-service-starter", 101.0, 103.0, origin="AWS::Lambda", fault=True
        )
    )
    return store


def _ids(store: TraceStore, expression: str) -> set[str]:
    return {s["Id"] for s in store.summaries(0, 1e12, expression)}


@pytest.mark.parametrize(
    ("expression", "found"),
    [
        ('annotation.operation_id = "op-1"', {TRACE}),
        ('annotation[operation_id] = "op-1"', {TRACE}),
        ('annotation.operation_id != "op-1"', set()),
        ('annotation.operation_id BEGINSWITH "op-"', {TRACE}),
        ("annotation.attempt >= 2 AND annotation.reviewed = false", {TRACE}),
        ('annotation.operation_id = "op-2" OR fault', {OTHER}),
        ('NOT annotation.operation_id = "op-1"', {OTHER}),
        ('fault OR error AND annotation.operation_id = "op-1"', {OTHER}),  # AND first
        ("(fault OR error) AND duration < 1", set()),
        ("duration > 1", {OTHER}),
        ("responsetime < 1 && ok", {TRACE}),
        ('service("user-service/api")', {TRACE}),
        ('service("user-service-starter") { fault }', {OTHER}),
        ("http.status = 202", {TRACE}),
        ('http.url CONTAINS "users" AND http.method = "POST"', {TRACE}),
        ("fault = false", {TRACE}),
    ],
)
def test_filter_expressions_select_as_x_ray_does(store, expression, found):
    # https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html
    assert _ids(store, expression) == found


@pytest.mark.parametrize(
    "expression",
    [
        'edge("a", "b")',
        'id(name: "x")',
        "annotation.operation_id",
        'annotation.operation_id = "x" AND',
        "(fault",
        "rootcause.fault.entity { name = 'x' }",
        'annotation.x-y = "1"',
    ],
)
def test_what_is_not_evaluated_is_refused_not_guessed(expression):
    with pytest.raises(UnsupportedFilter):
        compile_filter(expression)


def test_a_summary_says_what_get_trace_summaries_does(store):
    (summary,) = store.summaries(0, 1e12, 'annotation.operation_id = "op-1"')
    assert summary["Annotations"]["operation_id"][0]["AnnotationValue"] == {"StringValue": "op-1"}
    assert summary["Http"] == {"HttpURL": "/users", "HttpStatus": 202, "HttpMethod": "POST"}
    assert summary["EntryPoint"]["Name"] == "user-service/api"
    assert summary["Duration"] == 0.5 and summary["ResponseTime"] == 0.5
    assert not summary["HasFault"] and not summary["IsPartial"]
    # The window is the trace id's time by default (TimeRangeType TraceId).
    assert store.summaries(0x6B000001, 0x6B000002) and not store.summaries(0, 100)


def test_a_segment_sent_again_replaces_the_first_and_subsegments_are_put_in_place(store):
    in_progress = json.loads(_segment(TRACE, "d" * 16, "workflow", 100.2, 0))
    del in_progress["end_time"]
    store.put(json.dumps(in_progress | {"in_progress": True, "parent_id": "b" * 16}))
    assert store.summaries(0, 1e12, "ok")[0]["IsPartial"]
    store.put(_segment(TRACE, "d" * 16, "workflow", 100.2, 100.9, parent_id="b" * 16))
    (found,), missing = store.traces([TRACE, "1-00000000-000000000000000000000000"])
    assert missing == ["1-00000000-000000000000000000000000"]
    documents = [json.loads(s["Document"]) for s in found["Segments"]]
    assert [d["name"] for d in documents] == ["user-service/api", "workflow"]
    assert documents[0]["subsegments"][0]["name"] == "accept_user_request"
    assert found["Duration"] == 0.9


@pytest.mark.parametrize(
    "document",
    ["not json", "[]", json.dumps({"id": "x", "name": "n", "trace_id": TRACE})],
)
def test_a_segment_x_ray_would_refuse_is_refused(document):
    store = TraceStore()
    assert store.put_all([document])[0]["ErrorCode"] in ("JSONFormatError", "MissingParam")
    with pytest.raises(BadSegment):
        store.put(document)


def test_the_store_keeps_the_newest_traces():
    store = TraceStore(keep=2)
    for n in range(3):
        store.put(_segment(f"1-6b00000{n}-0123456789abcdef01234567", f"{n:016x}", "s", 1, 2))
    assert len(store) == 2 and not store.traces(["1-6b000000-0123456789abcdef01234567"])[0]


def test_the_daemon_reads_datagrams_and_drops_what_it_cannot_read_logging_once(caplog):
    store = TraceStore()
    daemon = Daemon(store, port=0)
    try:
        with caplog.at_level(logging.WARNING, "local.aws.xray_daemon"):
            daemon.receive(
                b'{"format":"json","version":1}\n' + _segment(TRACE, "e" * 16, "s", 1, 2).encode()
            )
            for _ in range(3):
                daemon.receive(b"no header at all")
            daemon.receive(b'{"format":"json","version":1}\n{broken')
    finally:
        daemon.stop()
    assert len(store) == 1
    assert len(caplog.records) == 2  # a missing header, then bad JSON: each kind once


def test_a_daemon_serving_stops_without_a_word(caplog):
    """stop() wakes the blocked read with an empty datagram: that is no segment to drop."""
    daemon = Daemon(TraceStore(), port=0)
    serving = threading.Thread(target=daemon.serve_forever)
    serving.start()
    with caplog.at_level(logging.WARNING, "local.aws.xray_daemon"):
        daemon.stop()
        serving.join(timeout=5)
    assert not serving.is_alive()
    assert caplog.records == []


def test_compiling_leaves_a_subsegment_whose_parent_is_missing_as_it_came():
    orphan = json.dumps(
        {"trace_id": TRACE, "id": "f" * 16, "name": "x", "type": "subsegment",
         "parent_id": "9" * 16, "start_time": 1, "end_time": 2}
    )  # fmt: skip
    assert compile_segments([orphan]) == [json.loads(orphan)]


def _otlp_span(**overrides) -> dict:
    span = {
        "traceId": "6b00000001234567890abcdef0123456",
        "spanId": "1111111111111111",
        "parentSpanId": "2222222222222222",
        "name": "PutItem",
        "kind": 3,
        "startTimeUnixNano": "1000000000",
        "endTimeUnixNano": "1500000000",
        "attributes": [
            {"key": "rpc.system", "value": {"stringValue": "aws-api"}},
            {"key": "rpc.service", "value": {"stringValue": "DynamoDB"}},
            {"key": "rpc.method", "value": {"stringValue": "PutItem"}},
        ],
    }
    return span | overrides


def _export(*spans: dict) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeSpans": [{"spans": list(spans)}],
            }
        ]
    }


def test_an_aws_call_span_is_an_aws_subsegment_named_as_the_x_ray_sdk_names_it():
    (span,) = otlp.spans_from_json(_export(_otlp_span()))
    document = otlp.segment_document(span)
    assert document["trace_id"] == "1-6b000000-01234567890abcdef0123456"
    assert document["type"] == "subsegment" and document["parent_id"] == "2222222222222222"
    assert (document["name"], document["namespace"]) == ("dynamodb", "aws")
    assert document["aws"]["operation"] == "PutItem"
    assert (document["start_time"], document["end_time"]) == (1.0, 1.5)


def test_annotations_links_and_errors_carry_over_and_nothing_else_personal():
    exported = _otlp_span(
        name="start_workflow",
        kind=1,
        attributes=[
            {"key": "operation_id", "value": {"stringValue": "op-1"}},
            {
                "key": "aws.xray.annotations",
                "value": {"arrayValue": {"values": [{"stringValue": "operation_id"}]}},
            },
            {"key": "user.email", "value": {"stringValue": "ada@example.org"}},
        ],
        status={"code": 2},
        events=[
            {
                "name": "exception",
                "attributes": [
                    {"key": "exception.type", "value": {"stringValue": "KeyError"}},
                    {"key": "exception.message", "value": {"stringValue": "ada@example.org"}},
                ],
            }
        ],
        links=[
            {
                "traceId": "6b000001aaaaaaaaaaaaaaaaaaaaaaaa",
                "spanId": "3333333333333333",
                "attributes": [{"key": "link", "value": {"stringValue": "invocation"}}],
            }
        ],
    )
    document = otlp.segment_document(otlp.spans_from_json(_export(exported))[0])
    assert document["annotations"] == {"operation_id": "op-1"}
    assert document["metadata"] == {
        "links": {"invocation": {"trace_id": "1-6b000001-aaaaaaaaaaaaaaaaaaaaaaaa", "id": "3" * 16}}
    }
    assert document["fault"] and document["cause"]["exceptions"][0]["type"] == "KeyError"
    assert "ada@example.org" not in json.dumps(document)


def test_a_span_of_another_trace_with_an_origin_is_a_segment():
    span = _otlp_span(
        name="user-service-dev-starter",
        kind=5,
        attributes=[{"key": "aws.origin", "value": {"stringValue": "AWS::Lambda::Function"}}],
    )
    document = otlp.segment_document(otlp.spans_from_json(_export(span))[0])
    assert "type" not in document and document["origin"] == "AWS::Lambda::Function"
    assert document["parent_id"] == "2222222222222222"


def test_the_timeline_lays_out_the_tree_with_the_time_on_the_stream():
    documents = [
        {"trace_id": TRACE, "id": "a" * 16, "name": "user-service/api", "start_time": 10.0,
         "end_time": 10.2, "origin": "AWS::ApiGateway::Stage",
         "subsegments": [{"id": "b" * 16, "name": "accept_user_request", "start_time": 10.0,
                          "end_time": 10.2,
                          "subsegments": [{"id": "c" * 16, "name": "kinesis", "namespace": "aws",
                                           "start_time": 10.05, "end_time": 10.1,
                                           "aws": {"operation": "PutRecord"}}]}]},
        {"trace_id": TRACE, "id": "d" * 16, "name": "starter", "parent_id": "b" * 16,
         "origin": "AWS::Lambda::Function", "start_time": 10.3, "end_time": 10.4},
        {"trace_id": TRACE, "id": "e" * 16, "name": "workflow", "parent_id": "d" * 16,
         "origin": "AWS::StepFunctions::StateMachine", "start_time": 10.35, "in_progress": True},
    ]  # fmt: skip
    (laid,) = timeline("op-1", [documents])["traces"]
    assert laid["operation"] and laid["inProgress"] and laid["durationMs"] == 400.0
    rows = [(row["name"], row["kind"], row["depth"]) for row in laid["rows"]]
    assert rows == [
        ("user-service/api", "api", 0),
        ("accept_user_request", "local", 1),
        ("kinesis", "aws", 2),
        ("Kinesis", "stream", 2),
        ("starter", "function", 2),
        ("workflow", "workflow", 3),
    ]
    stream = laid["rows"][3]
    assert (stream["startMs"], stream["durationMs"]) == (100.0, 200.0)  # PutRecord's end → starter
    assert laid["rows"][-1]["durationMs"] is None


def test_sampling_follows_x_rays_default_rule(monkeypatch):
    # https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html: a reservoir
    # of one a second, then a fixed rate of 5%.
    import random

    from local.aws import trace_segments
    from local.aws.trace_segments import Sampler

    now = [1_800_000_000.2]
    monkeypatch.setattr(trace_segments.time, "time", lambda: now[0])
    sampler = Sampler()
    monkeypatch.setattr(random, "random", lambda: 0.5)  # above 5%: not sampled
    assert [sampler.sample() for _ in range(3)] == [True, False, False]
    monkeypatch.setattr(random, "random", lambda: 0.01)  # within 5%
    assert sampler.sample()
    now[0] += 1
    monkeypatch.setattr(random, "random", lambda: 0.5)
    assert [sampler.sample() for _ in range(2)] == [True, False]
    assert all(Sampler(every=True).sample() for _ in range(5))


def test_the_consoles_trace_route_says_when_x_ray_refuses(caplog):
    from botocore.exceptions import ClientError

    from local.console.routes import Console

    class Refusing:
        def of(self, operation_id):
            error: Any = {"Error": {"Code": "InternalFailure", "Message": "stopping"}}
            raise ClientError(error, "GetTraceSummaries")

    console = Console(None, None, {"stage": "test"}, dict, timelines=Refusing())  # type: ignore[arg-type]
    reply = console.answer("GET", "/_local/api/executions/op-1/trace", {})
    assert reply.status == 503
    assert json.loads(reply.body)["detail"] == "X-Ray answered InternalFailure"
    assert not [r for r in caplog.records if r.exc_info]  # said, without a traceback
