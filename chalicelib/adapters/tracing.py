"""Tracing, behind one module: the rest of the app names units of work and passes trace context
along; which tracer records them is chosen here, per stage.

`TRACER` (.chalice/config.json, per stage): `xray` (the default) records through the AWS X-Ray
SDK, on while an X-Ray daemon is there to send to (`AWS_XRAY_DAEMON_ADDRESS`: Lambda sets it
when active tracing is on; the local stack sets it too); `otel` records through OpenTelemetry's
API (on AWS the ADOT Lambda layer brings the SDK and exports to X-Ray); `off` records nothing.
Nothing of either tracer is imported until the first traced call, and never when off.

The trace shape is the same with both (docs/tracing.md): the units of work are named
(`accept_user_request`, `start_workflow`, one per step function) and annotated with
`operation_id`, the one annotation (nothing personal: no email, never a task token); the trace
context travels as an X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`), in the stream's record
and in StartExecution's `traceHeader`.

Tracing never fails the work it records: a tracer that cannot be loaded, a daemon that is down,
a full send buffer, a document it cannot build is logged once (per kind of failure) and dropped.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from chalicelib.adapters.tracing_common import ANNOTATION, TraceHeader, failed

__all__ = ["ANNOTATION", "TraceHeader", "failed"]  # shared with the tracers, and with local/

TRACERS = ("xray", "otel", "off")
# X-Ray adds documents to a trace for up to 7 days
# (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html):
# a record replayed later starts its workflow in a trace of its own.
TRACE_OPEN_SECONDS = 7 * 24 * 3600
# The invocation's trace header, where the Lambda runtime does not set _X_AMZN_TRACE_ID
# (Lambda runs one invocation at a time per process and sets it before each; the local stack
# runs many at once in one process and hands each its own: local/aws/lambda_runtime.py).
_invocation_header: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "invocation_trace_header", default=None
)


class Tracer(Protocol):
    """What a tracer does for this module (tracing_xray.XRayTracer, tracing_otel.OTelTracer)."""

    def subsegment(
        self, name: str, operation_id: str | None
    ) -> contextlib.AbstractContextManager[Any]:
        """A named unit of work inside the current one, annotated with the operation id."""
        ...

    def annotate(self, operation_id: str) -> None:
        """Annotates the current unit of work with the operation id."""
        ...

    def trace_header(self) -> TraceHeader | None:
        """The current unit of work's trace context."""
        ...

    def continued(
        self, header: TraceHeader, name: str, operation_id: str, service: str
    ) -> contextlib.AbstractContextManager[Any]:
        """Work for an operation, recorded in the operation's trace (the one `header` names) as
        `service`'s segment with `name` inside it, and in the current invocation's trace as a
        `name` subsegment; each names the other (links)."""
        ...


_tracer: Tracer | None = None
_decided = False
_decide_lock = threading.Lock()


def tracer_name() -> str:
    name = os.environ.get("TRACER", "xray").strip().lower() or "xray"
    return name if name in TRACERS else "off"


def active() -> Tracer | None:
    """The stage's tracer, loaded on first use; None when tracing is off."""
    global _tracer, _decided
    if _decided:
        return _tracer
    with _decide_lock:
        if not _decided:
            _tracer = _load(tracer_name())
            _decided = True
    return _tracer


def _load(name: str) -> Tracer | None:
    try:
        if name == "xray" and os.environ.get("AWS_XRAY_DAEMON_ADDRESS"):
            from chalicelib.adapters.tracing_xray import XRayTracer

            return XRayTracer(_invocation_header)
        if name == "otel":
            from chalicelib.adapters.tracing_otel import OTelTracer

            return OTelTracer()
    except Exception as error:
        failed(f"loading the {name} tracer", error)
    return None


def reset() -> None:
    """Decide again at the next traced call (after the environment changed: tests, the local
    stack switching tracers)."""
    global _tracer, _decided
    with _decide_lock:
        _tracer, _decided = None, False


@contextlib.contextmanager
def _guarded(
    what: str, scope: Callable[[], contextlib.AbstractContextManager[Any]]
) -> Iterator[None]:
    """Runs the block inside `scope` if the tracer can open it; the block runs either way, and
    its exceptions pass through untouched."""
    try:
        manager = scope()
        manager.__enter__()
    except Exception as error:
        failed(what, error)
        yield
        return
    try:
        yield
    except BaseException as error:
        _leave(what, manager, error)
        raise
    _leave(what, manager, None)


def _leave(
    what: str, manager: contextlib.AbstractContextManager[Any], error: BaseException | None
) -> None:
    try:
        manager.__exit__(
            type(error) if error else None, error, error.__traceback__ if error else None
        )
    except Exception as failure:
        failed(what, failure)


@contextlib.contextmanager
def subsegment(name: str, operation_id: str | None = None) -> Iterator[None]:
    """A named unit of work, annotated with its operation id, so traces can be searched by it."""
    tracer = active()
    if tracer is None:
        yield
        return
    with _guarded(f"subsegment {name}", lambda: tracer.subsegment(name, operation_id)):
        yield


def annotate(operation_id: str) -> None:
    """Annotates the current unit of work with the operation id (known once it is created)."""
    tracer = active()
    if tracer is None:
        return
    try:
        tracer.annotate(operation_id)
    except Exception as error:
        failed("annotating", error)


def trace_header() -> str | None:
    """The current trace context as an X-Ray trace header, for a record or StartExecution; None
    when nothing is traced."""
    tracer = active()
    if tracer is None:
        return None
    try:
        header = tracer.trace_header()
    except Exception as error:
        failed("reading the trace context", error)
        return None
    return str(header) if header else None


@contextlib.contextmanager
def continued(header: str | None, name: str, operation_id: str, service: str) -> Iterator[None]:
    """Work done for an operation that arrived with a trace context (the stream's record): it
    joins the operation's trace, so that what it starts (the execution) joins it too, and the
    invocation that does it keeps a linked subsegment. Without a context, or with one too old
    for X-Ray to take more documents, it is an ordinary subsegment of the invocation."""
    tracer = active()
    if tracer is None:
        yield
        return
    parsed = TraceHeader.parse(header)
    if parsed is None or parsed.parent is None or not parsed.sampled or _closed(parsed):
        with _guarded(f"subsegment {name}", lambda: tracer.subsegment(name, operation_id)):
            yield
        return
    with _guarded(
        f"continuing {name}", lambda: tracer.continued(parsed, name, operation_id, service)
    ):
        yield


def _closed(header: TraceHeader) -> bool:
    from chalicelib import clock

    return clock.now().timestamp() - header.started > TRACE_OPEN_SECONDS


@contextlib.contextmanager
def invocation(header: str | None) -> Iterator[None]:
    """Runs the block as a Lambda invocation whose trace header is `header` (what Lambda puts in
    _X_AMZN_TRACE_ID): the local Lambda runtime's part."""
    token = _invocation_header.set(header)
    try:
        yield
    finally:
        _invocation_header.reset(token)
