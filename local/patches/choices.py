"""Choice rules and timestamps as AWS reads them (state-choice.html, state-wait.html),
where moto's interpreter reads them otherwise. Registered in local/patches/registry.py.

- A timestamp is RFC 3339 with an uppercase `T` and `Z`: fractional seconds and a numeric
  offset included, as the pages define it ("an uppercase Z must denote that a numeric time
  zone offset isn't present"). moto took `%Y-%m-%dT%H:%M:%SZ` alone in a Choice rule (the
  context object's own `EnteredTime`, with milliseconds, was no timestamp) and refused an
  offset in a Wait.
- `StringMatches`: `*` matches any run of characters, `\\*` and `\\\\` are a literal `*` and
  `\\`, and "no characters other than `*` have any special meaning"; moto matched as a shell
  glob (`?` and `[...]` special, no escapes).
- A comparison with a path to the context object (`"StringEqualsPath": "$$.Execution.Name"`)
  reads the context object, which the page lists among a path's uses; moto failed to parse
  the path.
- A JSONata `Condition` that is no boolean fails with `States.QueryEvaluationError`, in the
  words AWS records for an `Items` that is no array; moto raised a RuntimeError.
- A Choice state that matches no rule and has no `Default` fails with
  `States.NoChoiceMatched` (concepts-error-handling.html); moto failed with States.Runtime and
  a Python tuple for its cause.
- `StringLessThan`, `StringGreaterThan` and their `...Equals` and `...Path` forms order
  strings by their UTF-16 code units, as Java's String.compareTo does (AWS's interpreter is
  Java's: its recorded causes are Jayway JsonPath's, its Lambda answers the AWS SDK for
  Java's; the Choice page documents no order); moto compared code points, which differ for
  a character over U+FFFF against one from U+E000 to U+FFFF.
- The rule that matched decides the state's `Assign` and `Output`: the rule's own, and the
  state's only when no rule matched and the `Default` was taken (AWS's recorded executions
  of a Choice with both, LocalStack's test_assign_base[CONDITION_TRUE]/[CONDITION_FALSE]);
  moto took the state's whenever the next state was the Default's, a rule's target too. A
  JSONPath rule keeps its `Assign` (moto's parser dropped it; AWS's recorded executions of
  JSONPath rules with `Assign`, test_assign_in_choice_state, run them).
"""

from __future__ import annotations

import functools
import re
import struct
from datetime import UTC, datetime
from typing import Any, Final

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.choice.choice_rule import ChoiceRule
from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator import factory
from moto.stepfunctions.parser.asl.eval.environment import Environment

from local.aws.stepfunctions.failures import states_failure
from local.patches.hooks import Hooks
from local.patches.jsonata import unexpected_result

_TIMESTAMP: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
_NO_MATCH: Final = "No branching option reached in state %s"  # moto's RuntimeError


def rfc3339(text: Any) -> datetime | None:
    """A timestamp as AWS reads one, in UTC; None for anything else."""
    if not isinstance(text, str) or not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:  # a day or an hour out of range
        return None


def timestamps(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces IsTimestamp.string_to_timestamp (every Choice rule on timestamps reads a
    timestamp with it) and Timestamp._from_timestamp_string (a Wait's Timestamp, which moto
    compares with its naive UTC now)."""
    if name == "string_to_timestamp":
        return rfc3339

    def from_timestamp_string(timestamp: str) -> datetime | None:
        found = rfc3339(timestamp)
        return None if found is None else found.replace(tzinfo=None)

    return from_timestamp_string


@functools.lru_cache(maxsize=1024)
def _pattern(template: str) -> re.Pattern[str]:
    """StringMatches' template as a regular expression: `*` any run, `\\` escapes."""
    parts: list[str] = []
    escaped = False
    for character in template:
        if escaped:
            parts.append(re.escape(character))
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "*":
            parts.append(".*")
        else:
            parts.append(re.escape(character))
    if escaped:
        parts.append(re.escape("\\"))  # a lone backslash at the end is itself
    return re.compile("".join(parts), re.DOTALL)


def string_matches(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces StringMatches._compare(variable, comparison_value)."""

    def compare(variable: Any, comparison_value: Any) -> bool:
        if not isinstance(variable, str) or not isinstance(comparison_value, str):
            return False
        return _pattern(comparison_value).fullmatch(variable) is not None

    return compare


def context_paths(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces ComparisonFuncValue._eval_body(self, env): a `...Path` comparison whose path
    is the context object's (`$$.`) reads it there; any other as moto does."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        path = self.value
        if not (
            isinstance(path, str)
            and path.startswith("$$")
            and str(self.operator_type).endswith("Path")
        ):
            original(self, env)
            return
        variable = env.stack.pop()  # the operator reads its path in what lies below it
        env.stack.append(env.states.context_object.context_object_data)
        env.stack.append(variable)
        factory.OperatorFactory.get(self.operator_type).eval(env=env, value=path[1:])
        result = env.stack.pop()
        env.stack.pop()
        env.stack.append(result)

    return eval_body


def boolean_conditions(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces ConditionStringJSONata._eval_body(self, env): a Condition that is no boolean
    fails with States.QueryEvaluationError in the words AWS records for an Items that is no
    array ("returned an unexpected result type. Expected 'array', but was ..."); moto raised a
    RuntimeError naming a Python class."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        self.string_jsonata.eval(env=env)
        result = env.stack[-1]
        if isinstance(result, bool):
            return
        raise unexpected_result(env, self.string_jsonata, "Condition", "boolean", result)

    return eval_body


def no_choice_matched(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps StateChoice._eval_state(self, env): no rule matched and no Default is
    States.NoChoiceMatched."""

    @functools.wraps(original)
    def eval_state(self: Any, env: Environment) -> None:
        try:
            original(self, env)
        except RuntimeError as error:
            if error.args[:1] != (_NO_MATCH,):
                raise
            cause = (
                f"The Choice state '{self.name}' matched none of its rules, and it has no Default."
            )
            raise states_failure(
                env,
                StatesErrorNameType.StatesNoChoiceMatched,
                cause,
                HistoryEventType.ExecutionFailed,
            ) from error

    return eval_state


def code_units(text: str) -> str:
    """The text as its UTF-16 code units, one character each: compared as Java compares
    strings. Text with no character over U+FFFF is its own."""
    if max(text, default="") <= "\uffff":
        return text
    data = text.encode("utf-16-be")
    return "".join(map(chr, struct.unpack(f">{len(data) // 2}H", data)))


def utf16_order(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps the string orderings' _compare(variable, comparison_value): two strings compare
    by their UTF-16 code units; anything else as moto compares it."""

    @functools.wraps(original)
    def compare(variable: Any, comparison_value: Any) -> bool:
        if isinstance(variable, str) and isinstance(comparison_value, str):
            return bool(original(code_units(variable), code_units(comparison_value)))
        return bool(original(variable, comparison_value))

    return compare


# Set on an Environment while its Choice state runs, once one of its rules (a rule with a
# Next, not one inside an And, Or or Not) has matched: read, and cleared, as the state exits.
_MATCHED: Final = "choice_rule_matched"


def matched_rule(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps ChoiceRule._eval_body(self, env) (a rule that matched notes it on the
    Environment) and replaces StateChoice._eval_state_output(self, env) (the state's Assign
    and Output when none did)."""
    if name == "_eval_body":

        @functools.wraps(original)
        def eval_rule(self: Any, env: Environment) -> None:
            original(self, env)
            if self.next_stmt is not None and env.stack[-1] is True:
                setattr(env, _MATCHED, True)

        return eval_rule

    def eval_state_output(self: Any, env: Environment) -> None:
        next_state_name: str = env.stack.pop()
        if not vars(env).pop(_MATCHED, False):
            if self.assign_decl:
                self.assign_decl.eval(env=env)
            if self.output:
                self.output.eval(env=env)
        if self._is_language_query_jsonpath():
            if self.output_path:
                self.output_path.eval(env=env)
            else:
                env.states.reset(input_value=env.stack.pop())
        env.next_state_name = next_state_name

    return eval_state_output


def jsonpath_rule_assign(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps Preprocessor.visitChoice_rule_comparison_variable(self, ctx): a JSONPath rule
    (`Variable` and a comparison) keeps its Assign, which moto's parser left out."""

    @functools.wraps(original)
    def visit(self: Any, ctx: Any) -> Any:
        rule = original(self, ctx)
        declared = [s.assign_decl() for s in ctx.comparison_variable_stmt() if s.assign_decl()]
        if rule.assign is not None or not declared:
            return rule
        return ChoiceRule(
            comparison=rule.comparison,
            next_stmt=rule.next_stmt,
            comment=rule.comment,
            assign=self.visit(declared[0]),
            output=rule.output,
        )

    return visit
