"""EXPRESS state machines as AWS runs them; moto ran them as STANDARD ones. Registered in
local/patches/registry.py; AWS's words are its recorded answers (LocalStack's
test_sfn_api_express and test_sfn_api snapshots, 2024).

- express-definitions: CreateStateMachine and UpdateStateMachine of an EXPRESS machine refuse
  a `.sync` or `.waitForTaskToken` Task and an activity, at any depth
  (local/aws/stepfunctions/definitions.py, express_problems).
- express-executions: an execution's ARN is
  `arn:<partition>:states:<region>:<account>:express:<machine>:<name>:<uuid>`, its name may
  be used again (express-at-least-once-execution.html: "Starting multiple workflows with
  the same name results in concurrent executions"); DescribeExecution, StopExecution and
  GetExecutionHistory refuse that ARN (InvalidArn), ListExecutions an EXPRESS machine
  (StateMachineTypeNotSupported). The execution runs, and stays in the engine's data, as any
  other.
- start-sync-execution: StartSyncExecution runs an EXPRESS execution to its end and answers
  what it did; a STANDARD machine is refused (StateMachineTypeNotSupported).
"""

from __future__ import annotations

import contextvars
import functools
import math
import uuid
from typing import TYPE_CHECKING, Any, Final

from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.stepfunctions.exceptions import InvalidArn
from moto.stepfunctions.parser.api import InvalidDefinition, StateMachineTypeNotSupported
from moto.stepfunctions.parser.backend.execution import Execution, SyncExecution

from local.aws.stepfunctions import definitions
from local.patches.teststate import AwsError

if TYPE_CHECKING:
    from local.patches.hooks import Hooks

EXPRESS: Final = "EXPRESS"
NOT_SUPPORTED: Final = "This operation is not supported by this type of state machine"
NOT_IN_CONTEXT: Final = "Invalid Arn: 'Resource type not valid in this context: express'"
# StartSyncExecution's billingDetails: AWS bills an Express execution's duration in 100 ms
# steps (its recorded answers: 100 for a Pass, 300, 7600); 64 MB is what they show for these
# small executions (the engine measures no memory: ours).
_BILLED_STEP_MS: Final = 100
_BILLED_MEMORY_MB: Final = 64

# Set by StartSyncExecution: the next execution StartExecution makes runs to its end in the
# caller's thread (moto's SyncExecution). One only: a Task of that execution that starts
# another state machine starts it as usual.
_SYNC: contextvars.ContextVar[bool] = contextvars.ContextVar("sync_execution", default=False)


def _type(state_machine: Any) -> str:
    return str(getattr(state_machine, "type", "STANDARD"))


# express-definitions


def express_definitions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionsParserBackend.create_state_machine (its sm_type) and
    update_state_machine (the machine's type): an EXPRESS machine's definition is refused,
    in AWS's words, for what Express workflows lack as for any other problem AWS finds."""
    if name == "create_state_machine":

        @functools.wraps(original)
        def create_state_machine(
            self: Any, name: str, definition: str, roleArn: str, **options: Any
        ) -> Any:
            if options.get("sm_type") == EXPRESS:
                _check_express(definition)
            return original(self, name, definition, roleArn, **options)

        return create_state_machine

    @functools.wraps(original)
    def update_state_machine(
        self: Any, arn: str, definition: str | None = None, **options: Any
    ) -> Any:
        if definition is not None and _type(self.describe_state_machine(arn)) == EXPRESS:
            _check_express(definition)
        return original(self, arn, definition, **options)

    return update_state_machine


def _check_express(definition: str) -> None:
    parsed = definitions.parsed(definition)
    if parsed is None:
        return  # moto's parser refuses it, as for any machine
    problems = definitions.express_problems(parsed)
    if problems:  # with the rest AWS refuses, in one answer
        raise InvalidDefinition(definitions.refusal(definitions.problems(parsed) + problems))


# express-executions


def express_executions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces parser.models' Execution (the class StartExecution makes an execution of),
    StateMachine._handle_name_input_idempotency(self, name, execution_input),
    StepFunctionBackend._validate_execution_arn(self, execution_arn) and
    StepFunctionBackend.list_executions(self, state_machine_arn, status_filter)."""
    if name == "Execution":
        return _execution
    if name == "_handle_name_input_idempotency":

        @functools.wraps(original)
        def handle_name_input_idempotency(self: Any, name: str, execution_input: str) -> Any:
            if _type(self) == EXPRESS:
                return None  # each start is an execution of its own
            return original(self, name, execution_input)

        return handle_name_input_idempotency
    if name == "_validate_execution_arn":

        @functools.wraps(original)
        def validate_execution_arn(self: Any, execution_arn: str) -> None:
            if _resource_type(execution_arn) == "express":
                raise InvalidArn(NOT_IN_CONTEXT)
            original(self, execution_arn)

        return validate_execution_arn

    @functools.wraps(original)
    def list_executions(
        self: Any, state_machine_arn: str, status_filter: str | None = None, **paging: Any
    ) -> Any:
        if _type(self.describe_state_machine(state_machine_arn)) == EXPRESS:
            raise StateMachineTypeNotSupported(NOT_SUPPORTED)
        return original(self, state_machine_arn, status_filter, **paging)  # moto's paginator

    return list_executions


def _resource_type(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[5] if len(parts) > 5 else None


def _execution(**arguments: Any) -> Execution:
    """An execution as moto's StartExecution makes it: an EXPRESS machine's with AWS's ARN
    for it, and the one StartSyncExecution asked for a SyncExecution (run in this thread)."""
    if _type(arguments["state_machine"]) == EXPRESS:
        parts = arguments["exec_arn"].split(":")  # ...:execution:<machine>:<name>
        parts[5] = "express"
        arguments["exec_arn"] = ":".join([*parts, str(uuid.uuid4())])
    if _SYNC.get():
        _SYNC.set(False)
        return SyncExecution(**arguments)
    return Execution(**arguments)


# start-sync-execution


def start_sync_execution(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.call_action(self): StartSyncExecution is answered (moto
    does not implement it)."""

    @functools.wraps(original)
    def call_action(self: BaseResponse) -> TYPE_RESPONSE:
        if self._get_action() != "StartSyncExecution":
            return original(self)
        try:
            answer = _run_sync(self)
        except ServiceException as error:
            return self.serialized(ActionResult(error))
        except JsonRESTError as error:  # moto's Step Functions errors
            return self.serialized(ActionResult(AwsError(error.error_type, error.message)))
        return self.serialized(ActionResult(answer))

    return call_action


def _run_sync(self: Any) -> dict[str, Any]:
    backend = self.stepfunction_backend
    arn = self._get_param("stateMachineArn")
    if _type(backend.describe_state_machine(arn)) != EXPRESS:
        raise StateMachineTypeNotSupported(NOT_SUPPORTED)
    token = _SYNC.set(True)
    try:  # StartExecution's checks (name, input, version), its ARN, run to its end
        execution = backend.start_execution(
            arn,
            self._get_param("name"),
            self._get_param("input", if_none="{}"),
            self._get_param("traceHeader"),
        )
    finally:
        _SYNC.reset(token)
    answer = execution.to_start_sync_execution_output()
    answer["input"] = execution.execution_input  # as it was sent, as DescribeExecution's
    elapsed = (execution.stop_date - execution.start_date).total_seconds() * 1000
    answer["billingDetails"] = {
        "billedDurationInMilliseconds": max(1, math.ceil(elapsed / _BILLED_STEP_MS))
        * _BILLED_STEP_MS,
        "billedMemoryUsedInMB": _BILLED_MEMORY_MB,
    }
    return {key: value for key, value in answer.items() if value is not None}
