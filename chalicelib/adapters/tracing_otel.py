"""OpenTelemetry's API behind chalicelib/adapters/tracing.py (imported only when the stage traces
with `TRACER=otel`); nothing else in the app knows it.

Only the API is used: on AWS the ADOT Lambda layer (AWSOpenTelemetryDistroPython, started by
AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-instrument) brings the SDK, the invocation's span, the
botocore instrumentation and the export to X-Ray; locally the emulator plays that layer
(local/aws/otel_layer.py). The spans have the X-Ray tracer's names and annotation, and the
trace context crosses the stream and StartExecution as the same X-Ray trace header, so both
tracers draw the same trace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from chalicelib.adapters.logs import redact
from chalicelib.adapters.tracing_common import ANNOTATION, TraceHeader

# The X-Ray exporters index the attributes this one lists as annotations; the rest are metadata.
XRAY_ANNOTATIONS = "aws.xray.annotations"
ORIGIN = "aws.origin"  # what the local stack's converter names a segment's origin by
SCOPE = "user-service"


def _annotated(operation_id: str | None) -> dict[str, Any]:
    if not operation_id:
        return {}
    return {ANNOTATION: operation_id, XRAY_ANNOTATIONS: [ANNOTATION]}


def header_of(context: SpanContext) -> TraceHeader | None:
    """An X-Ray trace header for a sampled span context (X-Ray's trace id is the 128 bits of
    the span context's, split after the first 32: its epoch seconds)."""
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    hexed = format(context.trace_id, "032x")
    return TraceHeader(f"1-{hexed[:8]}-{hexed[8:]}", format(context.span_id, "016x"))


def context_of(header: TraceHeader) -> SpanContext:
    """The remote span context an X-Ray trace header names."""
    assert header.parent is not None
    return SpanContext(
        trace_id=int(header.root[2:].replace("-", ""), 16),
        span_id=int(header.parent, 16),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if header.sampled else TraceFlags.DEFAULT),
    )


class OTelTracer:
    def __init__(self) -> None:
        self._tracer = trace.get_tracer(SCOPE)

    @contextlib.contextmanager
    def subsegment(self, name: str, operation_id: str | None) -> Iterator[trace.Span]:
        with self._tracer.start_as_current_span(
            name,
            attributes=_annotated(operation_id),
            # Recorded here, redacted: an exception's message may quote input.
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as error:
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.add_event(
                    "exception",
                    {
                        "exception.type": type(error).__name__,
                        "exception.message": redact(str(error)),
                    },
                )
                raise

    def annotate(self, operation_id: str) -> None:
        trace.get_current_span().set_attributes(_annotated(operation_id))

    def trace_header(self) -> TraceHeader | None:
        return header_of(trace.get_current_span().get_span_context())

    @contextlib.contextmanager
    def continued(
        self, header: TraceHeader, name: str, operation_id: str, service: str
    ) -> Iterator[None]:
        with self.subsegment(name, operation_id) as here:
            remote = trace.set_span_in_context(NonRecordingSpan(context_of(header)))
            with self._tracer.start_as_current_span(
                service,
                context=remote,
                kind=SpanKind.CONSUMER,
                links=[Link(here.get_span_context(), {"link": "invocation"})],
                attributes={ORIGIN: "AWS::Lambda::Function"},
            ) as there:
                here.add_link(there.get_span_context(), {"link": "operation"})
                with self.subsegment(name, operation_id):
                    yield
