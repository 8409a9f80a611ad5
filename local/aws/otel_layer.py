"""The ADOT Lambda layer's part, for a stage that traces with OpenTelemetry (`TRACER=otel`).

On AWS, `AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-instrument` starts the layer
(AWSOpenTelemetryDistroPython) before the handler: it installs the SDK's tracer provider with
X-Ray-compatible trace ids, instruments botocore (AWS calls become spans, and carry the
X-Amzn-Trace-Id header), makes each invocation's trace header (_X_AMZN_TRACE_ID) the parent
context, and exports the spans to X-Ray. Here: the same provider, id format and botocore
instrumentation, the invocation's header as parent (a context variable, so concurrent
invocations stay apart), and the spans turned into segments in process (local/aws/otlp.py).

Not as on AWS: the layer's own span for the handler is left out, so that the function's spans
hang under Lambda's Invocation subsegment as the X-Ray SDK's do and both tracers draw the same
tree. The provider is the process's (OpenTelemetry allows one): installed once, its exports go
to whichever trace store the running emulator has.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import NonRecordingSpan, StatusCode

from chalicelib.adapters import tracing
from chalicelib.adapters.tracing_otel import context_of
from local.aws.otlp import Sink, Span, deliver


class XRayIdGenerator(IdGenerator):
    """Trace ids X-Ray takes: the first 32 bits are the epoch seconds."""

    def generate_span_id(self) -> int:
        return random.getrandbits(64)

    def generate_trace_id(self) -> int:
        return (int(time.time()) << 96) | random.getrandbits(96)


def _span(span: ReadableSpan) -> Span:
    context = span.get_span_context()
    assert context is not None
    parent = span.parent
    return Span(
        trace_id=format(context.trace_id, "032x"),
        span_id=format(context.span_id, "016x"),
        parent_id=format(parent.span_id, "016x") if parent is not None else None,
        name=span.name,
        kind=span.kind.value + 1,  # the SDK counts from 0, OTLP from 1 (0 is unspecified)
        start_ns=span.start_time or 0,
        end_ns=span.end_time or span.start_time or 0,
        attributes=dict(span.attributes or {}),
        error=span.status.status_code is StatusCode.ERROR,
        events=[(event.name, dict(event.attributes or {})) for event in span.events],
        links=[
            (
                format(link.context.trace_id, "032x"),
                format(link.context.span_id, "016x"),
                dict(link.attributes or {}),
            )
            for link in span.links
        ],
        service=str(span.resource.attributes.get("service.name", "")) or None,
    )


class _ToStore(SpanExporter):
    """Exports to the running emulator's trace store, if any."""

    sink: Sink | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        sink = self.sink
        if sink is not None:
            try:
                deliver((_span(span) for span in spans), sink)
            except Exception as error:  # tracing never fails the work it records
                tracing.failed("exporting spans", error)
        return SpanExportResult.SUCCESS


class Layer:
    def __init__(self) -> None:
        self.exporter = _ToStore()
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": os.environ.get("APP_NAME", "user-service")}),
            id_generator=XRayIdGenerator(),
        )
        # Exported as each span ends, in process: no batching thread to wait for.
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    @contextlib.contextmanager
    def invocation(self, header: str) -> Iterator[None]:
        """The invocation's trace header as the parent of the function's spans."""
        parsed = tracing.TraceHeader.parse(header)
        parent: Any = (
            trace.set_span_in_context(NonRecordingSpan(context_of(parsed)))
            if parsed is not None and parsed.parent
            else otel_context.Context()
        )
        token = otel_context.attach(parent)
        try:
            yield
        finally:
            otel_context.detach(token)


_layer: Layer | None = None
_lock = threading.Lock()


@contextlib.contextmanager
def installed(sink: Sink) -> Iterator[Layer]:
    """The layer, its spans going into `sink` (the trace store) while the block runs, and
    botocore instrumented meanwhile."""
    global _layer
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    with _lock:
        if _layer is None:
            _layer = Layer()
            trace.set_tracer_provider(_layer.provider)
        layer = _layer
    layer.exporter.sink = sink
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument(tracer_provider=layer.provider)
    try:
        yield layer
    finally:
        instrumentor.uninstrument()
        layer.exporter.sink = None
