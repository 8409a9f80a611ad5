"""The X-Ray SDK behind chalicelib/adapters/tracing.py (imported only when the stage traces with
X-Ray); nothing else in the app knows it.

In Lambda the function cannot own a segment: Lambda records the function's segment and hands
the invocation's trace header to the SDK, whose facade segment takes the function's
subsegments, each sent on its own as it closes. This context does what the SDK's LambdaContext
does, with three differences:
- the trace header is the invocation's (tracing.invocation) where the runtime does not set
  _X_AMZN_TRACE_ID (the local stack runs many invocations in one process);
- a new header, not only a new root, starts a new facade (two invocations of one trace in one
  process no longer share one);
- a continuation (tracing.continued) makes a segment of another trace the current entity for
  a while, so that the AWS calls made in it (StartExecution among them, whose X-Amzn-Trace-Id
  header Step Functions prefers to the body's traceHeader) belong to the operation's trace.
The emitter sends what the SDK's UDP emitter sends, with e-mail addresses redacted, and drops
what it cannot send after logging it once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import botocore.client
import wrapt
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.emitters.udp_emitter import PROTOCOL_DELIMITER, PROTOCOL_HEADER, UDPEmitter
from aws_xray_sdk.core.lambda_launcher import LambdaContext
from aws_xray_sdk.core.models.dummy_entities import DummySegment
from aws_xray_sdk.core.models.segment import Segment
from aws_xray_sdk.core.models.trace_header import TraceHeader as SdkHeader
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler
from aws_xray_sdk.ext.boto_utils import aws_meta_processor, inject_header

from chalicelib.adapters.logs import redact
from chalicelib.adapters.tracing_common import ANNOTATION, TraceHeader, failed

MAX_DOCUMENT_BYTES = 64 * 1024  # X-Ray's limit for one segment document
LINKS = "links"  # the metadata namespace that names the other side of a continuation
_UNSET = object()


class Emitter(UDPEmitter):  # type: ignore[misc]
    """The SDK's UDP emitter: redacts e-mail addresses, drops an oversized document, and logs
    a failure once instead of a stack trace per document. `deliver`, when set, takes the
    documents instead of the daemon (the local stack's in-process collector)."""

    deliver: Callable[[str], object] | None = None

    def send_entity(self, entity: Any) -> None:
        try:
            document = redact(entity.serialize())
            if len(document) > MAX_DOCUMENT_BYTES:
                raise ValueError(f"a segment document of {len(document)} bytes (over 64 KB)")
            if self.deliver is not None:
                self.deliver(document)
            else:
                self._send_data(f"{PROTOCOL_HEADER}{PROTOCOL_DELIMITER}{document}")
        except Exception as error:
            failed("sending a segment to the X-Ray daemon", error)


class InvocationContext(LambdaContext):  # type: ignore[misc]
    def __init__(self, header: contextvars.ContextVar[str | None]) -> None:
        super().__init__()
        self._header = header

    def _refresh_context(self) -> None:
        header = self._header.get() or os.environ.get("_X_AMZN_TRACE_ID")
        if getattr(self._local, "header", _UNSET) != header:
            self._local.header = header
            self._local.continued = []
            self._initialize_context(SdkHeader.from_header_str(header))

    def in_invocation(self) -> bool:
        """Whether code runs in an invocation (sampled or not): outside one (the local stack's
        own AWS calls) there is nothing to record, and no header to pass on."""
        continued = self._continued()
        return bool(continued) or not isinstance(super().get_trace_entity(), DummySegment)

    def _continued(self) -> list[Any]:
        self._refresh_context()
        continued: list[Any] = self._local.continued
        return continued

    def get_trace_entity(self) -> Any:
        continued = self._continued()
        return continued[-1] if continued else super().get_trace_entity()

    def put_subsegment(self, subsegment: Any) -> None:
        continued = self._continued()
        if not continued:
            entity = super().get_trace_entity()
            if not self._is_subsegment(entity) and (
                isinstance(entity, DummySegment) or getattr(entity, "initializing", False)
            ):
                return  # outside an invocation nothing is traced: nothing to warn about
            super().put_subsegment(subsegment)
            return
        continued[-1].add_subsegment(subsegment)
        continued.append(subsegment)

    def end_subsegment(self, end_time: float | None = None) -> bool:
        continued = self._continued()
        if not continued:
            return bool(super().end_subsegment(end_time))
        if len(continued) == 1:  # the continuation's segment itself: continued() ends it
            return False
        continued.pop().close(end_time)
        return True

    @contextlib.contextmanager
    def continuing(self, segment: Any) -> Iterator[None]:
        continued = self._continued()
        continued.append(segment)
        try:
            yield
        finally:
            del continued[continued.index(segment) :]


def _patch_botocore(context: InvocationContext) -> None:
    """Every AWS call in an invocation becomes a subsegment and carries the trace header: the
    SDK's botocore patch (aws_xray_sdk.ext.botocore), from its own parts, skipping the calls
    made outside any invocation (in the local stack, the emulator's own: a third of a
    pipeline's calls, each ~0.1 ms through the SDK for nothing)."""
    if getattr(botocore.client, "_tracing_xray", False):
        return
    botocore.client._tracing_xray = True  # type: ignore[attr-defined]

    def api_call(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if not context.in_invocation():
            return wrapped(*args, **kwargs)
        service = instance._service_model.metadata["endpointPrefix"]
        return xray_recorder.record_subsegment(
            wrapped, instance, args, kwargs, service, "aws", aws_meta_processor
        )

    def prepare_request(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if not context.in_invocation():
            return wrapped(*args, **kwargs)
        return inject_header(wrapped, instance, args, kwargs)

    wrapt.wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", api_call)
    wrapt.wrap_function_wrapper("botocore.endpoint", "Endpoint.prepare_request", prepare_request)


class XRayTracer:
    def __init__(self, header: contextvars.ContextVar[str | None]) -> None:
        self.context = InvocationContext(header)
        self.emitter = Emitter()
        xray_recorder.configure(
            context=self.context,
            emitter=self.emitter,
            daemon_address=os.environ.get("AWS_XRAY_DAEMON_ADDRESS"),
            # Lambda's part: the sampling decision arrives in the invocation's header.
            sampler=LocalSampler(),
            streaming_threshold=0,
            context_missing="IGNORE_ERROR",
        )
        logging.getLogger("aws_xray_sdk").setLevel(logging.WARNING)
        _patch_botocore(self.context)

    def subsegment(self, name: str, operation_id: str | None) -> Any:
        return self._subsegment(name, operation_id)

    @contextlib.contextmanager
    def _subsegment(self, name: str, operation_id: str | None) -> Iterator[Any]:
        with xray_recorder.in_subsegment(name) as entity:
            if operation_id and entity is not None:
                entity.put_annotation(ANNOTATION, operation_id)
            yield entity

    def annotate(self, operation_id: str) -> None:
        entity = xray_recorder.current_subsegment()
        if entity is not None:
            entity.put_annotation(ANNOTATION, operation_id)

    def trace_header(self) -> TraceHeader | None:
        entity = xray_recorder.get_trace_entity()
        if entity is None or not entity.sampled:  # an unsampled trace is not continued
            return None
        return TraceHeader.parse(f"Root={entity.trace_id};Parent={entity.id}")

    @contextlib.contextmanager
    def continued(
        self, header: TraceHeader, name: str, operation_id: str, service: str
    ) -> Iterator[None]:
        with self._subsegment(name, operation_id) as here:
            # The operation's trace is sampled (its header says so) whether or not this
            # invocation's is: the work joins it either way; the link back needs both.
            there = Segment(service, traceid=header.root, parent_id=header.parent)
            there.origin = "AWS::Lambda::Function"
            if here is not None and here.sampled:
                there.put_metadata("invocation", {"trace_id": here.trace_id, "id": here.id}, LINKS)
                here.put_metadata("operation", {"trace_id": there.trace_id, "id": there.id}, LINKS)
            try:
                with self.context.continuing(there), self._subsegment(name, operation_id):
                    yield
            finally:
                there.close()
                self.emitter.send_entity(there)
