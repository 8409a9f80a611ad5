"""OpenTelemetry spans into X-Ray segments: what the local stack does with the spans of a stage
that traces with OpenTelemetry (the emulated ADOT layer's, in process: local/aws/otel_layer.py)
and with OTLP sent to it (HTTP, JSON or protobuf, on 127.0.0.1:4318: `Receiver`), so that both
tracers land in the one trace store and draw the same timeline.

The mapping follows the X-Ray exporters' (the ADOT collector's awsxray exporter):
- the trace id is X-Ray's: `1-<first 8 hex>-<last 24 hex>` of the 128-bit id;
- a span with an `aws.origin` attribute (the segment a function writes in another trace:
  chalicelib/adapters/tracing_otel.py), or with no parent, is a segment named after it (or, with
  no origin, after the resource's `service.name`); every other span is a subsegment of its
  parent, sent on its own as the X-Ray SDK streams them;
- an AWS SDK call (`rpc.system` = `aws-api`) is an `aws` subsegment named like the X-Ray SDK's
  (the service's endpoint prefix: dynamodb, kinesis, states...), with its operation;
- the attributes that `aws.xray.annotations` lists are annotations; `rpc.*` and `aws.*`
  attributes are metadata (redacted); links are metadata under `links`, keyed by their `link`
  attribute, as the X-Ray tracer writes them;
- an ERROR status is a fault, with the `exception` events as the cause.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalicelib.adapters.logs import redact

logger = logging.getLogger(__name__)
DEFAULT_PORT = 4318
TRACES_PATH = "/v1/traces"
ANNOTATIONS = "aws.xray.annotations"
ORIGIN = "aws.origin"
KIND_SERVER, KIND_CONSUMER = 2, 5
STATUS_ERROR = 2
# rpc.service (botocore's service id) -> the endpoint prefix the X-Ray SDK names its subsegments by
_ENDPOINT_PREFIX = {"sfn": "states", "cloudwatch logs": "logs", "eventbridge": "events"}
Sink = Callable[[str], object]


@dataclasses.dataclass(frozen=True)
class Span:
    """A span, from the SDK or from OTLP, as the conversion reads it."""

    trace_id: str  # 32 hex
    span_id: str  # 16 hex
    parent_id: str | None
    name: str
    kind: int  # OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    error: bool
    events: list[tuple[str, dict[str, Any]]]
    links: list[tuple[str, str, dict[str, Any]]]  # (trace id, span id, attributes)
    service: str | None  # the resource's service.name


def xray_trace_id(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def segment_document(span: Span) -> dict[str, Any]:
    """The X-Ray document for one span."""
    attributes = span.attributes
    document: dict[str, Any] = {
        "id": span.span_id,
        "name": span.name,
        "trace_id": xray_trace_id(span.trace_id),
        "start_time": span.start_ns / 1e9,
        "end_time": span.end_ns / 1e9,
    }
    if span.parent_id:
        document["parent_id"] = span.parent_id
    origin = attributes.get(ORIGIN)
    if origin or not span.parent_id:
        if origin:
            document["origin"] = origin
        else:
            document["name"] = span.service or span.name
    else:
        document["type"] = "subsegment"
        document["namespace"] = "local"
        if attributes.get("rpc.system") == "aws-api":
            service = str(attributes.get("rpc.service", "aws")).lower()
            document["name"] = _ENDPOINT_PREFIX.get(service, service)
            document["namespace"] = "aws"
            document["aws"] = {
                "operation": attributes.get("rpc.method"),
                "region": attributes.get("cloud.region"),
                "request_id": attributes.get("aws.request_id"),
            }
    status = attributes.get("http.response.status_code", attributes.get("http.status_code"))
    if isinstance(status, int):
        document["http"] = {"response": {"status": status}}
    keys = attributes.get(ANNOTATIONS) or ()
    annotations = {
        key: attributes[key]
        for key in keys
        if key in attributes and isinstance(attributes[key], str | int | float | bool)
    }
    if annotations:
        document["annotations"] = annotations
    metadata = {
        key: redact(str(value)) if isinstance(value, str) else value
        for key, value in attributes.items()
        if key.startswith(("rpc.", "aws.")) and key not in (ANNOTATIONS, ORIGIN)
    }
    links = {
        str(link_attributes.get("link", f"link{index}")): {
            "trace_id": xray_trace_id(trace_id),
            "id": span_id,
        }
        for index, (trace_id, span_id, link_attributes) in enumerate(span.links)
    }
    if metadata or links:
        document["metadata"] = {
            **({"default": metadata} if metadata else {}),
            **({"links": links} if links else {}),
        }
    if span.error:
        document["fault"] = True
        exceptions = [
            {
                "type": str(event.get("exception.type", "Error")),
                "message": redact(str(event.get("exception.message", ""))),
            }
            for name, event in span.events
            if name == "exception"
        ]
        document["cause"] = {"exceptions": exceptions or [{"type": "Error", "message": ""}]}
    return document


def deliver(spans: Iterable[Span], sink: Sink) -> int:
    """Each span's document into the sink (the trace store); how many it refused."""
    refused = 0
    for span in spans:
        try:
            sink(json.dumps(segment_document(span), separators=(",", ":")))
        except ValueError:  # the store's BadSegment
            refused += 1
    return refused


# ---- OTLP/HTTP ------------------------------------------------------------------------------


def _value(value: dict[str, Any]) -> Any:
    """An OTLP/JSON AnyValue."""
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _attributes(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in items}


def spans_from_json(body: Any) -> list[Span]:
    """The spans of an OTLP/JSON ExportTraceServiceRequest (ids in hex, as OTLP/JSON has them)."""
    spans = []
    for resource_spans in body.get("resourceSpans", []):
        resource = _attributes(resource_spans.get("resource", {}).get("attributes", []))
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                attributes = _attributes(span.get("attributes", []))
                spans.append(
                    Span(
                        trace_id=span["traceId"].lower(),
                        span_id=span["spanId"].lower(),
                        parent_id=(span.get("parentSpanId") or "").lower() or None,
                        name=span["name"],
                        kind=int(span.get("kind", 1)),
                        start_ns=int(span["startTimeUnixNano"]),
                        end_ns=int(span["endTimeUnixNano"]),
                        attributes=attributes,
                        error=int((span.get("status") or {}).get("code", 0)) == STATUS_ERROR,
                        events=[
                            (event["name"], _attributes(event.get("attributes", [])))
                            for event in span.get("events", [])
                        ],
                        links=[
                            (
                                link["traceId"].lower(),
                                link["spanId"].lower(),
                                _attributes(link.get("attributes", [])),
                            )
                            for link in span.get("links", [])
                        ],
                        service=resource.get("service.name"),
                    )
                )
    return spans


def spans_from_protobuf(data: bytes) -> list[Span]:
    """The spans of an OTLP/protobuf ExportTraceServiceRequest."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    request.ParseFromString(data)
    # Protobuf's JSON mapping has OTLP/JSON's field names, bytes in base64 and enums by name.
    body = MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in body.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = _hex(span[key])
                for link in span.get("links", []):
                    link["traceId"], link["spanId"] = _hex(link["traceId"]), _hex(link["spanId"])
    return spans_from_json(body)


def _hex(b64: str) -> str:
    import base64

    return base64.b64decode(b64).hex()


class Receiver:
    """OTLP/HTTP on `host:port`: POST /v1/traces, JSON or protobuf; the spans into the sink."""

    def __init__(self, sink: Sink, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._post(self)

            def do_GET(self) -> None:
                self._refuse()

            do_PUT = do_DELETE = do_PATCH = do_GET

            def _refuse(self) -> None:
                status = 405 if self.path == TRACES_PATH else 404
                receiver._answer(self, status, {"message": "POST OTLP to /v1/traces"})

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.sink = sink
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.address = f"{host}:{self.server.server_address[1]}"
        self._reported: set[str] = set()
        self._lock = threading.Lock()

    def _post(self, request: BaseHTTPRequestHandler) -> None:
        if request.path != TRACES_PATH:
            self._answer(request, 404, {"message": f"no such path: {request.path}"})
            return
        length = request.headers.get("Content-Length", "0")
        body = request.rfile.read(int(length)) if length.isdigit() else b""
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            if content_type == "application/json":
                spans = spans_from_json(json.loads(body))
            elif content_type == "application/x-protobuf":
                spans = spans_from_protobuf(body)
            else:
                self._answer(
                    request, 415, {"message": "application/json or application/x-protobuf"}
                )
                return
        except Exception as error:  # a malformed export: refused, once logged
            self._once(f"unreadable OTLP ({type(error).__name__})", error)
            self._answer(request, 400, {"message": f"cannot read the export: {error}"})
            return
        refused = deliver(spans, self.sink)
        answer: dict[str, Any] = {}
        if refused:
            answer["partialSuccess"] = {
                "rejectedSpans": refused,
                "errorMessage": "spans X-Ray would refuse",
            }
        self._answer(request, 200, answer, protobuf=content_type == "application/x-protobuf")

    def _answer(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        protobuf: bool = False,
    ) -> None:
        if protobuf and status == 200:
            from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
                ExportTraceServiceResponse,
            )

            response = ExportTraceServiceResponse()
            if body.get("partialSuccess"):
                response.partial_success.rejected_spans = body["partialSuccess"]["rejectedSpans"]
                response.partial_success.error_message = body["partialSuccess"]["errorMessage"]
            payload, content_type = response.SerializeToString(), "application/x-protobuf"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def _once(self, what: str, error: Exception) -> None:
        with self._lock:
            if what in self._reported:
                return
            self._reported.add(what)
        logger.warning("OTLP receiver: %s: %s; later ones like it are not logged", what, error)

    def serve_forever(self) -> None:
        # Told to stop, it stops within 50 ms (socketserver's default, 0.5 s, is a wait on
        # each Ctrl-C and each test's teardown).
        self.server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
