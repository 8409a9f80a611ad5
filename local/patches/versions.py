"""Executions of a state machine version, as AWS runs them.

StartExecution accepts a version ARN (`stateMachine:<name>:<version>`) and runs that version's
definition (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
moto 5.2.5 failed it with a 500: its StateMachineVersion has neither the execution-name
check nor the backend reference StartExecution reads. The execution is the state machine's
(its name is unique there, DescribeExecution and ListExecutions of the state machine find it)
and the version's (ListExecutions of the version ARN); DescribeExecution names the version
and DescribeStateMachineForExecution answers the version's definition. Registered in
local/patches/registry.py.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.stepfunctions.models import StateMachine, StateMachineVersion

from local.patches.teststate import AwsError

if TYPE_CHECKING:
    from local.patches.hooks import Hooks


class RunnableVersion(StateMachineVersion):
    """A version StartExecution can run: the name of an execution is checked among its state
    machine's executions (AWS's execution ARN names the state machine, not the version)."""

    def __init__(self, source: StateMachine, version: int, description: str | None) -> None:
        super().__init__(source, version, description)
        # Shared, not copied, when an execution snapshots the version (moto's start_execution).
        self.backend = source.backend

    def __deepcopy__(self, memo: dict[int, Any]) -> RunnableVersion:
        """Itself: a version does not change. moto's start_execution snapshots the state
        machine it runs, versions included, and copying a version copied the executions it
        holds, live locks and all: StartExecution of a state machine one of whose versions had
        run failed with a TypeError."""
        return self

    def machine(self) -> StateMachine:
        return self.backend.describe_state_machine(self.source_arn)

    def _handle_name_input_idempotency(self, name: str, execution_input: str) -> Any:
        return self.machine()._handle_name_input_idempotency(name, execution_input)


def runnable_versions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateMachineVersion (moto's StateMachine.publish creates them), StepFunctions
    ParserBackend.start_execution, and StepFunctionResponse.describe_execution and
    describe_state_machine_for_execution."""
    if name == "StateMachineVersion":
        return RunnableVersion
    if name == "start_execution":
        return _started(original)
    if name == "describe_execution":
        return _described(original)
    return _described_machine(original)


def _started(original: Any) -> Any:
    @functools.wraps(original)
    def start_execution(self: Any, state_machine_arn: str, *arguments: Any) -> Any:
        execution = original(self, state_machine_arn, *arguments)  # name, input, trace header
        version = self.describe_state_machine(state_machine_arn)
        if isinstance(version, RunnableVersion):
            executions = version.machine().executions
            if execution not in executions:  # not the running one an idempotent start answers
                executions.append(execution)
        return execution

    return start_execution


def version_run(response: Any, execution_arn: str) -> StateMachineVersion | None:
    """The version an execution ran (a copy taken when it started), if it ran one."""
    ran = response.stepfunction_backend.describe_execution(execution_arn).state_machine
    return ran if isinstance(ran, StateMachineVersion) else None


def _described(original: Any) -> Any:
    @functools.wraps(original)
    def describe_execution(self: Any) -> Any:
        answer = original(self)
        version = version_run(self, self._get_param("executionArn"))
        if version is not None:  # AWS names the state machine and, apart, the version
            answer.result["stateMachineArn"] = version.source_arn
            answer.result["stateMachineVersionArn"] = version.arn
        return answer

    return describe_execution


def _described_machine(original: Any) -> Any:
    @functools.wraps(original)
    def describe_state_machine_for_execution(self: Any) -> Any:
        answer = original(self)
        version = version_run(self, self._get_param("executionArn"))
        if version is not None:  # what the execution ran: the version's definition and role
            answer.result.update(
                definition=version.definition,
                roleArn=version.roleArn,
                loggingConfiguration=version.loggingConfiguration,
                tracingConfiguration=version.tracingConfiguration,
            )
        return answer

    return describe_state_machine_for_execution


_PAGE = 100  # ListStateMachineVersions' maxResults when none is given


def listed_versions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.call_action(self): ListStateMachineVersions, which moto
    does not implement, lists a state machine's versions, the newest first, `maxResults` at
    a time, 100 unless told (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListStateMachineVersions.html)."""

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        if self._get_action() != "ListStateMachineVersions":
            return original(self)
        try:
            machine = self.stepfunction_backend.describe_state_machine(
                self._get_param("stateMachineArn")
            )
        except ServiceException as refused:  # an ARN AWS refuses, as DescribeStateMachine
            return self.serialized(ActionResult(refused))
        versions = [machine.versions[number] for number in sorted(machine.versions, reverse=True)]
        token = self._get_param("nextToken") or "0"
        if not token.isdigit():  # not one this answered
            invalid = AwsError("InvalidToken", f"Invalid Token: '{token}'")
            return self.serialized(ActionResult(invalid))
        start = int(token)
        end = start + int(self._get_param("maxResults") or _PAGE)
        body: dict[str, Any] = {
            "stateMachineVersions": [
                {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date}
                for v in versions[start:end]
            ]
        }
        if end < len(versions):
            body["nextToken"] = str(end)
        return self.serialized(ActionResult(body))

    return call_action
