"""Step Functions' requests, ListExecutions and an aborted execution's history as AWS answers
them, where moto's differ (AWS's recorded answers: LocalStack's test_sfn_api snapshots).
Registered in local/patches/registry.py."""

from __future__ import annotations

import contextvars
import functools
import json
import re
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import utcnow
from moto.stepfunctions.exceptions import InvalidArn, ResourceNotFound, ValidationException
from moto.stepfunctions.models import StateMachineVersion

from local.aws.request_validation import validation_message
from local.aws.stepfunctions import answers, mocks
from local.patches import versions
from local.patches.hooks import Hooks
from local.patches.teststate import AwsError

# An execution's statuses, as AWS's message lists them.
_STATUSES = ("SUCCEEDED", "TIMED_OUT", "PENDING_REDRIVE", "ABORTED", "FAILED", "RUNNING")


def status_filter_checked(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionBackend.list_executions(self, state_machine_arn, status_filter):
    a statusFilter that is no execution status is refused, as AWS does; moto listed none."""

    @functools.wraps(original)
    def list_executions(
        self: Any, state_machine_arn: str, status_filter: str | None = None, **paging: Any
    ) -> Any:
        if status_filter is not None and status_filter not in _STATUSES:
            allowed = ", ".join(_STATUSES)
            raise ValidationException(
                f"1 validation error detected: Value '{status_filter}' at 'statusFilter' failed "
                f"to satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )
        return original(self, state_machine_arn, status_filter, **paging)  # moto's paginator

    return list_executions


# The error and cause of the StopExecution request being answered.
_STOP_REQUESTED: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "stop_requested", default=(None, None)
)


def stop_with_error_and_cause(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.stop_execution(self), which read neither the request's
    error nor its cause, and StateMachine.stop_execution(self, execution_arn), which stopped
    the execution with "" for both: the ExecutionAborted event records what StopExecution was
    given, as AWS's API reference describes (StopExecution; ExecutionAbortedEventDetails).
    The answer's stopDate is the moment of the stop (moto left it out for a running
    execution, whose worker had not ended yet), as AWS's recorded answers carry it."""
    if original.__qualname__.startswith("StepFunctionResponse."):

        @functools.wraps(original)
        def answer(self: Any) -> Any:
            token = _STOP_REQUESTED.set((self._get_param("error"), self._get_param("cause")))
            try:
                return original(self)
            finally:
                _STOP_REQUESTED.reset(token)

        return answer

    @functools.wraps(original)
    def stop_execution(self: Any, execution_arn: str) -> Any:
        execution = next((x for x in self.executions if x.execution_arn == execution_arn), None)
        if execution is None:
            return original(self, execution_arn)  # moto's ExecutionDoesNotExist
        error, cause = _STOP_REQUESTED.get()
        execution.stop(stop_date=utcnow(), error=error, cause=cause)  # as moto stops it
        if execution.stop_date is None:  # its worker records the end a moment later
            execution.stop_date = hooks.clock.now()
        return execution

    return stop_execution


def validated_requests(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.call_action(self): a request that breaks the constraints
    of Step Functions' API model (botocore's: ListExecutions' maxResults at most 1000, its
    nextToken at most 3096 long ...) is refused with AWS's ValidationException, in AWS's
    recorded words, before it is answered; moto took any. TestState checks its own; an enum
    value is left to moto and the patches (AWS lists the values in an order of its own)."""

    @functools.wraps(original)
    def call_action(self: BaseResponse) -> TYPE_RESPONSE:
        action = self._get_action()
        operation = mocks.operation("stepfunctions", action)
        if action == "TestState" or operation is None or operation.input_shape is None:
            return original(self)
        try:
            request = json.loads(self.body or "{}")
        except json.JSONDecodeError:
            return original(self)  # moto's answer to a body that is no JSON
        message = validation_message(request, operation.input_shape, enums=False)
        if message is None:
            return original(self)
        return self.serialized(ActionResult(AwsError("ValidationException", message)))

    return call_action


def arn_prefixes(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionBackend._validate_arn(self, arn, regex, invalid_msg): a state
    machine's, an execution's or an activity's ARN that does not start as an ARN is refused
    in AWS's recorded words ("Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"); moto's
    said "Execution Does Not Exist" or "Invalid State Machine Arn". A role's is moto's."""

    @functools.wraps(original)
    def validate_arn(self: Any, arn: str, regex: re.Pattern[str], invalid_msg: str) -> None:
        problem = answers.arn_prefix_problem(arn)
        if problem is not None and regex is not self.accepted_role_arn_format:
            raise InvalidArn(problem)
        original(self, arn, regex, invalid_msg)

    return validate_arn


def taggable_only(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionBackend.tag_resource(self, arn, tags), untag_resource(self, arn,
    tag_keys) and list_tags_for_resource(self, arn): a resource that is no state machine or
    activity of the account is ResourceNotFound, as API_TagResource says ("Only state machine
    and activity ARNs are supported"), in AWS's recorded words for a version's ARN ("Resource
    not found: '<arn>'"); one that does not start as an ARN is InvalidArn. moto tagged any
    text, and listed the tags it had given it."""

    @functools.wraps(original)
    def tagging(self: Any, arn: str, *args: Any) -> Any:
        problem = answers.arn_prefix_problem(arn)
        if problem is not None:
            raise InvalidArn(problem)
        if arn not in self.activities and all(m.arn != arn for m in self.state_machines):
            raise ResourceNotFound(arn)  # AWS's words: "Resource not found: '<arn>'"
        return original(self, arn, *args)

    return tagging


def listed_items(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.list_executions(self): each item carries redriveCount
    (0: the engine does not redrive), and one of an execution that ran a version names the
    state machine and, apart, the version (stateMachineVersionArn), whichever ARN was
    listed, as AWS's recorded answers do; moto left out both and named the ARN it listed."""

    @functools.wraps(original)
    def list_executions(self: Any) -> Any:
        answer = original(self)
        listed = self.stepfunction_backend.describe_state_machine(
            self._get_param("stateMachineArn")
        )
        machine: Any = listed.machine() if isinstance(listed, versions.RunnableVersion) else listed
        ran = {execution.execution_arn: execution.state_machine for execution in machine.executions}
        for item in answer.result["executions"]:
            item["redriveCount"] = 0
            version = ran.get(item["executionArn"])
            if isinstance(version, StateMachineVersion):
                item["stateMachineArn"] = version.source_arn
                item["stateMachineVersionArn"] = version.arn
        return answer

    return list_executions
