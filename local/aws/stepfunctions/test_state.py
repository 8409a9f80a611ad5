"""Step Functions' TestState API on moto's own ASL interpreter.

AWS's TestState runs one state of a definition once and answers what it did: its output
and the next state, or the error it failed, retried or caught, and at the DEBUG and TRACE
levels the data at each step of its input and output processing
(https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html). moto does
not implement it. Here the state is parsed by moto's ASL parser (the whole definition too,
when `stateName` names one of its states) and evaluated once by moto's interpreter
(single_state.py), so it behaves as it does in an execution.

A request AWS refuses is refused with AWS's error code and, where AWS's wording is known,
AWS's words: the messages recorded against AWS in LocalStack's public parity tests
(tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json) and the Coral validation
format. Where AWS's wording is not known (revealSecrets without TRACE, variables that are not
an object, an activity or a `.sync` or `.waitForTaskToken` task without a mock, a context
without a mock, a Map or Parallel error without errorCausedByState) the error code is AWS's
and the words are ours; docs/stepfunctions-local.md lists them.

Nothing here speaks HTTP: local/teststate_patches.py routes the API call to `answer`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from botocore.model import OperationModel
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer import (
    result_writer_decl,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import (
    StateParallel,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_api_gateway import (  # noqa: E501
    StateTaskServiceApiGateway,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_activitiy import (
    StateTaskActivity,
)
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.parse.asl_parser import (
    AmazonStateLanguageParser,
    ASLParserException,
)

from local.aws.request_validation import validation_message
from local.aws.stepfunctions import answers, definitions, mocks, variables
from local.aws.stepfunctions.single_state import Evaluation, Mock, Run

# The name AWS gives the state of a single-state definition (the context object's
# State.Name in its answers).
LONE_STATE: Final = "StateName"
NOT_MOCKABLE: Final = frozenset({"Pass", "Fail", "Succeed", "Choice", "Wait"})
CONTEXT_FIELDS: Final = {
    "Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount", "RedriveTime"},
    "State": {"EnteredTime", "Name", "RetryCount"},
    "StateMachine": {"Id", "Name"},
    "Task": {"Token"},
}
CONTEXT_INTEGERS: Final = {("State", "RetryCount"), ("Execution", "RedriveCount")}
CONTEXT_INVALID: Final = "Invalid Context object provided: "


class Refused(Exception):
    """What AWS answers with a 400: its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def answer(
    request: Mapping[str, Any], account: str, region: str, now: Callable[[], datetime]
) -> dict[str, Any]:
    """TestState's answer (botocore's TestStateOutput shape) to a request (its TestStateInput
    shape, the JSON body parsed). Raises Refused for what AWS refuses."""
    operation = mocks.operation("stepfunctions", "TestState")
    assert operation is not None and operation.input_shape is not None
    message = validation_message(request, operation.input_shape)
    if message is not None:
        raise _invalid(message)
    level = request.get("inspectionLevel") or "INFO"
    if request.get("revealSecrets") and level != "TRACE":
        raise _invalid("revealSecrets can only be set when inspectionLevel is TRACE.")
    run = _Request(request).run()
    return Evaluation(run, account, region, now).outcome().answer(inspect=level != "INFO")


def _invalid(message: str) -> Refused:
    return Refused("ValidationException", message)


def _invalid_definition(detail: str) -> Refused:
    return Refused("InvalidDefinition", f"Invalid State Machine Definition: '{detail}'")


class _Request:
    """A TestState request, checked as AWS checks it, in AWS's order."""

    def __init__(self, request: Mapping[str, Any]) -> None:
        self.request = request
        self.configuration = request.get("stateConfiguration") or {}

    def run(self) -> Run:
        request, configuration = self.request, self.configuration
        name, definition, query_language, in_map = _locate(
            request["definition"], request.get("stateName")
        )
        self.state = _parsed(name, definition, query_language)
        self.definition = definition
        input_text = request.get("input") or "{}"
        state_input = _input(input_text)
        held = _variables(request.get("variables"))
        failed_iterations = configuration.get("mapIterationFailureCount")
        self.mock = _mock(request.get("mock"))
        if failed_iterations is not None and self.mock is None:
            raise _invalid(
                "TestState does not support MapIterationFailureCount when a mock is not specified."
            )
        self._check_mocking()
        context = self._context()
        if (
            self.mock is None
            and request.get("roleArn") is None
            and isinstance(self.state, StateTask)
        ):
            raise _invalid("RoleArn must be specified when testing a Task state")
        retries = configuration.get("retrierRetryCount")
        if retries is None:  # the guide: or raise RetryCount in the context object
            retries = (context or {}).get("State", {}).get("RetryCount", 0)
        return Run(
            state=self.state,
            definition=definition,
            in_map=in_map,
            input_text=input_text,
            input=state_input,
            role_arn=request.get("roleArn"),
            variables=held,
            mock=self.mock,
            context=context,
            retries=retries,
            failed_iterations=failed_iterations or 0,
            reader_data=_reader_data(configuration.get("mapItemReaderData")),
        )

    @property
    def state_type(self) -> str:
        return str(self.definition["Type"])

    def _check_mocking(self) -> None:
        mock, state = self.mock, self.state
        if mock is None:
            if isinstance(state, StateMap | StateParallel):
                raise Refused(
                    "InvalidDefinition",
                    "TestState API does not support Map or Parallel states. Supported state "
                    "types include: [Task, Wait, Pass, Succeed, Fail, Choice]",
                )
            if _needs_mock(state):
                raise Refused(
                    "InvalidDefinition",
                    "TestState API does not support Activity tasks, .sync or .waitForTaskToken "
                    "service integration patterns when a mock is not specified.",
                )
            return
        if self.state_type in NOT_MOCKABLE:
            raise _invalid(
                f"State type '{self.state_type}' is not supported when a mock is specified"
            )
        if self.request.get("revealSecrets"):
            raise _invalid("TestState does not support RevealSecrets when a mock is specified.")
        if mock.error is not None:
            if isinstance(state, StateMap | StateParallel):
                self._check_error_source()
            return
        self._check_mocked_result(mock, state)

    def _check_mocked_result(self, mock: Mock, state: CommonStateField) -> None:
        result = mock.result
        if isinstance(state, StateMap):
            writes = isinstance(
                state.result_writer, result_writer_decl.ResultWriter
            )  # not a WriterConfig alone
            if writes and not isinstance(result, dict):
                raise _invalid("Mocked result must be a JSON object.")
            if not writes and not isinstance(result, list):
                raise _invalid("Mocked result must be an array.")
            failed = self.configuration.get("mapIterationFailureCount")
            if failed is not None and isinstance(result, list) and failed > len(result):
                raise _invalid(
                    "Map iteration failure count must be less than or equal to the number of "
                    "Map iterations"
                )
        elif isinstance(state, StateParallel):
            if not isinstance(result, list):
                raise _invalid("Mocked result must be an array.")
            if len(result) != len(state.branches.programs):
                raise _invalid(
                    "Mocked result must contain the same number of items as number of Parallel "
                    "branches."
                )
        elif isinstance(state, StateTaskService):
            model = _mocked_operation(state)
            mode = (self.request.get("mock") or {}).get("fieldValidationMode") or "STRICT"
            if model is not None:
                try:
                    mocks.check(result, model, mode)
                except mocks.MockRejected as rejected:
                    raise _invalid(str(rejected)) from None

    def _check_error_source(self) -> None:
        source = self.configuration.get("errorCausedByState")
        if source is None:
            raise _invalid(
                "errorCausedByState must be specified when mocking an error for a Map or "
                "Parallel state."
            )
        if source not in _inner_state_names(self.definition):
            raise _invalid(f"errorCausedByState '{source}' is not a state of the tested state.")

    def _context(self) -> dict[str, Any] | None:
        text = self.request.get("context")
        if text is None:
            return None
        if self.mock is None:
            raise _invalid("TestState does not support Context when a mock is not specified.")
        context = _object(text, CONTEXT_INVALID.rstrip(": "))
        assert context is not None
        for section, fields in context.items():
            _check_context_section(section, fields)
        if "Task" in context and not _needs_mock(self.state):
            raise _invalid(
                f"{CONTEXT_INVALID}Context object contains 'Task' when state is not a Task state "
                "with a '.sync' or '.waitForTaskToken' service integration pattern"
            )
        return context


def _check_context_section(section: str, fields: Any) -> None:
    if section == "Map":
        raise _invalid(
            f"{CONTEXT_INVALID}'Map' field is not supported when mocking a Context object"
        )
    if section not in CONTEXT_FIELDS:
        raise _invalid(f"{CONTEXT_INVALID}Field '{section}' is not allowed")
    if not isinstance(fields, dict):
        raise _invalid(f"{CONTEXT_INVALID}{section} must be an object")
    for field, value in fields.items():
        if field not in CONTEXT_FIELDS[section]:
            raise _invalid(f"{CONTEXT_INVALID}Field '{field}' is not allowed")
        if (section, field) in CONTEXT_INTEGERS:
            if not isinstance(value, int) or isinstance(value, bool):
                raise _invalid(f"{CONTEXT_INVALID}{section}.{field} must be an integer")
        elif field != "Input" and not isinstance(value, str):
            raise _invalid(f"{CONTEXT_INVALID}{section}.{field} must be a string")


def _needs_mock(state: CommonStateField) -> bool:
    """An activity, or a `.sync` or `.waitForTaskToken` task: AWS runs it only mocked."""
    if isinstance(state, StateTaskActivity):
        return True
    return isinstance(state, StateTaskService) and state.resource.condition is not None


def _mocked_operation(state: StateTaskService) -> OperationModel | None:
    """The API whose model a task's mock must fit, where AWS checks one: the integration's
    own, the polled one for `.sync`; none for `.waitForTaskToken` (its result is what the
    worker sends back), API Gateway and EKS (the guide: not validated)."""
    if isinstance(state, StateTaskServiceApiGateway) or state.resource.api_name == "eks":
        return None
    service, action = state._get_boto_service_name(), state._get_boto_service_action()
    condition = state.resource.condition
    if condition == ResourceCondition.WaitForTaskToken:
        return None
    if condition is not None:
        polled = mocks.SYNC_POLLED.get((service, action))
        return None if polled is None else mocks.operation(service, polled)
    return mocks.operation(service, action)


def _mock(raw: Mapping[str, Any] | None) -> Mock | None:
    if raw is None:
        return None
    if "result" in raw and "errorOutput" in raw:
        raise _invalid(
            "A test mock should have only one of the following fields: [result, errorOutput]."
        )
    if "errorOutput" in raw:
        error = raw["errorOutput"]
        return Mock(error=error.get("error") or "", cause=error.get("cause"))
    if "result" not in raw:
        raise _invalid(
            "A test mock should have one of the following fields: [result, errorOutput]."
        )
    try:
        return Mock(result=json.loads(raw["result"]))
    except json.JSONDecodeError:
        raise _invalid("Mocked result must be valid JSON") from None


def _input(text: str) -> Any:
    problem = answers.input_problem(text)
    if problem is not None:
        raise Refused("InvalidExecutionInput", problem)
    return json.loads(text)


def _object(text: str | None, what: str) -> dict[str, Any] | None:
    """A JSON object given as text (variables, the context object), or None."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid(f"{what}: {_why(error)}") from None
    if not isinstance(value, dict):
        raise _invalid(f"{what}: must be a JSON object")
    return value


def _variables(text: str | None) -> dict[str, Any]:
    """The variables the state starts with. A name AWS refuses in an Assign is refused with
    the words of CreateStateMachine's answer (no recording gives TestState's)."""
    held = _object(text, "Invalid variables") or {}
    for name in held:
        problem = variables.name_problem(name)
        if problem is not None:
            raise _invalid(f"Invalid variables: {problem}")
    return held


def _reader_data(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid(f"Invalid mapItemReaderData: {_why(error)}") from None


def _why(error: json.JSONDecodeError) -> str:
    return f"{error.msg} at line {error.lineno}, column {error.colno}"


def _locate(text: str, state_name: str | None) -> tuple[str, dict[str, Any], str | None, bool]:
    """The state under test: the definition itself, or the state `state_name` of the machine
    the definition is, at any depth (in a Parallel's branch, in a Map's processor). With
    the query language it inherits and whether it runs in a Map's iteration."""
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid_definition(f"INVALID_JSON_DESCRIPTION: {_why(error)}") from None
    if not isinstance(definition, dict):
        raise _invalid_definition(
            "SCHEMA_VALIDATION_FAILED: Definition must be a valid JSON object"
        )
    if state_name is None:  # a machine of this state alone, whose Next names no state of it
        _check(_machine(LONE_STATE, definition, None), transitions=False)
        return LONE_STATE, definition, None, False
    _check(definition, transitions=True)  # the whole machine is valid, not only the state
    _parse(text)
    found = _find(definition.get("States"), state_name, in_map=False)
    if found is None:
        raise _invalid("State not found in definition")
    state, in_map = found
    return state_name, state, definition.get("QueryLanguage"), in_map


def _find(states: Any, name: str, in_map: bool) -> tuple[dict[str, Any], bool] | None:
    if not isinstance(states, dict):
        return None
    if isinstance(states.get(name), dict):
        return states[name], in_map
    for state in states.values():
        for inner_states, inner_in_map in _scopes(state):
            found = _find(inner_states, name, in_map or inner_in_map)
            if found is not None:
                return found
    return None


def _scopes(state: Any) -> Iterator[tuple[Any, bool]]:
    """The `States` of the scopes nested in a state, and whether each is a Map's."""
    if not isinstance(state, dict):
        return
    for branch in state.get("Branches") or []:
        if isinstance(branch, dict):
            yield branch.get("States"), False
    for key in ("ItemProcessor", "Iterator"):
        if isinstance(state.get(key), dict):
            yield state[key].get("States"), True


def _inner_state_names(state: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for states, _ in _scopes(state):
        if isinstance(states, dict):
            names.update(states)
            for inner in states.values():
                names.update(_inner_state_names(inner) if isinstance(inner, dict) else ())
    return names


def _check(definition: dict[str, Any], transitions: bool) -> None:
    """Refuses what CreateStateMachine refuses in the definition (definitions.py), in its
    words; not what the engine refuses for its own reading of S3 (TestState reads none)."""
    problems = definitions.problems(definition, transitions=transitions, reads_s3=False)
    if problems:
        raise _invalid_definition(", ".join(problems))


def _machine(name: str, state: dict[str, Any], query_language: str | None) -> dict[str, Any]:
    """A state machine of the state alone, as AWS checks and runs it (its recorded answers
    locate a lone state's fields at /States/StateName/...)."""
    machine: dict[str, Any] = {"StartAt": name, "States": {name: state}}
    if query_language is not None:
        machine["QueryLanguage"] = query_language
    return machine


def _parsed(name: str, state: dict[str, Any], query_language: str | None) -> CommonStateField:
    """moto's component for the state, parsed as the only state of a machine: a private
    copy (the parse is cached, the evaluation instruments what it gets)."""
    program = _parse(json.dumps(_machine(name, state, query_language)))
    return copy.deepcopy(program.states.states[name])


def _parse(definition: str) -> Any:
    try:
        return AmazonStateLanguageParser.parse(definition)[0]
    except ASLParserException as error:
        detail = "; ".join(error.errors)
    except Exception as error:  # what moto's preprocessor raises for an invalid state
        detail = str(error)
    raise _invalid_definition(f"SCHEMA_VALIDATION_FAILED: {detail}")
