"""moto's Step Functions interpreter, made to run JSONata and variables as AWS does.

moto 5.2.5 ported LocalStack's interpreter whole, JSONata states and `Assign` included, but
the one function that evaluates an expression is a stub (moto issue 10105): every JSONata
expression and every read of a variable fails with `TypeError: 'NoneType' object is not
callable`. These replacements evaluate through AWS's dialect (local/aws/stepfunctions/
jsonata.py), name the field of a failing expression as AWS does, refuse at
CreateStateMachine what AWS refuses there, and fix what users met in JSONPath executions.
The patches are registered in local/patches/registry.py.
"""

from __future__ import annotations

import base64
import contextvars
import copy
import functools
import json
import threading
import types
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import InvalidToken
from moto.stepfunctions.parser.api import (
    EvaluationFailedEventDetails,
    ExecutionFailedEventDetails,
    HistoryEventType,
    InvalidDefinition,
    InvalidExecutionInput,
)
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
from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
    StringJSONata,
)
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.eval.variable_store import (
    NoSuchVariable,
    VariableStore,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import Execution

from local.aws.stepfunctions import answers, definitions, payloads, variables
from local.aws.stepfunctions import jsonata as dialect
from local.aws.stepfunctions.answers import aws_timestamp
from local.aws.stepfunctions.failures import states_failure

if TYPE_CHECKING:
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    from local.patches.hooks import Hooks

_QUERY_EVALUATION_ERROR = StatesErrorNameType.StatesQueryEvaluationError


class _Variables(Mapping[str, Any]):
    """The variables a state sees (its scope's and the outer scopes'), read-only."""

    def __init__(self, store: VariableStore) -> None:
        self._store = store

    def __getitem__(self, name: str) -> Any:
        try:
            return self._store.get(name)
        except NoSuchVariable:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        scopes = (self._store._inner_scope, self._store._outer_scope)
        return any(name in scope for scope in scopes)

    def __iter__(self) -> Iterator[str]:
        return iter({**self._store._outer_scope, **self._store._inner_scope})

    def __len__(self) -> int:
        return len({**self._store._outer_scope, **self._store._inner_scope})


def _evaluation_failed(details: EvaluationFailedEventDetails | None) -> EventDetails:
    """EventDetails holding one kind of details, as moto builds them (its TypedDict is total)."""
    return cast(EventDetails, {"evaluationFailedEventDetails": details})


def _failure(env: Environment, expression: str, location: str | None, outcome: str) -> Exception:
    """AWS's States.QueryEvaluationError for an expression, recorded as an EvaluationFailed
    event; moto adds the 'An error occurred while executing the state ...' sentence."""
    field = f" specified for the field '{location}'" if location else ""
    cause = f"The JSONata expression '{expression}'{field} {outcome}"
    return query_evaluation_failure(env, cause, location)


def query_evaluation_failure(
    env: Environment, cause: str, location: str | None, follows_last_event: bool = False
) -> FailureEventException:
    """A States.QueryEvaluationError of the state, its EvaluationFailed event recorded where
    history_events places an expression's (`follows_last_event`: after the state's last event
    instead, as AWS records a Wait's Timestamp that is no date)."""
    details = EvaluationFailedEventDetails(error=_QUERY_EVALUATION_ERROR.to_name(), cause=cause)
    if location:
        details["location"] = location
    failure = FailureEventException(
        FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=_QUERY_EVALUATION_ERROR),
            event_type=HistoryEventType.EvaluationFailed,
            event_details=_evaluation_failed(details),
        )
    )
    token = _FOLLOWS_LAST_EVENT.set(follows_last_event)
    try:
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=_evaluation_failed(failure.get_evaluation_failed_event_details()),
        )
    finally:
        _FOLLOWS_LAST_EVENT.reset(token)
    return failure


def unexpected_result(
    env: Environment, field: StringJSONata, name: str, expected: str, value: Any
) -> FailureEventException:
    """States.QueryEvaluationError for a field whose expression gave the wrong type, in the
    words AWS records for an Items that is no array ("returned an unexpected result type.
    Expected 'array', but was 'string' for value: ..."), at the field's location (`name`
    when it was not told one)."""
    if value is None:
        text, kind = "null", "null"
    elif isinstance(value, bool):
        text, kind = json.dumps(value), "boolean"
    elif isinstance(value, int | float):
        text, kind = json.dumps(value), "number"
    elif isinstance(value, str):
        text, kind = json.dumps(value, ensure_ascii=False), "string"
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        kind = "array" if isinstance(value, list) else "object"
    location = getattr(field, "aws_location", None) or name
    cause = (
        f"The JSONata expression '{field.expression.strip()}' specified for the field "
        f"'{location}' returned an unexpected result type. Expected '{expected}', but was "
        f"'{kind}' for value: {text}"
    )
    return query_evaluation_failure(env, cause, location)


def string_fields(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps a Fail state's Error._eval_body and Cause._eval_body (self, env): a JSONata
    expression there that gives no string is States.QueryEvaluationError (state-fail.html: an
    error name, a cause, both strings); moto raised a Python AttributeError for a number and
    wrote an object's Python repr as the cause."""
    field = "Error" if original.__qualname__.startswith("Error") else "Cause"

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        original(self, env)
        expression = self.string_expression
        if isinstance(expression, StringJSONata) and not isinstance(env.stack[-1], str):
            raise unexpected_result(env, expression, field, "string", env.stack.pop())

    return eval_body


def _outcome(error: Exception) -> str:
    if isinstance(error, dialect.Unsupported):
        return "returned an unsupported result type."
    if isinstance(error, dialect.Failed) and error.code:
        return f"threw an error during evaluation. {error.code}: {error.message}"
    return f"threw an error during evaluation: {error}"


def evaluate_in(
    env: Environment, text: str, location: str | None, with_states: bool, now: datetime
) -> Any:
    """An expression's value in a state's environment, or AWS's failure for it."""
    expression = text.strip()
    try:
        analysed = dialect.analyse(expression)
        value = dialect.evaluate(
            analysed,
            env.states._states_data if with_states else None,
            _Variables(env.variable_store),
            now,
        )
    except (dialect.Refused, dialect.Failed, dialect.Unsupported) as error:
        raise _failure(env, expression, location, _outcome(error)) from error
    if value is dialect.UNDEFINED:
        raise _failure(env, expression, location, "returned nothing (undefined).")
    return value


def expressions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StringJSONata._eval_body (a `{% %}` field) and StringVariableSample._eval_body
    (a variable read in a JSONPath field, `"x.$": "$name.field"`)."""
    now = hooks.clock.now  # $now() and $millis() read the emulator's clock
    if original is StringJSONata._eval_body:

        def jsonata_field(self: StringJSONata, env: Environment) -> None:
            location = getattr(self, "aws_location", None)
            value = evaluate_in(env, self.expression, location, with_states=True, now=now())
            env.stack.append(value)

        return jsonata_field

    def variable_read(self: Any, env: Environment) -> None:
        value = evaluate_in(env, self.expression, None, with_states=False, now=now())
        env.stack.append(value)

    return variable_read


def _annotate(program: Any, definition: str) -> None:
    """Tells each `{% %}` field of the program where it sits in its state (`Output/result`,
    `Choices[0]/Condition`): AWS's failures name it."""
    locations = definitions.expression_locations(json.loads(definition))
    seen: set[int] = set()

    def visit(value: Any, state: str | None) -> None:
        if isinstance(value, list | tuple):
            for item in value:
                visit(item, state)
            return
        if isinstance(value, dict):
            for item in value.values():
                visit(item, state)
            return
        if not isinstance(value, Component) or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, CommonStateField):
            state = value.name
        if isinstance(value, StringJSONata) and state is not None:
            found = locations.get((state, value.expression.strip()))
            if found:
                value.aws_location = found.pop(0) if len(found) > 1 else found[0]  # type: ignore[attr-defined]
        for attribute in vars(value).values():
            visit(attribute, state)

    visit(program, None)


def annotated_parse(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces AmazonStateLanguageParser.parse: the parsed program, its JSONata fields told
    their location (once per program: parses are cached, local/patches/speed.py)."""

    @functools.wraps(original)
    def parse(definition: str) -> Any:
        program, tree = original(definition)
        if not getattr(program, "aws_annotated", False):
            _annotate(program, definition)
            program.aws_annotated = True
        return program, tree

    return parse


def validated_definition(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionsParserBackend._validate_definition: what AWS refuses at
    CreateStateMachine and UpdateStateMachine (query languages, JSONata expressions, variable
    names) is refused with AWS's message before moto parses the definition."""

    def validate_definition(definition: str) -> None:
        parsed = definitions.parsed(definition)
        if parsed is not None:
            problems = definitions.problems(parsed)
            if problems:
                raise InvalidDefinition(definitions.refusal(problems))
        original(definition)

    return validate_definition


def own_scopes(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps Preprocessor._open_query_language_scope: each parse keeps its query languages'
    scopes on its own preprocessor. moto kept them in one list on the class, which a parse
    that failed half-way left holding JSONata: every later JSONPath definition in the process
    was then read as JSONata (its JSONPath fields refused or ignored), and two parses at once
    shared it."""

    @functools.wraps(original)
    def open_scope(self: Any, parse_tree: Any) -> None:
        if "_query_language_per_scope" not in vars(self):
            self._query_language_per_scope = []
        original(self, parse_tree)

    return open_scope


def named_executions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionsParserBackend.start_execution: an execution started without a
    name gets a UUID, as on AWS (moto named it None, so a second unnamed start failed with
    ExecutionAlreadyExists); a name is checked as a state machine's is (API_StartExecution:
    no white space, brackets, wildcards or special characters, at most 80 long: InvalidName,
    or the length's ValidationException), and whether the input is JSON (AWS's recorded
    words, answers.py; its length, "Maximum length of 262144" UTF-8 bytes, the API's model
    checks: executions.validated_requests). moto took any name and any input, and answered
    input that is not JSON in Python's words."""

    @functools.wraps(original)
    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Any:
        if name:
            self._validate_name(name)
        problem = None if execution_input is None else answers.input_problem(execution_input)
        if problem is not None:
            raise InvalidExecutionInput(problem)
        return original(
            self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
        )

    return start_execution


def context_dates(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces ExecutionWorker._get_evaluation_environment: the context object's
    Execution.StartTime is the ISO 8601 text AWS gives, not a datetime (moto's made any
    output holding `$$` unserialisable: DescribeExecution answered an HTML 500)."""

    @functools.wraps(original)
    def environment(self: Any) -> Any:
        env = original(self)
        execution = env.states.context_object.context_object_data["Execution"]
        if isinstance(execution.get("StartTime"), datetime):
            execution["StartTime"] = aws_timestamp(execution["StartTime"])
        execution.setdefault("RedriveCount", 0)  # AWS's context object has it (no redrive here)
        details = self._evaluation_details.execution_details
        raw = getattr(details, "aws_input_text", None)
        if raw is not None:
            env.aws_input_text = raw
            _INPUT_TEXTS.current = (details.inpt, raw)
        return env

    return environment


def entered_time(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces the StateData moto's states build as they are entered: State.EnteredTime in
    the context object is in AWS's form (UTC, milliseconds, `Z`), as Execution.StartTime;
    moto wrote Python's isoformat (`+00:00`, microseconds)."""

    def state_data(**fields: Any) -> Any:
        entered = fields.get("EnteredTime")
        if isinstance(entered, str):
            fields["EnteredTime"] = aws_timestamp(datetime.fromisoformat(entered))
        return original(**fields)

    return state_data


_INPUT_TEXTS = threading.local()  # the execution's input on its own thread: (value, text)


def input_text(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces Execution.get_start_execution_details, execution_worker's to_json_str and
    CommonStateField._get_state_entered_event_details: the history shows the execution's input
    as it was sent (ExecutionStarted, and the first state's StateEntered), as AWS's does;
    moto wrote it anew (`[[1, 2], [3]]` sent came out `[[1,2],[3]]`)."""
    if name == "get_start_execution_details":

        @functools.wraps(original)
        def execution_details(self: Any) -> Any:
            details = original(self)
            details.aws_input_text = self.execution_input
            return details

        return execution_details
    if name == "to_json_str":

        def to_json_str(obj: Any, separators: Any = None) -> str:
            current = getattr(_INPUT_TEXTS, "current", None)
            if current is not None and obj is current[0]:
                return str(current[1])
            return original(obj, separators)

        return to_json_str

    @functools.wraps(original)
    def entered_details(self: Any, env: Environment) -> Any:
        details = original(self, env)
        raw = getattr(env, "aws_input_text", None)
        if raw is not None and len(env.event_manager._history_event_list) == 1:
            details["input"] = raw  # the first state, entered with the execution's input
        return details

    return entered_details


def assigned_variables(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces VariableStore.get_assigned_variables: a state-exit event's assignedVariables
    holds each value as JSON text (moto wrote a string in quotes without escaping it)."""

    @functools.wraps(original)
    def get_assigned_variables(self: VariableStore) -> dict[str, str]:
        return {
            identifier: payloads.text(self.get(identifier))
            for identifier in self._declaration_tracing
        }

    return get_assigned_variables


def decoded_strings(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces Preprocessor._inner_string_of and the preprocessor's from_string_literal: a
    definition's string literal is JSON text, decoded as such (moto dropped the quotes and
    kept the escapes: "María" sent as "Mar\\u00eda", as json.dumps sends it, came out with a
    backslash; for a JSONata expression or a literal it read the escapes as Python's, so an
    emoji sent as "\\ud83d\\ude00" became two lone surrogates)."""

    def inner_string_of(parser_rule_context: Any) -> str | None:
        text = original(parser_rule_context)
        literal = parser_rule_context.getText()
        if text is None or "\\" not in literal or not literal.startswith('"'):
            return text
        try:
            return str(json.loads(literal))
        except ValueError:
            return text

    return inner_string_of


_REDRIVABLE: Final = ("FAILED", "TIMED_OUT", "ABORTED")  # API_RedriveExecution


def utf8_text(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces the encoder of moto's to_json_str (every state's input and output, the history,
    DescribeExecution, TestState, the payload quota's measure) and States.JsonToString's json:
    the text keeps its characters, as AWS's UTF-8 text does (local/aws/stepfunctions/
    payloads.py); moto escaped each non-ASCII character, and so counted `é` as 6 bytes. The
    quota's measure of a string (taken as it is) counts a lone surrogate escaped, as the text
    writes it: moto's UTF-8 encoding of one raised a UnicodeEncodeError."""
    if name == "json":
        return types.SimpleNamespace(dumps=payloads.text)
    if name == "is_within_size_quota":

        @functools.wraps(original)
        def is_within_size_quota(value: Any) -> bool:
            if isinstance(value, str):
                value = payloads.lone_surrogates_escaped(value)
            return bool(original(value))

        return is_within_size_quota

    class Utf8Encoder(original):
        def __init__(self, **options: Any) -> None:
            super().__init__(**{**options, "ensure_ascii": False})

        def encode(self, o: Any) -> str:
            return payloads.lone_surrogates_escaped(super().encode(o))

    return Utf8Encoder


def described_output(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.describe_execution: a succeeded execution's output is its
    value as JSON text, as in the history (moto answered a string output unquoted: "adult"
    came back as adult, which no client can parse, and left out a null one); the answer
    carries inputDetails and the redrive fields, as API_DescribeExecution and every recorded
    answer do (moto left them out): a closed execution that did not succeed is REDRIVABLE,
    any other is not, with AWS's recorded reason ("Execution is SUCCEEDED and cannot be
    redriven")."""

    @functools.wraps(original)
    def describe_execution(self: Any) -> Any:
        answer = original(self)
        response = answer.result
        if "outputDetails" in response:  # succeeded: moto left out an output that is null
            execution = self.stepfunction_backend.describe_execution(response["executionArn"])
            if isinstance(execution, Execution):
                response["output"] = to_json_str(execution.output, separators=(",", ":"))
        if isinstance(response, dict) and "status" in response:
            status = str(response["status"])
            response["inputDetails"] = {"included": True}
            response["redriveCount"] = 0  # the engine does not redrive (docs/jsonata.md)
            if status in _REDRIVABLE:
                response["redriveStatus"] = "REDRIVABLE"
            else:
                response["redriveStatus"] = "NOT_REDRIVABLE"
                response["redriveStatusReason"] = f"Execution is {status} and cannot be redriven"
        return answer

    return describe_execution


def branch_error_names(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces CustomErrorName where a Parallel branch's or a Map iteration's error is raised
    again in the state that holds it: a States.* error (States.QueryEvaluationError,
    States.Runtime, States.Timeout ...) stays that error, which the state's Retry and Catch
    can match (moto refused to name it: the execution failed with States.Runtime
    'Custom Error Names MUST NOT begin with the prefix States.')."""

    def error_name(error_name: str | None) -> Any:
        if error_name is not None and error_name in _STATES_ERRORS:
            return StatesErrorName(typ=StatesErrorNameType.from_name(error_name))
        return original(error_name=error_name)

    return error_name


_STATES_ERRORS = frozenset(error.to_name() for error in StatesErrorNameType)


def _same_failure(event: Any, details: Any) -> bool:
    """Whether an EvaluationFailed event records the failure `details` describe: the same
    error at the same field (moto words it again without AWS's preamble)."""
    recorded = event.get("evaluationFailedEventDetails") or {}
    details = details or {}
    return bool(
        recorded == details
        or (
            recorded.get("error") == details.get("error")
            and recorded.get("location") == details.get("location")
            and str(recorded.get("cause", "")).endswith(str(details.get("cause")))
        )
    )


# An EvaluationFailed event being recorded follows the state's last event, not the event
# before the state's entry as an expression's failure does (query_evaluation_failure).
_FOLLOWS_LAST_EVENT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "follows_last_event", default=False
)


def history_events(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces EventManager.add_event, where moto's history differs from AWS's: an
    EvaluationFailed event is recorded once (moto's Map state recorded again the one its
    fields had recorded, and a Task state the one its Arguments had, without AWS's words)
    and follows the event that preceded the failing state's entry (its
    previousEventId is the StateEntered event's own); a failure without an event type of its
    own records none; an abort records no empty error or cause."""

    @functools.wraps(original)
    def add_event(
        self: Any,
        context: EventHistoryContext,
        event_type: HistoryEventType,
        *,
        event_details: Any = None,
        timestamp: Any = None,
        update_source_event_id: bool = True,
    ) -> int:
        events = self._history_event_list
        if event_type == HistoryEventType.ExecutionAborted and event_details:
            aborted = event_details.get("executionAbortedEventDetails") or {}
            # AWS records only what StopExecution was given; moto wrote "" for both
            event_details = {
                "executionAbortedEventDetails": {k: v for k, v in aborted.items() if v}
            }
        if event_type is None:  # a failure that records no event of its own (jsonpath.py)
            return context.source_event_id
        if event_type != HistoryEventType.EvaluationFailed or _FOLLOWS_LAST_EVENT.get():
            added: int = original(
                self, context, event_type, event_details, timestamp, update_source_event_id
            )  # moto passes all but context and event_type by name
            if event_type.endswith("StateEntered"):
                context.entered_event_id = added  # type: ignore[attr-defined]  # read by entered_at
            return added
        details = (event_details or {}).get("evaluationFailedEventDetails")
        if events and events[-1]["type"] == event_type and _same_failure(events[-1], details):
            return events[-1]["id"]
        entered = next((e for e in reversed(events) if e["id"] == context.source_event_id), None)
        previous = context.source_event_id
        if entered is not None and str(entered["type"]).endswith("StateEntered"):
            previous = entered["previousEventId"]
        event_id: int = original(
            self,
            EventHistoryContext(previous_event_id=previous),
            event_type,
            event_details,
            timestamp,
            update_source_event_id,
        )
        context.last_published_event_id = event_id
        if update_source_event_id:
            context.source_event_id = event_id
        return event_id

    return add_event


_DECORATED = "An error occurred while executing the state '"


def decorated_once(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces FailureEventException.get_execution_failed_event_details(self): a cause that
    already says which state it occurred in (an iteration's or a branch's, passed on by its
    Map or Parallel) is not said again, with the outer state's name (None at an End)."""

    @functools.wraps(original)
    def get_execution_failed_event_details(self: FailureEventException) -> Any:
        pair = self.extract_error_cause_pair()
        if pair is None or not str(pair[1] or "").startswith(_DECORATED):
            return original(self)
        error, cause = pair
        details = ExecutionFailedEventDetails(cause=str(cause))
        if error:
            details["error"] = error
        return details

    return get_execution_failed_event_details


def entered_at(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces FailureEvent.__init__(self, env, error_name, event_type, event_details): the
    event a failure's cause says its state was "entered at" is the state's StateEntered event
    (history_events notes it), not the last event of the state (a Task's result, for one)."""

    @functools.wraps(original)
    def __init__(self: Any, env: Environment, *args: Any, **kwargs: Any) -> None:
        original(self, env, *args, **kwargs)
        entered = getattr(env.event_history_context, "entered_event_id", None)
        if entered is not None:
            self.source_event_id = entered

    return __init__


def error_codes(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces AWSError.__init__: the errors of moto's Step Functions interpreter API
    (InvalidDefinition, InvalidExecutionInput ...) name their code in a `code` class attribute,
    which AWSError reads as the HTTP status: they reached clients with an empty code. They
    are answered with their code, as AWS does."""

    @functools.wraps(original)
    def init(
        self: Any, message: str, exception_type: str | None = None, status: int | None = None
    ) -> None:
        declared = vars(type(self)).get("code")
        if exception_type is None and self.TYPE is None and isinstance(declared, str):
            exception_type = declared
            status = status or vars(type(self)).get("status_code")
        original(self, message, exception_type, status)

    return init


def map_input(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StateMap._eval_execution: a JSONata Map state without Items whose input is not
    an array fails with AWS's cause, which shows the input as JSON (`... but was: true`);
    moto's showed the Python type (`<class 'bool'>`)."""

    @functools.wraps(original)
    def eval_execution(self: Any, env: Environment) -> None:
        jsonata_mode = self.query_language.query_language_mode == QueryLanguageMode.JSONata
        if jsonata_mode and self.items is None and self.item_reader is None and env.stack:
            items = env.stack[-1]
            if not isinstance(items, list):
                error = StatesErrorName(typ=_QUERY_EVALUATION_ERROR)
                shown = to_json_str(items, separators=(",", ":"))
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=error,
                        event_type=HistoryEventType.EvaluationFailed,
                        event_details=_evaluation_failed(
                            EvaluationFailedEventDetails(
                                error=error.error_name,
                                cause=f"Map state input must be an array but was: {shown}",
                            )
                        ),
                    )
                )
        original(self, env)

    return eval_execution


def history_order(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StepFunctionResponse.get_execution_history: as API_GetExecutionHistory
    answers, reverseOrder lists the events newest first; a page holds maxResults events (100
    unless given; over 1000, the API's model refuses it: executions.validated_requests) and a
    nextToken while more follow; includeExecutionData
    false leaves out each event's input and output. moto ignored all three and answered every
    event at once."""

    @functools.wraps(original)
    def get_execution_history(self: Any) -> Any:
        arn = self._get_param("executionArn")
        start = _history_start(self._get_param("nextToken"), arn)
        size = int(self._get_param("maxResults") or _HISTORY_PAGE)
        events = _recorded_events(self.stepfunction_backend, arn)
        if events is None:  # no recording of its own (not yet started): moto's answer
            answer = original(self)
            if not isinstance(answer.result, dict):
                return answer
            events = answer.result["events"]
        if self._get_param("reverseOrder"):
            events = list(reversed(events))
        page = copy.deepcopy(events[start : start + size])  # the page alone, not every event
        if self._get_param("includeExecutionData") is False:
            page = [_without_data(event) for event in page]
        result: dict[str, Any] = {"events": page}
        if start + size < len(events):
            result["nextToken"] = _history_token(arn, start + size)
        return ActionResult(result)

    return get_execution_history


def _recorded_events(backend: Any, arn: str) -> list[Any] | None:
    """The execution's events as recorded (a shallow copy, taken under the recorder's lock),
    or None for an execution with no recorder yet. moto's answer deep-copied every event for
    every call: read a page at a time, a long history cost its length squared."""
    execution = backend.describe_execution(arn)  # ExecutionDoesNotExist, as moto answers
    env = getattr(getattr(execution, "exec_worker", None), "env", None)
    if env is None:
        return None
    manager = env.event_manager
    with manager._mutex:
        return list(manager._history_event_list)


_HISTORY_PAGE: Final = 100  # GetExecutionHistory's page when maxResults is not given


def _history_token(arn: str, start: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([arn, start]).encode()).decode()


def _history_start(token: str | None, arn: str) -> int:
    """Where the page a nextToken asks for starts; InvalidToken for one this execution's
    history did not give."""
    if not token:
        return 0
    try:
        found_arn, start = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError) as error:
        raise InvalidToken() from error
    if found_arn != arn or not isinstance(start, int) or start < 0:
        raise InvalidToken()
    return start


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    """An event without its input and output (their truncated flags stay)."""
    return {
        key: (
            {k: v for k, v in value.items() if k not in ("input", "output")}
            if key.endswith("EventDetails") and isinstance(value, dict)
            else value
        )
        for key, value in event.items()
    }


def limited_assign(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces AssignDecl._eval_body: one state's assignments are evaluated together (against
    the values from before the state, as moto does), checked against AWS's size limits and
    its scopes (local/aws/stepfunctions/variables.py: a variable of an outer scope fails the
    state with States.Runtime; moto raised a Python exception, its repr the cause), and made
    as the state exits (assigned_at_exit)."""

    def eval_body(self: Any, env: Environment) -> None:
        declarations: dict[str, Any] = {}
        for binding in self.declaration_bindings:
            binding.eval(env=env)
            declarations.update(env.stack.pop())
        problem = variables.over_limit(declarations, _Variables(env.variable_store))
        if problem is not None:
            raise states_failure(
                env,
                StatesErrorNameType.StatesStatesDataLimitExceeded,
                problem,
                HistoryEventType.TaskFailed,
            )
        held_outside = env.variable_store._outer_scope
        outer = next((name for name in declarations if name in held_outside), None)
        if outer is not None:  # refused now, inside Retry and Catch
            raise states_failure(
                env,
                StatesErrorNameType.StatesRuntime,
                variables.outer_scope_write(outer),
                HistoryEventType.TaskFailed,
            )
        variables.set_pending(env, declarations)  # made as the state exits

    return eval_body


def assigned_at_exit(original: Any, hooks: Hooks, name: str) -> Any:
    """A state's assignments take effect as it exits, not before: its OutputPath and Output
    still read the values from before the state (AWS's recorded executions: OutputPath
    "$answer" after Assign {"answer": "<omitted>"} gives the earlier 42), and a failed
    attempt's are dropped (a retry evaluates them again; a Catch has its own Assign).
    Replaces CommonStateField._get_state_exited_event_details (which notes the assigned
    variables: made first) and ExecutionState._handle_catch (drops them first)."""

    if name == "_get_state_exited_event_details":

        @functools.wraps(original)
        def exiting(self: Any, env: Environment) -> Any:
            for identifier, value in variables.pending(env).items():
                env.variable_store.set(variable_identifier=identifier, variable_value=value)
            variables.set_pending(env, None)
            return original(self, env)

        return exiting

    @functools.wraps(original)
    def caught(self: Any, env: Environment, failure_event: Any) -> Any:
        variables.set_pending(env, None)
        return original(self, env, failure_event)

    return caught


def child_execution_scope(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces a distributed Map worker's _eval_job(self, env, job): each item runs as a child
    execution with variables of its own, which reads none of the parent's (AWS's variables
    page: a distributed Map cannot reference variables of outer scopes) and may assign any
    name. moto ran it as an inline Map's iteration, reading the parent's variables (its
    legacy Iterator even assigned them in the parent's scope)."""

    @functools.wraps(original)
    def _eval_job(self: Any, env: Any, job: Any) -> Any:
        env.variable_store = VariableStore()
        return original(self, env, job)

    return _eval_job
