"""Service tasks speak the service's API, and a Task starts another state machine as AWS runs
it. Registered in local/patches/registry.py (docs/jsonata.md says what each follows).

- service-task-names: a Task's Parameters name an API's members as the ASL writes them
  (StateMachineArn, Input); the boto call takes the API's own names (stateMachineArn, input),
  and the answer is named back (executionArn is ExecutionArn), as LocalStack's engine, which
  moto's copied, does through botocore's model. moto left both steps out (`pass`): every
  integration whose API is not PascalCase (Step Functions' own, ECS, Batch, an AWS SDK
  integration of such a service) failed with a Python KeyError from botocore's serializer.
- nested-executions: `states:startExecution` answers StartExecution as the SDK for Java gives
  it (its HTTP metadata included); `.sync` and `.sync:2` wait for the child's end on the
  engine's own signal (woken at once by it; every second of real time the task hands back to
  moto's loop, which looks whether its own execution was stopped) and answer the child's
  description, an EXPRESS child's included, whose ARN DescribeExecution refuses.
"""

from __future__ import annotations

import contextvars
import email.utils
import functools
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, cast

from botocore.model import ListShape, Shape, StructureShape
from botocore.response import StreamingBody
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from local.aws.stepfunctions import mocks
from local.aws.stepfunctions.answers import aws_timestamp
from local.patches.hooks import Hooks
from local.patches.jsonata import _REDRIVABLE  # DescribeExecution's (execution-output)
from local.patches.sdk_answers import json_value

# Executions that ended: a `.sync` task waiting for its child is woken by the child's end.
_ENDED: Final = threading.Condition()
# How long a `.sync` task waits for its child's end before it hands back to moto's loop, which
# looks whether this execution still runs and whether a task token came back (the child's end
# wakes it at once).
_RECHECK_SECONDS: Final = 1.0
_SUCCEEDED: Final = "SUCCEEDED"
# Whether the service task this thread runs answers with a TestState mock.
_MOCKED: Final[contextvars.ContextVar[bool]] = contextvars.ContextVar("mocked", default=False)


# service-task-names


def service_task_names(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateTaskService._normalise_parameters and _normalise_response (self, value,
    boto_service_name, service_action_name), both `pass` in moto, and _eval_execution(self,
    env): a TestState mock's result is the answer as written (AWS's recorded answers)."""
    if name == "_eval_execution":

        @functools.wraps(original)
        def _eval_execution(self: Any, env: Environment) -> None:
            token = _MOCKED.set(env.is_mocked_mode())
            try:
                original(self, env)
            finally:
                _MOCKED.reset(token)

        return _eval_execution
    if name == "_normalise_parameters":

        def _normalise_parameters(
            self: Any,
            parameters: dict[str, Any],
            boto_service_name: str | None = None,
            service_action_name: str | None = None,
        ) -> None:
            shape = _operation_shape(self, boto_service_name, service_action_name, "input")
            if shape is not None:
                self._to_boto_request(parameters, shape)  # moto's copy of LocalStack's

        return _normalise_parameters

    def _normalise_response(
        self: Any,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        shape = _operation_shape(self, boto_service_name, service_action_name, "output")
        if shape is not None and isinstance(response, dict) and not _MOCKED.get():
            _sfn_named(response, shape)

    return _normalise_response


def _operation_shape(
    task: Any, service: str | None, action: str | None, which: str
) -> StructureShape | None:
    operation = mocks.operation(
        task._get_boto_service_name(boto_service_name=service),
        task._get_boto_service_action(service_action_name=action),
    )
    shape = None if operation is None else getattr(operation, f"{which}_shape")
    return shape if isinstance(shape, StructureShape) else None


def _sfn_named(value: Any, shape: Shape) -> Any:
    """An answer with the model's members named as Step Functions names them (PascalCase),
    in place and in the order the service answered them, a time as AWS's timestamp text (a
    datetime in a state's data failed DescribeExecution with a Python TypeError); what the
    model does not name stays as it is."""
    if isinstance(value, StreamingBody | datetime):
        return json_value(value)
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        members, items = shape.members, list(value.items())
        value.clear()  # renamed in place, as moto's callers hold parts of the answer
        for key, item in items:
            named = key in members
            value[_pascal(key) if named else key] = (
                _sfn_named(item, members[key]) if named else item
            )
    elif isinstance(shape, ListShape) and isinstance(value, list):
        value[:] = [_sfn_named(item, shape.member) for item in value]
    return value


def _pascal(member: str) -> str:
    return member[:1].upper() + member[1:]


# nested-executions


def nested_executions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateTaskServiceSfn._eval_service_task, _build_sync_resolver and
    _build_sync2_resolver (self, env, resource_runtime_part, normalised_parameters,
    state_credentials), and BaseExecutionWorkerCommunication.terminated(self)."""
    if name == "terminated":

        @functools.wraps(original)
        def terminated(self: Any) -> None:
            original(self)
            with _ENDED:
                _ENDED.notify_all()

        return terminated
    if name == "_eval_service_task":
        return _started
    parsed = name == "_build_sync2_resolver"

    def build_resolver(self: Any, env: Environment, **arguments: Any) -> Callable[[], Any]:
        return _child_resolver(self, env, parsed)

    return build_resolver


def _started(
    self: Any,
    env: Environment,
    resource_runtime_part: Any,
    normalised_parameters: dict[str, Any],
    state_credentials: Any,
) -> None:
    """StartExecution's answer as the SDK for Java gives it (AWS's recorded executions):
    ExecutionArn, the HTTP metadata, StartDate."""
    client: Any = boto_client.boto_client_for(
        region=resource_runtime_part.region,
        service=self._get_boto_service_name(),
        state_credentials=state_credentials,
    )
    response = client.start_execution(**normalised_parameters)
    metadata = response.pop("ResponseMetadata")
    request_id = metadata["RequestId"]
    started: datetime = response["startDate"]
    body = {"executionArn": response["executionArn"], "startDate": started.timestamp()}
    headers = {
        "x-amzn-RequestId": request_id,
        "connection": "keep-alive",
        "Content-Length": str(len(json.dumps(body, separators=(",", ":")))),
        "Date": email.utils.formatdate(started.timestamp(), usegmt=True),
        "Content-Type": "application/x-amz-json-1.0",
    }
    env.stack.append(
        {
            "executionArn": response["executionArn"],
            "SdkHttpMetadata": {
                "AllHttpHeaders": {key: [value] for key, value in headers.items()},
                "HttpHeaders": dict(sorted(headers.items(), key=lambda item: item[0].lower())),
                "HttpStatusCode": metadata["HTTPStatusCode"],
            },
            "SdkResponseMetadata": {"RequestId": request_id},
            "startDate": aws_timestamp(started),
        }
    )


def _child_resolver(self: Any, env: Environment, parsed: bool) -> Callable[[], Any]:
    """`.sync` (`parsed` False) and `.sync:2`: waits for the child's end and answers its
    description; a child that did not succeed fails the task with States.TaskFailed, the
    description its cause (AWS's recorded executions)."""
    submitted: dict[str, Any] = env.stack.pop()
    child = _execution(submitted["ExecutionArn"])

    def resolve() -> Any:
        deadline = time.monotonic() + _RECHECK_SECONDS
        with _ENDED:
            while _running(child) and (remaining := deadline - time.monotonic()) > 0:
                _ENDED.wait(remaining)
        if _running(child):
            return None  # moto's loop asks again while this execution runs
        described = described_child(child, parsed)
        if described["Status"] == _SUCCEEDED:
            return described
        failed = TaskFailedEventDetails(
            resource=self._get_sfn_resource(),
            resourceType=self._get_sfn_resource_type(),
            error=StatesErrorNameType.StatesTaskFailed.to_name(),
            cause=to_json_str(described, separators=(",", ":")),
        )
        raise FailureEventException(
            FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                event_type=HistoryEventType.TaskFailed,
                # moto's TypedDict is total: one kind of details, as moto builds them
                event_details=cast(EventDetails, {"taskFailedEventDetails": failed}),
            )
        )

    return resolve


def _running(child: Execution) -> bool:
    return child.exec_status in (None, ExecutionStatus.RUNNING)


def _execution(arn: str) -> Execution:
    """The child execution, read from the engine (an EXPRESS child's ARN is one
    DescribeExecution refuses)."""
    _, _, _, region, account, *_ = arn.split(":")
    backend = stepfunctions_parser_backends[account][region]
    for machine in backend.state_machines:
        for execution in machine.executions:
            if execution.execution_arn == arn:
                return cast(Execution, execution)
    raise LookupError(f"no execution {arn}")


def described_child(child: Execution, parsed: bool) -> dict[str, Any]:
    """An ended child as `.sync` answers it: DescribeExecution's fields, named as Step
    Functions names them and in the SDK for Java's (alphabetical) order; `.sync:2` gives its
    input and output as JSON values, `.sync` as JSON text."""
    status = str(child.status)
    text = functools.partial(to_json_str, separators=(",", ":"))
    fields: dict[str, Any] = {
        "Cause": child.cause,
        "Error": child.error,
        "ExecutionArn": child.execution_arn,
        "Input": child.input_data if parsed else text(child.input_data),
        "InputDetails": {"Included": True},
        "Name": child.name,
        "RedriveCount": 0,  # the engine does not redrive (docs/jsonata.md)
        "RedriveStatus": "REDRIVABLE" if status in _REDRIVABLE else "NOT_REDRIVABLE",
        "StartDate": aws_timestamp(child.start_date),
        "StateMachineArn": child.state_machine_arn,
        "Status": status,
        "StopDate": aws_timestamp(child.stop_date or child.start_date),
    }
    if status == _SUCCEEDED:
        fields["Output"] = child.output if parsed else text(child.output)
        fields["OutputDetails"] = {"Included": True}
        fields["RedriveStatusReason"] = f"Execution is {status} and cannot be redriven"
    return {key: value for key, value in sorted(fields.items()) if value is not None}
