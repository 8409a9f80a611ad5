"""The segments AWS services add to a trace, which the functions' tracer cannot: API Gateway's
stage, Lambda's service and function segments around each invocation, and Step Functions'
execution with a subsegment per state. moto records none of them: the emulator writes them
from what it knows (the request, the invocation, the execution's history) into the trace store
(local/aws/xray_daemon.py), in the trace whose header the caller passed, as AWS does:

    API Gateway  <api>/<stage> (AWS::ApiGateway::Stage)
      └ Lambda (subsegment: the integration's Invoke)
          └ <function> (AWS::Lambda: the time in Lambda)
              └ <function> (AWS::Lambda::Function)
                  └ Invocation (the handler; the function's own subsegments go here: the
                      trace header handed to the function names it as their parent, see
                      https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html)
    <state machine> (AWS::StepFunctions::StateMachine: the execution, its parent the caller's
      └ <state>       one subsegment per state entered   StartExecution subsegment)
          └ Lambda    one per attempt of a task (Invoke), parent of the function's segments

Times are wall-clock seconds, as the functions' tracers stamp theirs; the execution's come from
its history (the emulator's clock, turned back into wall time by Clock.wall).

Sampling is X-Ray's default rule where a trace starts here (an API request without a sampled
trace header, an invocation by an event source, an execution started without one): the first
each second and 5% of the others (https://docs.aws.amazon.com/xray/latest/devguide/
xray-console-sampling.html); `Sampler(every=True)` records every one (the tests,
`make run ARGS=--trace-all`). A decision travels in the trace header: nothing downstream of
an unsampled request is recorded.

Not as AWS: no Initialization or Overhead subsegments (the functions are imported once, with
the stack), and no segments for the other services' own work (DynamoDB's, Kinesis').
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from chalicelib.adapters.logs import redact
from chalicelib.adapters.tracing import TraceHeader

Sink = Callable[[str], object]  # takes one segment document (the trace store's put)
_TASK_ENDS = ("TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskSubmitFailed", "TaskStartFailed")
_STATE_FAILURES = ("TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "ExecutionFailed")


def new_id() -> str:
    return f"{random.getrandbits(64):016x}"


def new_trace_id(at: float | None = None) -> str:
    return f"1-{int(at if at is not None else time.time()):08x}-{random.getrandbits(96):024x}"


class Sampler:
    """X-Ray's default sampling rule: a reservoir of one trace a second, then 5% of the rest;
    or every trace."""

    RESERVOIR_PER_SECOND = 1
    FIXED_RATE = 0.05

    def __init__(self, every: bool = False) -> None:
        self.every = every
        self._second = -1
        self._taken = 0
        self._lock = threading.Lock()

    def sample(self) -> bool:
        if self.every:
            return True
        second = int(time.time())
        with self._lock:
            if second != self._second:
                self._second, self._taken = second, 0
            if self._taken < self.RESERVOIR_PER_SECOND:
                self._taken += 1
                return True
        return random.random() < self.FIXED_RATE


def derived_id(*parts: object) -> str:
    """A segment id that two parts of the emulator can each work out from the same facts."""
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def _cause(error: str | None, cause: str | None) -> dict[str, Any]:
    message = redact(cause or "")[:1000]
    return {"exceptions": [{"id": new_id(), "type": error or "Error", "message": message}]}


@dataclasses.dataclass
class Invocation:
    """One Lambda invocation's segments, open while its handler runs."""

    header: str  # what Lambda hands the function (_X_AMZN_TRACE_ID)
    error: tuple[str, str] | None = None  # (type, message): the function failed


@dataclasses.dataclass
class ApiRequest:
    """One API request's stage segment, open while the API function answers it."""

    trace: TraceHeader  # Parent: the integration's subsegment, the Lambda invocation's caller
    status: int | None = None
    invoked: bool = False  # the API function ran (the gateway did not answer it itself)


@dataclasses.dataclass(frozen=True)
class TracedExecution:
    root: str
    segment_id: str
    parent: str | None
    state_machine: str
    sampled: bool = True  # unsampled: its tasks are told so, nothing is written


# The trace context of the invocation about to run (a Step Functions task's), set by whoever
# invokes (local/patches/xray.py) and read by the Lambda runtime.
_incoming: contextvars.ContextVar[TraceHeader | None] = contextvars.ContextVar(
    "incoming_trace", default=None
)


@contextlib.contextmanager
def incoming(header: TraceHeader | None) -> Iterator[None]:
    token = _incoming.set(header)
    try:
        yield
    finally:
        _incoming.reset(token)


class ServiceSegments:
    def __init__(
        self,
        sink: Sink,
        wall: Callable[[float], float],
        account_id: str,
        sampler: Sampler | None = None,
    ) -> None:
        self.sampler = sampler or Sampler(every=True)
        self._sink = sink
        self._wall = wall  # emulated seconds -> wall-clock seconds
        self.account_id = account_id
        self._executions: dict[str, TracedExecution] = {}
        self._lock = threading.Lock()

    def _send(self, document: dict[str, Any]) -> None:
        self._sink(json.dumps(document, separators=(",", ":")))

    # ---- API Gateway ---------------------------------------------------------------------

    @contextlib.contextmanager
    def api_request(
        self, api: str, stage: str, method: str, path: str, header: str | None
    ) -> Iterator[ApiRequest]:
        """A request at the API's stage: continues the caller's trace (X-Amzn-Trace-Id) or
        starts one; the API function's invocation is the child of its integration."""
        given = TraceHeader.parse(header)
        if given is None:
            given = TraceHeader(new_trace_id(), None, self.sampler.sample())
        root = given.root
        segment_id, integration = new_id(), new_id()
        request = ApiRequest(TraceHeader(root, integration, given.sampled))
        if not given.sampled:
            yield request
            return
        start = time.time()
        try:
            yield request
        finally:
            end = time.time()
            status = request.status or 502
            integration_call = {
                "id": integration,
                "name": "Lambda",
                "namespace": "aws",
                "start_time": start,
                "end_time": end,
                "aws": {"operation": "Invoke"},
            }
            document: dict[str, Any] = {
                "id": segment_id,
                "name": f"{api}/{stage}",
                "origin": "AWS::ApiGateway::Stage",
                "trace_id": root,
                "start_time": start,
                "end_time": end,
                "http": {
                    "request": {"method": method, "url": path},
                    "response": {"status": status},
                },
                "aws": {"api_gateway": {"stage": stage, "account_id": self.account_id}},
                "subsegments": [integration_call] if request.invoked else [],
            }
            if given.parent:
                document["parent_id"] = given.parent
            if 400 <= status < 500:
                document["error"] = True
                if status == 429:
                    document["throttle"] = True
            elif status >= 500:
                document["fault"] = True
            self._send(document)

    # ---- Lambda -------------------------------------------------------------------------

    @contextlib.contextmanager
    def lambda_invocation(
        self, function_name: str, function_arn: str, request_id: str, caller: TraceHeader | None
    ) -> Iterator[Invocation]:
        """Lambda's two segments around an invocation, in the caller's trace (or, as for an
        event source mapping's batch, a new one); the function gets a header naming the
        Invocation subsegment."""
        caller = caller or _incoming.get()
        if caller is None and not self.sampler.sample():  # a trace begins here, unsampled
            caller = TraceHeader(new_trace_id(), None, sampled=False)
        if caller is not None and not caller.sampled:
            yield Invocation(str(caller))
            return
        root = caller.root if caller else new_trace_id()
        service_id, function_id, invocation_id = new_id(), new_id(), new_id()
        invocation = Invocation(str(TraceHeader(root, invocation_id)))
        start = time.time()
        try:
            yield invocation
        finally:
            end = time.time()
            resource = {"function_arn": function_arn, "resource_names": [function_name]}
            subsegment: dict[str, Any] = {
                "id": invocation_id,
                "name": "Invocation",
                "start_time": start,
                "end_time": end,
                "aws": {"function_arn": function_arn},
            }
            function: dict[str, Any] = {
                "id": function_id,
                "name": function_name,
                "origin": "AWS::Lambda::Function",
                "trace_id": root,
                "parent_id": service_id,
                "start_time": start,
                "end_time": end,
                "aws": {**resource, "account_id": self.account_id},
                "subsegments": [subsegment],
            }
            if invocation.error is not None:
                error_type, message = invocation.error
                for entity in (subsegment, function):
                    entity["fault"] = True
                subsegment["cause"] = _cause(error_type, message)
            service: dict[str, Any] = {
                "id": service_id,
                "name": function_name,
                "origin": "AWS::Lambda",
                "trace_id": root,
                "start_time": start,
                "end_time": end,
                "aws": {**resource, "request_id": request_id, "account_id": self.account_id},
                "http": {"response": {"status": 200}},
            }
            if caller is not None and caller.parent:
                service["parent_id"] = caller.parent
            self._send(service)
            self._send(function)

    # ---- Step Functions ----------------------------------------------------------------

    def execution_starting(
        self, execution_arn: str, state_machine_arn: str, header: str | None, enabled: bool
    ) -> bool:
        """An execution about to start joins the trace its StartExecution named, or (with
        tracing on for the state machine) starts one; without either it is not traced (as
        AWS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html).
        Registered before it starts, so its first task finds its trace. Whether it was."""
        given = TraceHeader.parse(header)
        if given is None and not enabled:
            return False
        traced = TracedExecution(
            root=given.root if given else new_trace_id(),
            segment_id=derived_id(execution_arn, "execution"),
            parent=given.parent if given else None,
            state_machine=state_machine_arn.rsplit(":", 1)[-1],
            sampled=given.sampled if given else self.sampler.sample(),
        )
        with self._lock:
            if execution_arn in self._executions:  # an idempotent repeat of a running one
                return False
            self._executions[execution_arn] = traced
        return True

    def recording(self, execution_arn: str) -> bool:
        """Whether the execution's segments are being written (it is traced and sampled)."""
        with self._lock:
            traced = self._executions.get(execution_arn)
        return traced is not None and traced.sampled

    def execution_refused(self, execution_arn: str) -> None:
        """The start registered by execution_starting did not happen."""
        with self._lock:
            self._executions.pop(execution_arn, None)

    def execution_started(
        self, execution_arn: str, state_machine_arn: str, started: datetime
    ) -> None:
        """The started execution's segment, in progress."""
        with self._lock:
            traced = self._executions.get(execution_arn)
        if traced is not None and traced.sampled:
            start = self._wall(started.timestamp())
            self._send(self._execution_document(execution_arn, state_machine_arn, traced, start))

    def _execution_document(
        self, arn: str, state_machine_arn: str, traced: TracedExecution, start: float
    ) -> dict[str, Any]:
        document: dict[str, Any] = {
            "id": traced.segment_id,
            "name": traced.state_machine,
            "origin": "AWS::StepFunctions::StateMachine",
            "trace_id": traced.root,
            "start_time": start,
            "in_progress": True,
            "aws": {"execution_arn": arn, "state_machine_arn": state_machine_arn},
        }
        if traced.parent:
            document["parent_id"] = traced.parent
        return document

    def task_header(self, execution_arn: str, event_id: int) -> TraceHeader | None:
        """The header a task's invocation gets: its attempt's subsegment (the history's event
        `event_id`, the task's start) as parent."""
        with self._lock:
            traced = self._executions.get(execution_arn)
        if traced is None:
            return None
        task = derived_id(execution_arn, "task", event_id)
        return TraceHeader(traced.root, task if traced.sampled else None, traced.sampled)

    def execution_ended(
        self,
        execution_arn: str,
        state_machine_arn: str,
        events: list[dict[str, Any]],
        *,
        status: str = "",
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        """The execution's whole segment, from its history, in place of the in-progress one."""
        with self._lock:
            traced = self._executions.pop(execution_arn, None)
        if traced is None or not traced.sampled or not events:
            return
        document = self._execution_document(
            execution_arn, state_machine_arn, traced, self._at(events[0])
        )
        del document["in_progress"]
        document["end_time"] = self._at(events[-1])
        document["subsegments"] = self._states(execution_arn, events)
        if status in ("FAILED", "TIMED_OUT"):
            document["fault"] = True
            document["cause"] = _cause(error or status, cause)
        elif status == "ABORTED":
            document["error"] = True
        self._send(document)

    def execution_waits(
        self, execution_arn: str, state_machine_arn: str, events: list[dict[str, Any]]
    ) -> None:
        """The execution's segment so far (in progress), while it waits for a callback: what a
        trace shows of a workflow that waits days for a reviewer."""
        with self._lock:
            traced = self._executions.get(execution_arn)
        if traced is None or not traced.sampled or not events:
            return
        document = self._execution_document(
            execution_arn, state_machine_arn, traced, self._at(events[0])
        )
        document["subsegments"] = self._states(execution_arn, events, ended=False)
        self._send(document)

    def _at(self, event: dict[str, Any]) -> float:
        moment = event["timestamp"]  # moto's history holds ISO 8601 text, to the millisecond
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return self._wall(moment.timestamp())

    def _states(
        self, arn: str, events: list[dict[str, Any]], ended: bool = True
    ) -> list[dict[str, Any]]:
        """A subsegment per state entered, with one per attempt of its task; what has not
        ended is in progress (or, once the execution has, ends with it)."""
        states: list[dict[str, Any]] = []
        state: dict[str, Any] | None = None
        resource: tuple[str, str] = ("", "")
        for event in events:
            kind = event["type"]
            if kind.endswith("StateEntered"):
                state = self._state(arn, event)
                states.append(state)
            elif state is None:
                continue
            elif kind == "TaskScheduled":
                details = event["taskScheduledEventDetails"]
                resource = (details.get("resourceType", ""), details.get("resource", ""))
            elif kind == "TaskStarted":
                state["subsegments"].append(self._attempt(arn, event, resource))
            elif kind.endswith("StateExited"):
                state["end_time"] = self._at(event)
                state = None
            else:
                self._ended(state, event)
        end = {"end_time": self._at(events[-1])} if ended else {"in_progress": True}
        for entered in states:
            if "end_time" not in entered:
                entered.update(end)
            attempts = entered.pop("subsegments")
            for retries, attempt in enumerate(attempts):
                if "end_time" not in attempt:
                    attempt.update(end)
                attempt["aws"]["retries"] = retries
            if attempts:
                entered["subsegments"] = attempts
                entered["aws"]["retries"] = len(attempts) - 1
        return states

    def _state(self, arn: str, event: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": derived_id(arn, "state", event["id"]),
            "name": event["stateEnteredEventDetails"]["name"],
            "start_time": self._at(event),
            "aws": {"state_type": event["type"].removesuffix("StateEntered")},
            "subsegments": [],
        }

    def _ended(self, state: dict[str, Any], event: dict[str, Any]) -> None:
        """A task's attempt ended (how), or the state failed."""
        kind = event["type"]
        attempt = next((a for a in reversed(state["subsegments"]) if "end_time" not in a), None)
        if kind in _TASK_ENDS and attempt is not None:
            attempt["end_time"] = self._at(event)
            if kind != "TaskSucceeded":
                details: dict[str, Any] = next(
                    (v for k, v in event.items() if k.endswith("EventDetails")), {}
                )
                attempt["fault"] = True
                attempt["cause"] = _cause(details.get("error"), details.get("cause"))
        if kind in _STATE_FAILURES:
            state["fault"] = True

    def _attempt(
        self, arn: str, event: dict[str, Any], resource: tuple[str, str]
    ) -> dict[str, Any]:
        resource_type, name = resource
        operation = name.split(".")[0] if name else "Invoke"
        service = "Lambda" if resource_type == "lambda" else resource_type.title() or "Task"
        if resource_type == "lambda":
            operation = "Invoke"
        return {
            "id": derived_id(arn, "task", event["id"]),
            "name": {"Dynamodb": "DynamoDB"}.get(service, service),
            "namespace": "aws",
            "start_time": self._at(event),
            "aws": {"operation": operation[:1].upper() + operation[1:]},
        }
