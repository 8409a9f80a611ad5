"""Step Functions: one execution per operation, named after it."""

from __future__ import annotations

import json

import botocore.exceptions

from chalicelib.adapters import aws, tracing
from chalicelib.adapters.state_machine import execution_input, review_result
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.reviews import ReviewDecision, TaskToken


class StepFunctionsWorkflows:
    def __init__(self, state_machine_name: str, state_machine_arn: str | None = None) -> None:
        self._state_machine_name = state_machine_name
        self._known_arn = state_machine_arn

    @property
    def _state_machine_arn(self) -> str:
        # Without a given ARN it is built from the name: a stage's config needs no account id.
        return self._known_arn or aws.arn("states", f"stateMachine:{self._state_machine_name}")

    def start(self, event: OperationRequested) -> None:
        # The execution joins the current trace (the operation's, in the starter).
        trace = tracing.trace_header()
        try:
            with aws.transient_errors():
                aws.client("stepfunctions").start_execution(
                    stateMachineArn=self._state_machine_arn,
                    # The name makes the start exactly-once (Standard keeps names 90 days).
                    name=event.operation_id,
                    input=json.dumps(execution_input(event)),
                    **({"traceHeader": trace} if trace else {}),
                )
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) != "ExecutionAlreadyExists":
                raise

    def status(self, operation_id: str) -> str | None:
        try:
            with aws.transient_errors():
                response = aws.client("stepfunctions").describe_execution(
                    executionArn=self.execution_arn(operation_id)
                )
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) == "ExecutionDoesNotExist":
                return None
            raise
        return str(response["status"])

    def execution_arn(self, operation_id: str) -> str:
        return execution_arn(self._state_machine_arn, operation_id)


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of the state machine's execution of that name (an operation's is its id)."""
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"


# What SendTaskSuccess answers for a token whose task no longer waits: it timed out, or its
# execution ended or is gone (a local stack restarted without its executions).
_WAIT_OVER = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class StepFunctionsCallbacks:
    """Resumes a workflow waiting in a callback task (.waitForTaskToken)."""

    def resume(self, token: TaskToken, decision: ReviewDecision) -> bool:
        try:
            with aws.transient_errors():
                aws.client("stepfunctions").send_task_success(
                    taskToken=token.value, output=json.dumps(review_result(decision))
                )
        except botocore.exceptions.ClientError as error:
            code = aws.error_code(error)
            if code in _WAIT_OVER:
                return False
            # Only the code: the service's message could quote the request.
            raise RuntimeError(f"SendTaskSuccess failed: {code}") from None
        return True
