"""One state evaluated once by moto's own ASL interpreter, observed: what TestState runs.

The state's component (a private copy of what moto's parser built) is evaluated by moto's
code in an Environment made for the test, as an execution evaluates it, so JSONPath,
JSONata, intrinsic functions, Choice rules, Assign and the integrations behave as they do in
an execution. On the copy:

- the parts AWS reports are observed where moto computes them: InputPath, Parameters or
  Arguments, the task's result, ResultSelector, ResultPath;
- a task's mock is moto's own mocked-response mode (the one Step Functions Local's mock
  configuration drives); a Map's iterations, a Parallel's branches and an activity are
  replaced by the mock, as AWS replaces them;
- a Retry is decided once instead of waited for: with `retries` already made, the error is
  RETRIABLE with the backoff AWS would wait, or the retries are exhausted; a Catch runs as in
  an execution and its index is noted;
- a Wait state is evaluated without waiting.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from moto.stepfunctions.parser.api import (
    HistoryEventType,
    StateMachineType,
    TaskFailedEventDetails,
)
from moto.stepfunctions.parser.asl.component.common.catch.catch_outcome import CatchOutcome
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    ILLEGAL_CUSTOM_ERROR_PREFIX,
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
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
from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
from moto.stepfunctions.parser.asl.component.common.retry.jitter_strategy_decl import (
    JitterStrategy,
)
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.common.retry.retry_outcome import RetryOutcome
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import (
    StateParallel,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_activitiy import (
    StateTaskActivity,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
    StateTaskLambda,
)
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.component.state.state_pass.state_pass import StatePass
from moto.stepfunctions.parser.asl.component.state.wait.state_wait import StateWait
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.eval.states import (
    ContextObjectData,
    ExecutionData,
    ItemData,
    MapData,
    StateMachineData,
)
from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.mocking.mock_config import (
    MockedResponseReturn,
    MockTestCase,
    StateMockedResponses,
)

from local.aws.stepfunctions import answers
from local.aws.stepfunctions.failures import states_failure
from local.aws.stepfunctions.variables import pending

THRESHOLD_EXCEEDED: Final = "The specified tolerated failure threshold was exceeded"
# inspectionData's fields, in the order a state computes them (and AWS lists them).
FIELDS: Final[tuple[str, ...]] = (
    "input",
    "afterInputPath",
    "afterParameters",
    "afterArguments",
    "afterItemsPath",
    "afterItemSelector",
    "result",
    "afterResultSelector",
    "afterResultPath",
    "maxConcurrency",
    "toleratedFailureCount",
    "toleratedFailurePercentage",
    "variables",
    "errorDetails",
)
NUMBERS: Final = frozenset(
    {"maxConcurrency", "toleratedFailureCount", "toleratedFailurePercentage"}
)


@dataclasses.dataclass(frozen=True)
class Mock:
    """A mocked result, or a mocked error (`error` set)."""

    result: Any = None
    error: str | None = None
    cause: str | None = None

    def answer(self, env: Environment) -> None:
        """What the mocked part answers: its result on the stack, or its error raised (as a
        task's failure, with the error's name as moto names it, States.* ones included)."""
        if self.error is None:
            env.stack.append(copy.deepcopy(self.result))
            return
        details = TaskFailedEventDetails(error=self.error)
        if self.cause is not None:
            details["cause"] = self.cause
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=_error_name(self.error),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(taskFailedEventDetails=details),  # type: ignore[typeddict-item]
            )
        )

    def returned(self, attempts: int) -> MockedResponseReturn:
        """The result as moto's mocked response, the same for the first `attempts` attempts
        (moto picks a task's by $$.State.RetryCount)."""
        return MockedResponseReturn(0, attempts - 1, payload=copy.deepcopy(self.result))


def _error_name(error: str) -> ErrorName:
    if not error.startswith(ILLEGAL_CUSTOM_ERROR_PREFIX):
        return CustomErrorName(error)
    try:
        return StatesErrorName.from_name(error)
    except ValueError:  # a States.* name moto does not know: matched by its name
        return ErrorName(error)


@dataclasses.dataclass(frozen=True)
class Run:
    """What one evaluation needs: the state (a private copy: it is instrumented) and the
    request's checked values."""

    state: CommonStateField
    definition: dict[str, Any]  # the state's own ASL
    in_map: bool  # inside a Map's ItemProcessor: the context object has Map.Item
    input_text: str
    input: Any
    role_arn: str | None
    variables: dict[str, Any]
    mock: Mock | None
    context: dict[str, Any] | None  # given: what the state reads, as is
    retries: int  # retries already made for the Retry that matches
    failed_iterations: int  # a Map's failed iterations
    reader_data: Any  # what a Map's ItemReader read


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: str
    output: Any = None
    has_output: bool = False
    next_state: str | None = None
    error: str | None = None
    cause: str | None = None
    inspection: dict[str, Any] = dataclasses.field(default_factory=dict)  # as JSON text

    def answer(self, inspect: bool) -> dict[str, Any]:
        """The TestState answer (its `inspectionData` only when `inspect`)."""
        answer: dict[str, Any] = {"status": self.status}
        if self.has_output:
            answer["output"] = json_text(self.output)
        fields = (("error", self.error), ("cause", self.cause), ("nextState", self.next_state))
        answer.update({key: value for key, value in fields if value is not None})
        if inspect:
            answer["inspectionData"] = self.inspection
        return answer


def json_text(value: Any) -> str:
    """JSON as Step Functions writes it (compact, as in its execution history)."""
    return to_json_str(value, separators=(",", ":"))


class _Retriable(Exception):
    def __init__(self, failure_event: FailureEvent) -> None:
        super().__init__()
        self.failure_event = failure_event


class Evaluation:
    """One evaluation of the state under test, observed."""

    def __init__(self, run: Run, account: str, region: str, now: Callable[[], datetime]) -> None:
        self.run = run
        self.account = account
        self.region = region
        self.now = now
        mode = run.state.query_language.query_language_mode
        self.jsonpath = mode == QueryLanguageMode.JSONPath
        self.seen: dict[str, Any] = {}  # inspection data, as values
        self.error_details: dict[str, int] = {}
        self.caught: FailureEvent | None = None
        self.assigned: dict[str, Any] = {}

    def outcome(self) -> Outcome:
        env = self._environment()
        state = self.run.state
        self._replace(state)
        self._observe(state)  # after: a replaced part is observed as the part would be
        env.next_state_name = state.name
        try:
            state.eval(env)
        except _Retriable as retriable:
            error, cause = _error_cause(retriable.failure_event)
            return self._outcome(env, "RETRIABLE", error=error, cause=cause)
        except FailureEventException as failure:
            error_name, reason = failure.extract_error_cause_pair() or (None, None)
            return self._outcome(env, "FAILED", error=error_name, cause=reason)
        except Exception as exception:  # what moto's Program makes of it in an execution
            runtime = StatesErrorName(typ=StatesErrorNameType.StatesRuntime).error_name
            cause = f"{type(exception).__name__}({exception})"
            return self._outcome(env, "FAILED", error=runtime, cause=cause)
        output, next_state = env.states.get_input(), env.next_state_name
        if not env.is_running():  # End, Succeed
            next_state = None
        if self.caught is not None:
            error, cause = _error_cause(self.caught)
            return self._outcome(
                env, "CAUGHT_ERROR", output=output, next_state=next_state, error=error, cause=cause
            )
        return self._outcome(env, "SUCCEEDED", output=output, next_state=next_state)

    def _outcome(
        self,
        env: Environment,
        status: str,
        *,
        output: Any = None,
        next_state: str | None = None,
        error: str | None = None,
        cause: str | None = None,
    ) -> Outcome:
        has_output = status in ("SUCCEEDED", "CAUGHT_ERROR")
        return Outcome(status, output, has_output, next_state, error, cause, self._inspection(env))

    def _environment(self) -> Environment:
        run = self.run
        machine, execution = f"TestState-{uuid.uuid4()}", str(uuid.uuid4())
        arn = f"arn:aws:states:{self.region}:{self.account}"
        context = ContextObjectData(  # State: moto's, set on entry
            Execution=ExecutionData(
                Id=f"{arn}:express:{machine}:{execution}",
                Input=copy.deepcopy(run.input),
                Name=execution,
                RoleArn=run.role_arn,  # type: ignore[typeddict-item]  # null when not given
                StartTime=answers.aws_timestamp(self.now()),
            ),
            StateMachine=StateMachineData(Id=f"{arn}:stateMachine:{machine}", Name=machine),
        )
        if run.in_map:
            context["Map"] = MapData(Item=ItemData(Index=0, Value=copy.deepcopy(run.input)))
        variables = VariableStore()
        for name, value in run.variables.items():
            variables.set(name, copy.deepcopy(value))
        variables.reset_tracing()
        self._keep_assigned(variables)
        env = Environment(
            aws_execution_details=AWSExecutionDetails(
                account=self.account, region=self.region, role_arn=run.role_arn or ""
            ),
            execution_type=StateMachineType.STANDARD,
            context=context,
            event_history_context=EventHistoryContext.of_program_start(),
            cloud_watch_logging_session=None,
            activity_store={},
            variable_store=variables,
            mock_test_case=self._mocked_task(),
        )
        env.states.reset(input_value=copy.deepcopy(run.input))
        if run.context is not None:
            given = _Given(copy.deepcopy(run.context), _MOTO_READS)
            setattr(env.states.context_object, "context_object_data", given)  # noqa: B010
            env.states._states_data["context"] = given  # type: ignore[typeddict-item]
        return env

    def _keep_assigned(self, variables: VariableStore) -> None:
        """Notes the variables the state assigns: moto forgets which they were when it logs
        the state's exit."""
        reset = variables.reset_tracing

        def keeping_assigned() -> None:
            for name, text in variables.get_assigned_variables().items():
                self.assigned[name] = json.loads(text)
            reset()

        setattr(variables, "reset_tracing", keeping_assigned)  # noqa: B010

    def _mocked_task(self) -> MockTestCase | None:
        """moto's mocked-response mode for a task's mocked result: moto's Lambda, service
        and callback tasks consult it instead of calling out (or waiting for a callback)."""
        run, state, mock = self.run, self.run.state, self.run.mock
        if mock is None or mock.error is not None or not isinstance(state, StateTask):
            return None
        if isinstance(state, StateTaskActivity):
            return None  # replaced instead (moto's activities do not consult it)
        if isinstance(state, StateTaskLambda):
            mock = Mock(result={"Payload": mock.result})  # a function ARN's result: the payload
        # moto picks the response by $$.State.RetryCount: a given context's, or the retries made.
        given = (run.context or {}).get("State", {}).get("RetryCount", 0)
        attempts = 1 + max(run.retries, given if isinstance(given, int) else 0)
        mocked = StateMockedResponses(state.name, "mock", [mock.returned(attempts)])
        return MockTestCase("TestState", "TestState", [mocked])

    # What AWS reports, taken where moto computes it.

    def _observe(self, state: CommonStateField) -> None:
        seen = self.seen
        if self.jsonpath:
            _after(state.input_path, "afterInputPath", seen)
        arguments = "afterParameters" if self.jsonpath else "afterArguments"
        if isinstance(state, StateTask | StateParallel):
            _after(state.parargs, arguments, seen)
        if isinstance(state, StatePass):
            _after(state.parameters, arguments, seen)
            _after(state.result, "result", seen)
        if isinstance(state, ExecutionState):
            _after_method(state, "_eval_execution", "result", seen)
            if self.jsonpath:
                _after(state.result_selector, "afterResultSelector", seen)
        if self.jsonpath and isinstance(state, ExecutionState | StatePass):
            _after(state.result_path, "afterResultPath", seen)

    # What TestState does instead of what an execution does.

    def _replace(self, state: CommonStateField) -> None:
        mock = self.run.mock
        if isinstance(state, StateWait):
            setattr(state.wait_function, "_wait_interval", _no_wait)  # noqa: B010
        replaces_task = isinstance(state, StateTaskActivity) or getattr(mock, "error", None)
        if mock is not None and isinstance(state, StateTask) and replaces_task:
            setattr(state, "_eval_execution", _mocked_execution(state, mock))  # noqa: B010
        if mock is not None and isinstance(state, StateParallel):
            setattr(state, "branches", _MockedBranches(mock))  # noqa: B010
        if mock is not None and isinstance(state, StateMap):
            iterations = _MockedIterations(self, state, mock)
            setattr(state.iteration_component, "eval", iterations.eval)  # noqa: B010
            state.result_writer = None  # the mock is what the ResultWriter would answer
        if isinstance(state, ExecutionState) and state.retry is not None:
            setattr(state, "_handle_retry", self._retry_once(state))  # noqa: B010
        if isinstance(state, ExecutionState) and state.catch is not None:
            setattr(state, "_handle_catch", self._noting_catch(state))  # noqa: B010

    def _retry_once(
        self, state: ExecutionState
    ) -> Callable[[Environment, FailureEvent], RetryOutcome]:
        assert state.retry is not None
        retriers = state.retry.retriers

        def handle_retry(env: Environment, failure_event: FailureEvent) -> RetryOutcome:
            index = _matching(retriers, failure_event, env)
            if index is None:
                return RetryOutcome.NoRetrier
            self.error_details["retryIndex"] = index
            retrier = retriers[index]
            if self.run.retries >= retrier.max_attempts.attempts:
                return RetryOutcome.CannotRetry
            self.error_details["retryBackoffIntervalSeconds"] = backoff(retrier, self.run.retries)
            raise _Retriable(failure_event)

        return handle_retry

    def _noting_catch(self, state: ExecutionState) -> Callable[[Environment, FailureEvent], None]:
        assert state.catch is not None
        catchers, handle_catch = state.catch.catchers, state._handle_catch

        def noting_catch(env: Environment, failure_event: FailureEvent) -> None:
            handle_catch(env, failure_event)
            if env.stack[-1] == CatchOutcome.Caught:
                index = _matching(catchers, failure_event, env)
                assert index is not None
                self.error_details["catchIndex"] = index
                self.caught = failure_event

        return noting_catch

    def _inspection(self, env: Environment) -> dict[str, Any]:
        """inspectionData: what was seen, as JSON text (numbers as numbers)."""
        seen = dict(self.seen)
        if self.jsonpath:
            _pass_through(seen, self.run.state, self.run.definition)
        for field in _unreported(self.run.state, self.run.definition):
            seen.pop(field, None)
        seen["input"] = self.run.input_text  # as given
        variables = dict(self.run.variables)
        variables.update(self.assigned)
        variables.update(pending(env))  # assigned, the state not exited (it failed)
        if variables:
            seen["variables"] = variables
        if self.error_details:
            seen["errorDetails"] = dict(self.error_details)
        return {
            field: seen[field]
            if field in NUMBERS | {"input", "errorDetails"}
            else json_text(seen[field])
            for field in FIELDS
            if field in seen
        }


def _pass_through(
    seen: dict[str, Any], state: CommonStateField, definition: dict[str, Any]
) -> None:
    """The JSONPath fields AWS reports for a step a state does not declare: the value passes
    through (AWS reports `afterParameters` equal to `afterInputPath` for a state without
    Parameters, `afterResultSelector` equal to the result without a ResultSelector)."""
    with_result = isinstance(state, StatePass) and "Result" in definition
    parameters = (
        state.parargs if isinstance(state, StateTask) else getattr(state, "parameters", None)
    )
    passes_input = isinstance(state, StatePass | StateTask) and not with_result
    if passes_input and parameters is None and "afterInputPath" in seen:
        seen.setdefault("afterParameters", seen["afterInputPath"])
    selected = "result" if with_result or isinstance(state, ExecutionState) else "afterParameters"
    selector = state.result_selector if isinstance(state, ExecutionState) else None
    if selector is None and selected in seen and "afterResultPath" in seen:
        seen.setdefault("afterResultSelector", seen[selected])


def _unreported(state: CommonStateField, definition: dict[str, Any]) -> frozenset[str]:
    """What AWS does not report, though the state computes it: the input steps of a Pass
    with a Result (the Result replaces them) and of a mocked Parallel, the result of a Map
    or Parallel (the mock)."""
    if isinstance(state, StatePass) and "Result" in definition:
        return frozenset({"afterInputPath", "afterParameters"})
    if isinstance(state, StateParallel):
        return frozenset({"afterInputPath", "afterParameters", "afterArguments", "result"})
    if isinstance(state, StateMap):
        return frozenset({"result"})
    return frozenset()


class _Given(dict[str, Any]):
    """A context object given with the request, read as given ($$ is what was given).

    moto keeps its bookkeeping in the context object (the State it sets on entry, its
    RetryCount, a task token, what it copies into a task's frame). Its writes of what was
    given, or of what moto reads back (`reads`: answered with a default, never shown), go
    nowhere; its other writes (a task token the context has none of) are kept."""

    def __init__(self, given: dict[str, Any], reads: dict[str, Any]) -> None:
        self.reads = reads
        super().__init__({key: self._nested(key, value) for key, value in given.items()})

    def _nested(self, key: str, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        inner = self.reads.get(key)
        return _Given(value, inner if isinstance(inner, dict) else {})

    def __setitem__(self, key: str, value: Any) -> None:
        if not dict.__contains__(self, key) and key not in self.reads:
            super().__setitem__(key, value)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.reads

    def __missing__(self, key: str) -> Any:
        if key not in self.reads:
            raise KeyError(key)
        default = self.reads[key]
        return _Given({}, default) if isinstance(default, dict) else default

    def __deepcopy__(self, memo: dict[int, Any]) -> _Given:
        return _Given(copy.deepcopy(dict(self), memo), self.reads)


# What moto reads back from a context object (to open a task's frame, to pick a mocked
# response, to name a Map Run), with the value it reads when the given object has none.
_MOTO_READS: Final = {
    "Execution": {"Id": "", "Input": None},
    "StateMachine": {"Id": ""},
    "State": {"RetryCount": 0},
}


def _error_cause(failure_event: FailureEvent) -> tuple[str, str]:
    output = ExecutionState._construct_error_output_value(failure_event)
    return output["Error"], output["Cause"]


def _matching(handlers: list[Any], failure_event: FailureEvent, env: Environment) -> int | None:
    """The index of the first retrier or catcher whose ErrorEquals matches the error, by
    moto's own matching."""
    for index, handler in enumerate(handlers):
        env.stack.append(failure_event.error_name)
        handler.error_equals.eval(env)
        if env.stack.pop():
            return index
    return None


def backoff(retrier: RetrierDecl, retries: int) -> int:
    """The seconds before the next retry, as AWS computes them: IntervalSeconds *
    BackoffRate ** retries made, at most MaxDelaySeconds; with JitterStrategy FULL, a random
    time between 0 and that
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""
    interval = retrier.interval_seconds.seconds * retrier.backoff_rate.rate**retries
    interval = min(interval, retrier.max_delay_seconds.max_delays_seconds)
    if retrier.jitter_strategy.jitter_strategy == JitterStrategy.FULL:
        interval = random.uniform(0, interval)
    return int(interval)


def _after(component: EvalComponent | None, key: str, seen: dict[str, Any]) -> None:
    """Notes the value `component` leaves on the stack, the first time it runs."""
    if component is not None:
        _after_method(component, "eval", key, seen)


def _after_method(owner: Any, method: str, key: str, seen: dict[str, Any]) -> None:
    evaluate = getattr(owner, method)

    def observed(env: Environment) -> None:
        evaluate(env)
        seen.setdefault(key, copy.deepcopy(env.stack[-1]))

    setattr(owner, method, observed)


def _no_wait(env: Environment, wait_seconds: int) -> None:
    """A Wait state's wait, in TestState: none (its duration is still evaluated)."""


def _mocked_execution(state: StateTask, mock: Mock) -> Callable[[Environment], None]:
    """A task's execution answered by the mock: an activity's, or any task's mocked error."""

    def execute(env: Environment) -> None:
        state._eval_parameters(env=env)  # its Parameters or Arguments, evaluated all the same
        mock.answer(env)

    return execute


class _MockedBranches(EvalComponent):
    """A Parallel's branches, answered by the mock (one result per branch)."""

    def __init__(self, mock: Mock) -> None:
        self.mock = mock

    def _eval_body(self, env: Environment) -> None:
        env.stack.pop()  # the branches' input
        self.mock.answer(env)


class _MockedIterations(EvalComponent):
    """A Map's iterations, answered by the mock: the items, the ItemSelector and the failure
    tolerance are evaluated; what the iterations would return is the mocked result."""

    def __init__(self, evaluation: Evaluation, state: StateMap, mock: Mock) -> None:
        self.evaluation = evaluation
        self.state = state
        self.mock = mock

    def _eval_body(self, env: Environment) -> None:
        eval_input = env.stack.pop()
        seen, run = self.evaluation.seen, self.evaluation.run
        items = eval_input.input_items
        if items is None and run.reader_data is not None:  # what the ItemReader read
            items = run.reader_data
        elif items is None and self.state.items_path is not None:
            # The guide: for an ItemReader's Map, the data is in the input, as if read.
            self.state.items_path.eval(env)
            items = env.stack.pop()
        if self.evaluation.jsonpath and run.reader_data is None:
            seen["afterItemsPath"] = copy.deepcopy(items)
        seen["maxConcurrency"] = eval_input.max_concurrency
        count, percentage = self._tolerance(eval_input, seen)
        if self.state.item_selector is not None and isinstance(items, list):
            seen["afterItemSelector"] = [
                self._selected(env, i, item) for i, item in enumerate(items)
            ]
        if self.mock.error is None and self._exceeded(items, count, percentage):
            raise states_failure(
                env,
                StatesErrorNameType.StatesExceedToleratedFailureThreshold,
                THRESHOLD_EXCEEDED,
                HistoryEventType.MapRunFailed,
            )
        self.mock.answer(env)

    def _tolerance(self, eval_input: Any, seen: dict[str, Any]) -> tuple[int | None, float | None]:
        """The failure tolerance the Map declares, as moto evaluated it (a distributed Map's
        evaluation input carries it)."""
        declared = self.evaluation.run.definition.keys()
        count = getattr(eval_input, "tolerated_failure_count", None)
        percentage = getattr(eval_input, "tolerated_failure_percentage", None)
        if count is None or not {"ToleratedFailureCount", "ToleratedFailureCountPath"} & declared:
            count = None
        else:
            seen["toleratedFailureCount"] = count
        keys = {"ToleratedFailurePercentage", "ToleratedFailurePercentagePath"}
        if percentage is None or not keys & declared:
            percentage = None
        else:
            percentage = seen["toleratedFailurePercentage"] = float(percentage)
        return count, percentage

    def _exceeded(self, items: Any, count: int | None, percentage: float | None) -> bool:
        failures = self.evaluation.run.failed_iterations
        if count is not None and failures > count:
            return True
        total = len(items) if isinstance(items, list) else 0
        return percentage is not None and total > 0 and failures * 100 / total > percentage

    def _selected(self, env: Environment, index: int, item: Any) -> Any:
        """An item after the ItemSelector, as its iteration would see it ($$.Map.Item)."""
        assert self.state.item_selector is not None
        frame = env.open_frame()
        try:
            frame.states.context_object.context_object_data["Map"] = MapData(
                Item=ItemData(Index=index, Value=copy.deepcopy(item))
            )
            state_input = env.stack[-1] if env.stack else env.states.get_input()
            frame.states.reset(input_value=state_input)
            frame.stack.append(state_input)
            self.state.item_selector.eval(frame)
            return frame.stack[-1]
        finally:
            env.close_frame(frame)
