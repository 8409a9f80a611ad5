"""The Lambda runtime, in process: the Chalice app's functions run here, behind moto's Lambda.

moto's Lambda runs code only in Docker. Every invocation path (the Invoke API, Step
Functions tasks, the Kinesis poller) goes through LambdaFunction._invoke_lambda, so replacing
that one method (local/patches/lambdas.py) dispatches them all to the app's own handlers
here, with Lambda's context object and error format, and each invocation's log (START, what
the function logged, END, REPORT) for LogType Tail. `current_function()` names the function
running in this thread (the console attributes log lines with it).

Traced as Lambda traces: each invocation gets Lambda's segments (local/aws/trace_segments.py),
in its caller's trace or a new one, and the function's tracer gets the invocation's trace
header, per invocation (concurrent invocations each their own: `tracing.invocation` holds it in
a context variable, where Lambda sets _X_AMZN_TRACE_ID for the one invocation of its process).
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import dataclasses
import decimal
import email.utils
import json
import logging
import math
import site
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from chalice import Chalice

from chalicelib.adapters import tracing
from local.aws.trace_segments import Invocation, ServiceSegments, TraceHeader, new_trace_id

logger = logging.getLogger(__name__)
Handler = Callable[[Any, Any], Any]
PROJECT = Path(__file__).resolve().parents[2]  # where app.py and chalicelib/ are
TASK_ROOT = "/var/task"  # where Lambda unpacks a function's code
LATEST = "$LATEST"  # the version every in-process invocation runs
_LIBRARIES = tuple(Path(p).resolve() for p in site.getsitepackages())
_OWN_FRAMES = 1  # the runtime's frame above the handler's, left out of a stack trace
_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lambda_function", default=None
)


def current_function() -> str | None:
    """The Lambda function whose invocation this code runs in, if any."""
    return _function.get()


@contextlib.contextmanager
def invoking(function_name: str) -> Iterator[None]:
    """Code run inside is this Lambda function's invocation."""
    token = _function.set(function_name)
    try:
        yield
    finally:
        _function.reset(token)


@dataclasses.dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = LATEST
    _deadline: float = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_handlers(app: Chalice) -> dict[str, Handler]:
    """The app's handlers that deploy as their own Lambda function, by Chalice name."""
    views = {entry.view_name for methods in app.routes.values() for entry in methods.values()}
    return {name: fn for name, fn in app.handler_map.items() if name not in views}


@dataclasses.dataclass(frozen=True)
class FunctionSpec:
    handler: Handler
    arn: str
    memory_mb: int
    timeout_seconds: float
    code_root: Path = PROJECT  # the folder deployed as the function's /var/task


@dataclasses.dataclass(frozen=True)
class Reply:
    """What Lambda answers an invocation."""

    payload: str  # the result's JSON, or the error's
    errored: bool
    request_id: str
    trace_header: str | None  # the invocation's, when it was traced
    log: str = ""  # the invocation's log, as CloudWatch Logs gets it (START ... REPORT)

    def tail(self) -> bytes:
        """The log's last 4 KB: what Lambda answers, base64-encoded, for LogType Tail."""
        return self.log.encode()[-LOG_TAIL_BYTES:]

    def log_tail(self) -> str:
        return base64.b64encode(self.tail()).decode()


def deployed_path(filename: str, code_root: Path) -> str:
    """Where a source file of the function is in Lambda: its code and the libraries bundled
    with it under /var/task (a Chalice package puts both there); anything else as it is."""
    path = Path(filename)
    for root in (*_LIBRARIES, code_root):  # the libraries first: a virtualenv may be inside
        if path.is_relative_to(root):
            return f"{TASK_ROOT}/{path.relative_to(root).as_posix()}"
    return filename


LOG_TAIL_BYTES = 4096
# The log lines of the invocation running in this context: (its request id, the lines).
_log: contextvars.ContextVar[tuple[str, list[str]] | None] = contextvars.ContextVar(
    "lambda_log", default=None
)


class _InvocationLog(logging.Handler):
    """The Python runtime's handler on the root logger: what a function logs during an
    invocation goes to that invocation's log, as `[LEVEL]<tab>time<tab>request id<tab>message`
    until the function sets a formatter of its own on it (as chalicelib/adapters/logs.py
    does on Lambda's handler), then as that formatter writes it. Outside an invocation a
    record costs a context variable's read (no handler lock); the local stack's own lines
    (_NOT_THE_FUNCTIONS) are not the function's."""

    def handle(self, record: logging.LogRecord) -> bool:
        kept = _log.get()
        if kept is None or record.name.startswith(_NOT_THE_FUNCTIONS):
            return False
        try:
            if self.formatter is not None:
                kept[1].append(f"{self.format(record)}\n")
            else:
                at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                line = f"[{record.levelname}]\t{at}.{int(record.msecs):03d}Z\t{kept[0]}\t"
                kept[1].append(f"{line}{record.getMessage()}\n")
        except Exception:
            self.handleError(record)  # as logging's own handlers do: reported, not raised
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)


_INVOCATION_LOG = _InvocationLog()
# Loggers of the local stack (this runtime, the emulator, moto) that may log in the thread of
# an invocation: their lines are not the function's.
_NOT_THE_FUNCTIONS = ("local.", "moto", "werkzeug")


def _error_line(error: dict[str, Any]) -> str:
    """What the Python runtime logs of an unhandled error: one entry, its lines joined by
    carriage returns (CloudWatch Logs keeps them as one event)."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    lines.append("Traceback (most recent call last):")
    lines.extend(frame.rstrip("\n").replace("\n", "\r") for frame in error["stackTrace"])
    return "\r".join(lines) + "\n"


class MarshalError(Exception):
    """A handler's result that the runtime cannot write as JSON."""


def _marshalled(result: Any) -> str:
    """The handler's result as the Python runtime sends it: bytes as they are, anything else as
    JSON (a Decimal as its number), or Runtime.MarshalError ("Unable to marshal response:
    <why>"; awslambdaric's lambda_runtime_marshaller.py)."""
    if isinstance(result, bytes | bytearray):
        return bytes(result).decode("utf-8", "replace")
    try:
        return json.dumps(result, default=_number)
    except (TypeError, ValueError) as error:
        raise MarshalError(f"Unable to marshal response: {error}") from None


def _number(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def qualified_name(function_name: str) -> tuple[str, str | None]:
    """A FunctionName (name, partial or full ARN, each with an optional version or alias) as
    the function's name and that qualifier."""
    name, _, qualifier = function_name.rsplit(":function:", maxsplit=1)[-1].partition(":")
    return name, qualifier or None


def _payload(text: str) -> Any:
    """lambda:invoke's Payload: the function's answer read as JSON, else as the text it is."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _fault(
    error_type: str, message: str, request_id: str, stack_trace: list[str] | None = None
) -> dict[str, Any]:
    """An error as the Python runtime reports it (awslambdaric's bootstrap.make_error)."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace or [],
    }


# What runs a function's invocation inside its trace, given the header Lambda hands it: the
# X-Ray SDK's (tracing.invocation), or the OpenTelemetry layer's (local/aws/otel_layer.py).
Layer = Callable[[str], contextlib.AbstractContextManager[Any]]


class InProcessLambdas:
    """Runs the registered handlers for moto's Lambda service, by function name.

    Two ways in: the Invoke API (moto calls _invoke_lambda), and a short cut for Step
    Functions' lambda:invoke tasks that skips the API round trip (same payloads, same error
    format, ~3 ms less per task).
    """

    def __init__(self, time: Callable[[], float] = time.time) -> None:
        self._functions: dict[str, FunctionSpec] = {}
        self._time = time  # for the Date of lambda:invoke's answer: the emulator's clock
        root = logging.getLogger()
        if _INVOCATION_LOG not in root.handlers:
            if not root.handlers:  # as logging's last resort, and the app's set-up, would
                root.addHandler(logging.StreamHandler(sys.stderr))
            root.addHandler(_INVOCATION_LOG)
        self._lock = threading.Lock()
        self.invocations: dict[str, int] = {}
        self._later: list[threading.Thread] = []  # the Event invocations' threads
        self.segments: ServiceSegments | None = None  # Lambda's own segments, when traced
        self.layer: Layer = tracing.invocation

    @contextlib.contextmanager
    def traced(
        self, function_name: str, arn: str, request_id: str, caller: TraceHeader | None = None
    ) -> Iterator[Invocation | None]:
        """An invocation as Lambda traces it: its segments, and the function's tracer given
        the invocation's header."""
        if self.segments is None:
            yield None
            return
        with (
            self.segments.lambda_invocation(function_name, arn, request_id, caller) as invocation,
            self.layer(invocation.header),
        ):
            yield invocation

    def register(self, function_name: str, spec: FunctionSpec) -> None:
        self._functions[function_name] = spec

    def knows(self, function_name: str) -> bool:
        return function_name in self._functions

    def invoke(
        self,
        function_name: str,
        event: Any,
        version: str = LATEST,
        qualifier: str | None = None,
        request_id: str | None = None,
    ) -> Reply:
        """Invoke like Lambda's Python runtime: the handler's result as JSON (bytes it returns
        as they are), or its unhandled error in the runtime's format. `version` is the one
        that runs (every version runs the one handler here), `qualifier` the version or alias
        the caller named."""
        request_id = request_id or str(uuid.uuid4())
        spec = self._functions.get(function_name)
        if spec is None:
            message = f"no in-process handler for function {function_name}"
            body = {"errorType": "HandlerNotFound", "errorMessage": message}
            return Reply(json.dumps(body), True, request_id, None)
        with self._lock:
            self.invocations[function_name] = self.invocations.get(function_name, 0) + 1
        context = LambdaContext(
            function_name=function_name,
            invoked_function_arn=f"{spec.arn}:{qualifier}" if qualifier else spec.arn,
            memory_limit_in_mb=spec.memory_mb,
            timeout_seconds=spec.timeout_seconds,
            aws_request_id=request_id,
            function_version=version,
        )
        payload = json.loads(event) if isinstance(event, str | bytes) else event
        lines = [f"START RequestId: {request_id} Version: {version}\n"]
        started = time.perf_counter()
        with self.traced(function_name, spec.arn, request_id) as traced:
            header = traced.header if traced else None
            logging_to = _log.set((request_id, lines))
            try:
                with invoking(function_name):
                    result = spec.handler(payload, context)
                text, errored = _marshalled(result), False
            except MarshalError as fault:  # the runtime's own error: no frames of the function
                if traced is not None:
                    traced.error = ("Runtime.MarshalError", str(fault))
                failure = _fault("Runtime.MarshalError", str(fault), request_id)
                text, errored = json.dumps(failure), True
                lines.append(_error_line(failure))
            except (Exception, SystemExit) as error:
                if traced is not None:
                    traced.error = (type(error).__name__, str(error))
                failure = self._failed(function_name, error, request_id, spec)
                text, errored = json.dumps(failure), True
                lines.append(_error_line(failure))
            finally:
                _log.reset(logging_to)
        millis = (time.perf_counter() - started) * 1000
        lines.append(f"END RequestId: {request_id}\n")
        lines.append(  # no Max Memory Used: one process runs every function here
            f"REPORT RequestId: {request_id}\tDuration: {millis:.2f} ms\t"
            f"Billed Duration: {math.ceil(millis)} ms\tMemory Size: {spec.memory_mb} MB\t\n"
        )
        return Reply(text, errored, request_id, header, "".join(lines))

    @staticmethod
    def _failed(
        function_name: str, error: BaseException, request_id: str, spec: FunctionSpec
    ) -> dict[str, Any]:
        # What the Python runtime reports for an unhandled exception (or a process that exits):
        # these four keys in this order, the frames from the handler down, paths as deployed.
        # Step Functions takes errorType as the name Retry and Catch match.
        logger.warning("function %s raised %s", function_name, type(error).__name__)
        frames = traceback.extract_tb(error.__traceback__)[_OWN_FRAMES:]
        for frame in frames:
            frame.filename = deployed_path(frame.filename, spec.code_root)
        return _fault(type(error).__name__, str(error), request_id, traceback.format_list(frames))

    def invoke_later(
        self,
        function_name: str,
        event: Any,
        version: str = LATEST,
        qualifier: str | None = None,
    ) -> str:
        """An asynchronous (Event) invocation: queued, run in its own thread (in the caller's
        context: its trace, its clock), kept until it ends (`drain`); its request id."""
        request_id = str(uuid.uuid4())
        thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self.invoke, function_name, event, version, qualifier, request_id),
            name=f"lambda-event-{function_name}",
            daemon=True,
        )
        with self._lock:
            self._later = [running for running in self._later if running.is_alive()]
            self._later.append(thread)
        thread.start()
        return request_id

    def drain(self, seconds: float = 10.0) -> None:
        """Waits for the asynchronous invocations under way to end (before the emulator and
        its patches go: a handler still running would call AWS when it is gone)."""
        with self._lock:
            later, self._later = self._later, []
        for thread in later:
            thread.join(seconds)

    def step_functions_task(
        self, parameters: dict[str, Any], name: str, qualifier: str | None, version: str
    ) -> dict[str, Any] | None:
        """lambda:invoke's answer, as Step Functions records it: Lambda's Invoke response
        through the AWS SDK for Java, with its HTTP and request metadata. The invocation type
        as Lambda's Invoke answers it (API_Invoke.html): RequestResponse runs the function
        and answers 200 with its result; Event queues it and answers 202, DryRun does not run
        it and answers 204, both with an empty payload and no executed version. None for an
        invocation type Lambda does not know: Lambda's own refusal. `name` and `qualifier` are
        the function and the version or alias its FunctionName (or Qualifier) names, `version`
        the version that runs."""
        event = parameters.get("Payload") or {}
        kind = parameters.get("InvocationType") or "RequestResponse"
        if kind not in _STATUS:
            return None
        if kind == "RequestResponse":
            reply = self.invoke(name, event, version, qualifier)
        else:
            if kind == "Event":
                request_id = self.invoke_later(name, event, version, qualifier)
            else:
                request_id = str(uuid.uuid4())
            reply = Reply("", False, request_id, None)
        status = _STATUS[kind]
        tail = reply.log_tail() if parameters.get("LogType") == "Tail" and status == 200 else None
        headers = {"X-Amz-Log-Result": tail} if tail else {}
        if status == 200:
            headers["X-Amz-Executed-Version"] = version
        headers |= {
            "x-amzn-Remapped-Content-Length": "0",
            "Connection": "keep-alive",
            "x-amzn-RequestId": reply.request_id,
            "Content-Length": str(len(reply.payload.encode())),
            "Date": email.utils.formatdate(self._time(), usegmt=True),
            # Lambda sends one back for an untraced invocation too (Sampled=0)
            "X-Amzn-Trace-Id": reply.trace_header or str(TraceHeader(new_trace_id(), None, False)),
            "Content-Type": "application/json",
        }
        response: dict[str, Any] = {
            "Payload": _payload(reply.payload),
            "SdkHttpMetadata": {
                "AllHttpHeaders": {key: [value] for key, value in headers.items()},
                "HttpHeaders": dict(sorted(headers.items(), key=lambda item: item[0].lower())),
                "HttpStatusCode": status,
            },
            "SdkResponseMetadata": {"RequestId": reply.request_id},
            "StatusCode": status,
        }
        if status == 200:  # the lambda-invoke-answer patch puts the fields in the SDK's order
            response["ExecutedVersion"] = version
        if tail:
            response["LogResult"] = tail
        if reply.errored:
            response["FunctionError"] = "Unhandled"
        return response


# Lambda's Invoke answer's status by invocation type (API_Invoke.html, StatusCode).
_STATUS = {"RequestResponse": 200, "Event": 202, "DryRun": 204}
