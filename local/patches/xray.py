"""X-Ray in moto: the trace store behind its API, the trace header kept by Step Functions, and
the execution's segments written as it runs (local/aws/xray_daemon.py, trace_segments.py)."""

from __future__ import annotations

import datetime
import functools
import json
from typing import Any

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.xray.exceptions import BadSegmentException

from chalicelib.adapters import tracing
from local.aws import trace_segments
from local.aws.xray_daemon import BadSegment
from local.aws.xray_filters import UnsupportedFilter
from local.patches.hooks import Hooks

TRACE_HEADER = "X-Amzn-Trace-Id"


def _epoch(moment: Any) -> float:
    """moto's X-Ray responses turn StartTime/EndTime into naive local datetimes."""
    if isinstance(moment, datetime.datetime):
        return moment.timestamp()
    return float(moment)


def store_segments(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces XRayBackend.process_segment, get_trace_summary and get_trace_ids."""
    store = hooks.trace_store
    assert store is not None

    def process_segment(self: Any, doc: Any) -> None:
        try:
            store.put(doc if isinstance(doc, str) else str(doc))
        except BadSegment as bad:
            raise BadSegmentException(bad.segment_id, bad.code, str(bad)) from None

    def get_trace_summary(
        self: Any, start_time: Any, end_time: Any, filter_expression: Any
    ) -> dict[str, Any]:
        try:
            summaries = store.summaries(_epoch(start_time), _epoch(end_time), filter_expression)
        except UnsupportedFilter as error:
            raise AWSError(
                f"Invalid filter expression: {error}", "InvalidRequestException", 400
            ) from None
        return {
            "TraceSummaries": summaries,
            "ApproximateTime": datetime.datetime.now(datetime.UTC).timestamp(),
            "TracesProcessedCount": len(summaries),
        }

    def get_trace_ids(self: Any, trace_ids: list[str]) -> dict[str, Any]:
        traces, missing = store.traces(trace_ids)
        return {"Traces": traces, "UnprocessedTraceIds": missing}

    return {
        "process_segment": process_segment,
        "get_trace_summary": get_trace_summary,
        "get_trace_ids": get_trace_ids,
    }[name]


def keep_trace_header(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.start_execution and describe_execution: the trace header
    of StartExecution (its X-Amzn-Trace-Id, else the body's traceHeader: "If both sources are
    provided, Step Functions will use the header value",
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html) is
    kept with the execution, DescribeExecution answers it, and the execution's trace starts."""
    segments = hooks.segments

    if name == "describe_execution":

        @functools.wraps(original)
        def describe_execution(self: Any) -> Any:
            answer = original(self)
            execution = self.stepfunction_backend.describe_execution(
                self._get_param("executionArn")
            )
            header = getattr(execution, "trace_header", None)
            if header and isinstance(answer, ActionResult) and isinstance(answer.result, dict):
                answer.result["traceHeader"] = header
            return answer

        return describe_execution

    def start_execution(self: Any) -> ActionResult:
        arn = self._get_param("stateMachineArn")
        name = self._get_param("name")
        header = self.headers.get(TRACE_HEADER) or self._get_param("traceHeader")
        started = _start_tracing(self, arn, name, header)
        try:
            execution = self.stepfunction_backend.start_execution(
                arn, name, self._get_param("input", if_none="{}"), header
            )
        except Exception:
            if started is not None and segments is not None:
                segments.execution_refused(started)
            raise
        if started is not None and segments is not None:
            _guarded(
                segments.execution_started,
                execution.exec_arn,
                execution.state_machine_arn,
                execution.start_date,
            )
        return ActionResult({"executionArn": execution.exec_arn, "startDate": execution.start_date})

    def _start_tracing(self: Any, arn: str, name: str, header: str | None) -> str | None:
        """The execution's ARN if its trace is registered (before it starts: its first task
        looks for it)."""
        if segments is None or not isinstance(name, str):
            return None
        try:
            machine = self.stepfunction_backend.describe_state_machine(arn)
            config = getattr(machine, "tracing_config", None) or {}
            execution_arn = f"{arn.replace(':stateMachine:', ':execution:')}:{name}"
            if segments.execution_starting(execution_arn, arn, header, bool(config.get("enabled"))):
                return execution_arn
        except Exception as error:  # tracing never fails the call it traces
            tracing.failed("writing an execution's segment", error)
        return None

    return start_execution


def _guarded(write: Any, *arguments: Any) -> None:
    try:
        write(*arguments)
    except Exception as error:  # tracing never fails the call it traces
        tracing.failed("writing an execution's segment", error)


def execution_segments(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces lambda_eval_utils.execute_lambda_function_integration (a Lambda task's
    invocation gets its attempt's trace header) and
    BaseExecutionWorkerCommunication.terminated (the execution's segment, from its history)."""
    segments = hooks.segments
    assert segments is not None

    if name == "terminated":

        @functools.wraps(original)
        def terminated(self: Any) -> None:
            original(self)
            execution = self.execution
            if not segments.recording(execution.exec_arn):
                segments.execution_ended(execution.exec_arn, execution.state_machine_arn, [])
                return
            try:
                segments.execution_ended(
                    execution.exec_arn,
                    execution.state_machine_arn,
                    execution.exec_worker.env.event_manager.get_event_history(),
                    status=str(execution.status),
                    error=execution.error,
                    cause=execution.cause,
                )
            except Exception as error:  # tracing never fails the execution it traces
                tracing.failed("writing an execution's segment", error)

        return terminated

    @functools.wraps(original)
    def execute_lambda_function_integration(
        env: Any, parameters: dict, region: str, state_credentials: Any
    ) -> None:
        try:
            execution = env.states.context_object.context_object_data["Execution"]["Id"]
            event_id = env.event_history_context.last_published_event_id
            header = segments.task_header(execution, event_id)
        except Exception as error:
            tracing.failed("reading a task's trace context", error)
            header = None
        with trace_segments.incoming(header):
            original(env, parameters, region, state_credentials)
        try:
            context = env.states.context_object.context_object_data
            token = (context.get("Task") or {}).get("Token")
            payload = parameters.get("Payload")
            text = payload.decode() if isinstance(payload, bytes) else json.dumps(payload)
            if header is not None and header.sampled and token and token in text:
                # A callback task (it handed its token on): the execution waits now.
                segments.execution_waits(
                    context["Execution"]["Id"],
                    context["StateMachine"]["Id"],
                    env.event_manager.get_event_history(),
                )
        except Exception as error:  # tracing never fails the task it traces
            tracing.failed("writing an execution's segment", error)

    return execute_lambda_function_integration
