"""JSONPath as AWS reads it, where jsonpath-ng (the library moto's interpreter parses paths
with) reads it otherwise. Registered in local/patches/registry.py."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import jsonpath_ng
from jsonpath_ng.ext.filter import Filter
from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.component.intrinsic.argument import argument
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError
from moto.stepfunctions.parser.quotas import is_within_size_quota

from local.aws.stepfunctions.failures import states_failure

if TYPE_CHECKING:
    from local.patches.hooks import Hooks


def as_written(path: str) -> str:
    """The path jsonpath-ng reads as AWS reads `path`: in a quoted name (`$['...']`), a
    backslash escapes the name's own quote or a backslash; before anything else it is part
    of the name, where jsonpath-ng would drop it (so it is doubled)."""
    written: list[str] = []
    quote: str | None = None
    position = 0
    while position < len(path):
        character = path[position]
        if quote is not None and character == "\\" and position + 1 < len(path):
            following = path[position + 1]
            written.append(character if following in (quote, "\\") else "\\\\")
            written.append(following)
            position += 2
            continue
        if quote is None and character in "'\"":
            quote = character
        elif character == quote:
            quote = None
        written.append(character)
        position += 1
    return "".join(written)


def quoted_names(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces json_path's parse (moto's JSONPath fields: InputPath, `.$` fields, Choice
    variables ...): a backslash in a quoted name stays part of the name unless it escapes
    the name's quote or a backslash, as in AWS's recorded executions (`$['Test\\""Name"']`
    finds the key `Test\\""Name"`); jsonpath-ng dropped it and found nothing."""

    def parse(path: str, debug: bool | None = None) -> Any:
        return original(as_written(path) if "\\" in path else path, debug)

    return parse


def _definite(node: Any) -> bool:
    """A path that names one node: names and single indexes only (no wildcard, slice,
    filter, union or descent)."""
    if isinstance(node, jsonpath_ng.Root | jsonpath_ng.This):
        return True
    if isinstance(node, jsonpath_ng.Child):
        return _definite(node.left) and _definite(node.right)
    if isinstance(node, jsonpath_ng.Fields):
        return len(node.fields) == 1 and node.fields[0] != "*"
    if isinstance(node, jsonpath_ng.Index):
        return len(node.indices) == 1
    return False


class _OneNode:
    """A definite path's compiled expression: its match found without the context it was
    found in, which moto's extract_json read as a list's (a name after an index, `$.l[0].s`,
    came back as `["..."]`)."""

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def find(self, data: Any) -> list[jsonpath_ng.DatumInContext]:
        return [jsonpath_ng.DatumInContext(match.value) for match in self.expression.find(data)]


def definite_paths(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps json_path's parse: a reference path (names and single indexes: "a path whose
    syntax is limited in such a way that it can identify only a single node",
    amazon-states-language-paths.html) reads that node itself; moto's extract_json wrapped
    the value in an array when an index came before the last name (its fix for a filter's
    matches, moto issue 7825, caught `$.l[0].s` too)."""
    return _rewritten(original, _one_node)


def _one_node(expression: Any) -> Any:
    return _OneNode(expression) if _definite(expression) else expression


def _rewritten(original: Any, rewrite: Callable[[Any], Any]) -> Any:
    """json_path's parse, each path's expression rewritten once (the paths of the definitions
    in use are cached, each looked at once)."""

    @functools.lru_cache(maxsize=4096)
    def parsed(path: str) -> Any:
        return rewrite(original(path, None))

    def parse(path: str, debug: bool | None = None) -> Any:
        return parsed(path) if debug is None else original(path, debug)

    return parse


class _ObjectFilter(Filter):
    """A filter (`[?(...)]`) as AWS's paths page reads it: "The @ operator, matching the current
    node being processed in a filter, does not match scalar values. It only matches objects".
    On an array, its elements that are objects are tested; on an object, the object itself
    (as Jayway, AWS's JSONPath library, filters one); on anything else, nothing. jsonpath-ng
    tested an array's scalars (`$.v[?(@ > 2)]` found 3 and 4) and an object's member values
    (`$.o[?(@ > 2)]` found its 5)."""

    def find(self, datum: Any) -> list[jsonpath_ng.DatumInContext]:
        datum = jsonpath_ng.DatumInContext.wrap(datum)
        if isinstance(datum.value, dict):
            candidates = [datum]
        elif isinstance(datum.value, list):
            candidates = [
                jsonpath_ng.DatumInContext(value, path=jsonpath_ng.Index(index), context=datum)
                for index, value in enumerate(datum.value)
                if isinstance(value, dict)
            ]
        else:
            return []
        return [c for c in candidates if all(e.find(c) for e in self.expressions)]


def _filters(node: Any) -> bool:
    """Whether the path holds a filter."""
    if isinstance(node, Filter):
        return True
    return any(_filters(side) for side in _sides(node))


def _sides(node: Any) -> tuple[Any, ...]:
    """A path's two parts (Child, Descendants, Union ...), none for a single step."""
    if hasattr(node, "left") and hasattr(node, "right"):
        return node.left, node.right
    return ()


def _objects_only(node: Any) -> Any:
    """The path with each of its filters an _ObjectFilter (a copy: the parsed path is cached)."""
    if isinstance(node, Filter):
        return _ObjectFilter(node.expressions)
    if not _sides(node):
        return node
    copied = copy.copy(node)
    copied.left, copied.right = _objects_only(node.left), _objects_only(node.right)
    return copied


class _Matches:
    """A filtered path's compiled expression: its matches found as one value, the array of
    them, empty when nothing matches (moto's extract_json failed the state then, and gave a
    lone match found in an object without its array)."""

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def find(self, data: Any) -> list[jsonpath_ng.DatumInContext]:
        return [jsonpath_ng.DatumInContext([match.value for match in self.expression.find(data)])]


def object_filters(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps json_path's parse: a path with a filter reads as AWS's (_ObjectFilter), and finds
    an array of its matches, `[]` when there is none, as AWS's recorded executions give for
    the other paths that can find several nodes (`$.items[*]`, `$.items[1:]` on `{}`: `[]`)."""
    return _rewritten(original, _all_matches)


def _all_matches(expression: Any) -> Any:
    return _Matches(_objects_only(expression)) if _filters(expression) else expression


_NAME = re.compile(r"[A-Za-z_$][\w$-]*")


def missing_words(path: str, data: Any) -> str | None:
    """What AWS (its JSONPath library, Jayway) says of a plain dotted path (`$.a.b.c`) that
    finds nothing in `data`: "No results for path: $['a']['b']['c']" when only the last name
    is missing, "Missing property in path $['a']" when a name before it is. None for any
    other path, whose words stay moto's."""
    names = path[2:].split(".") if path.startswith("$.") else []
    if not names or not all(_NAME.fullmatch(name) for name in names):
        return None
    found = data
    for depth, name in enumerate(names, start=1):
        if not isinstance(found, dict):
            return None
        if name not in found:
            walked = "$" + "".join(f"['{n}']" for n in names[:depth])
            if depth == len(names):
                return f"No results for path: {walked}"
            return f"Missing property in path {walked}"
        found = found[name]
    return None


def missing_path_cause(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps the evaluations that fail a state when a path finds nothing (InputPath,
    OutputPath, TimeoutSecondsPath, HeartbeatSecondsPath): the cause is worded as AWS's
    (missing_words); moto wrote `$['a.b.c']` for every path, whichever name was missing. A
    Task's seconds path records no event of its own (moto's was an ExecutionFailed, before
    the execution's, even in a Map, a Parallel or a caught failure): AWS's recorded history
    goes from the TaskStateEntered to the execution's ExecutionFailed."""

    @functools.wraps(original)
    def evaluate(self: Any, env: Any) -> Any:
        try:
            return original(self, env)
        except FailureEventException as failure:
            missing = failure.__context__  # moto raises the failure while handling this
            if isinstance(missing, NoSuchJsonPathError):
                _reword(failure, missing)
                if name == "_eval_seconds":
                    failure.failure_event.event_type = None  # type: ignore[misc,assignment]  # none
            raise

    return evaluate


def _reword(failure: FailureEventException, missing: NoSuchJsonPathError) -> None:
    """The failure's cause in AWS's words, where moto's details hold it."""
    words = missing_words(missing.json_path, missing.data)
    if words is None:
        return
    details: dict[str, dict[str, Any]] = dict(failure.failure_event.event_details or {})  # type: ignore[arg-type]
    for detail in details.values():  # moto's own dicts: reworded where they are
        if "cause" in detail:
            detail["cause"] = f"Invalid path '{missing.json_path}' : {words}"


def result_path_match(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps ResultPath._eval_body(self, env): a ResultPath that cannot be applied to the
    state's input (a name inside a string, say) fails with States.ResultPathMatchFailure,
    which AWS's error-handling page names for it ("A state's ResultPath field cannot be
    applied to the input the state received"); moto failed with States.Runtime and a Python
    TypeError. The cause is ours: no page or recording gives AWS's."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        path = self.result_path_src
        if path is not None and not _applies(path, env.states.get_input()):
            cause = (
                f"Unable to apply ResultPath '{path}' to the state's input: "
                f"{to_json_str(env.states.get_input(), separators=(',', ':'))}"
            )
            raise states_failure(
                env,
                StatesErrorNameType.StatesResultPathMatchFailure,
                cause,
                HistoryEventType.ExecutionFailed,
            )
        original(self, env)

    return eval_body


def _applies(path: str, data: Any) -> bool:
    """Whether a ResultPath of names (`$`, `$.a.b`) can be set in data: each name before the
    last names an object or nothing (which is then made); any other path is left to moto."""
    if path == "$":
        return True
    if not path.startswith("$.") or any(c in path for c in "[]'\"\\*"):
        return True
    found = data
    for name in path[2:].split("."):
        if not isinstance(found, dict):
            return False
        found = found.get(name)
        if found is None:
            return True  # made on the way
    return True


_CONTROL_ESCAPES: Final = str.maketrans({"\n": "\\n", "\t": "\\t", "\r": "\\r"})


def intrinsic_text(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces Preprocessor.visitString_intrinsic_function (`"x.$": "States.Format(...)"`):
    the field's value is JSON text, decoded before the intrinsic function is parsed, so
    that the intrinsic's own escapes (`\\'`, `\\{`, `\\}`, `\\\\`, as AWS's intrinsic
    functions page writes them in a definition) reach its parser as one backslash each; moto
    parsed the JSON text as it was, each escape doubled (`'it\\'s'` ended the string at
    `\\'`)."""

    @functools.wraps(original)
    def visit(self: Any, ctx: Any) -> Any:
        raw = ctx.STRINGINTRINSICFUNC().getText()
        if "\\" not in raw:
            return original(self, ctx)
        # a control character the JSON text escaped stays an escape, which the intrinsic's
        # own string literals read (its lexer takes no line break inside one)
        derivation = str(json.loads(raw)).translate(_CONTROL_ESCAPES)
        function, _ = intrinsic_parser.IntrinsicParser.parse(derivation)
        return string_expression.StringIntrinsicFunction(
            intrinsic_function_derivation=derivation, function=function
        )

    return visit


def float_arguments(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces the intrinsic Preprocessor.visitFunc_arg_float: a number with a fraction as an
    intrinsic function's argument (`States.Format('{}', 1.5)`); moto read the parse tree's
    INT token, which a fraction has none of, and refused the definition with a Python
    AttributeError."""

    @functools.wraps(original)
    def visit(self: Any, ctx: Any) -> Any:
        return argument.ArgumentLiteral(definition_value=float(ctx.NUMBER().getText()))

    return visit


# An intrinsic string literal's escapes (intrinsic functions page: "\\'", "\\{", "\\}",
# "\\\\"), and those moto read besides (control characters, a double quote).
_ESCAPED: Final = {
    "'": "'",
    "\\": "\\",
    "{": "{",
    "}": "}",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
}
_OPEN, _CLOSE = "\ue000", "\ue001"  # an escaped brace, in a template: no placeholder
_MARKED: Final = {**_ESCAPED, "{": _OPEN, "}": _CLOSE}  # the escapes, as a template keeps them


class _Template(str):
    """An intrinsic string literal that escapes a brace: the text itself, which States.Format
    (str.format over the literal) fills without taking the escaped braces for placeholders."""

    template: str

    def __new__(cls, text: str, template: str) -> _Template:
        made = super().__new__(cls, text)
        made.template = template
        return made

    def format(self, *args: object, **kwargs: object) -> str:
        filled = self.template.format(*args, **kwargs)
        return filled.replace(_OPEN, "{").replace(_CLOSE, "}")

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return str, (str(self),)  # a copy (of a state's output, say) is the plain text


def string_literals(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces the intrinsic Preprocessor._text_of_str(parse_tree): a string literal with its
    escapes read as AWS's intrinsic functions page gives them, `\\'` a quote and `\\\\` a
    backslash (moto kept both characters of each), `\\{` and `\\}` braces that are no
    placeholder of States.Format (moto kept the backslash, and a placeholder's split took
    them)."""

    def text_of_str(parse_tree: Any) -> str:
        inner = parse_tree.getText()[1:-1]
        text: list[str] = []
        template: list[str] = []
        position = 0
        while position < len(inner):
            character = inner[position]
            following = inner[position + 1] if position + 1 < len(inner) else ""
            if character == "\\" and following in _ESCAPED:
                text.append(_ESCAPED[following])
                template.append(_MARKED[following])
                position += 2
                continue
            text.append(character)
            template.append(character)
            position += 1
        plain, marked = "".join(text), "".join(template)
        return plain if plain == marked else _Template(plain, marked)

    return text_of_str


def intrinsic_failures(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps StringIntrinsicFunction._eval_body(self, env): an intrinsic function that fails
    on its arguments (an index past the array's end, text that is no JSON, a step of 0) fails
    the state with States.IntrinsicFailure, the error AWS's error-handling page names for "an
    intrinsic function within a payload template" that fails; moto failed with States.Runtime
    (which no catcher takes) and a Python exception's repr. A path that finds nothing keeps
    its own failure. The cause's words are ours."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        try:
            original(self, env)
        except (FailureEventException, NoSuchJsonPathError):
            raise
        except Exception as error:
            cause = f"The intrinsic function {self.intrinsic_function_derivation} failed: {error}"
            raise states_failure(
                env,
                StatesErrorNameType.StatesIntrinsicFailure,
                cause,
                HistoryEventType.ExecutionFailed,
            ) from error

    return eval_body


def parameters_within_quota(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps Parameters._eval_body(self, env): a state whose input, after Parameters
    processing, is over the payload quota (256 KiB of UTF-8, as moto counts a state's output)
    fails with States.DataLimitExceeded, as AWS's error-handling page lists it ("When, after
    Parameters processing, the input of a state is larger than the payload size quota");
    moto checked a state's output and a task's result only, and a Task ran with the oversized
    input. No recording shows this case: its cause and events are those AWS records for a
    state's output over the quota (the state's entered event, then ExecutionFailed)."""

    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        original(self, env)
        if is_within_size_quota(env.stack[-1]):
            return
        entered = env.states.context_object.context_object_data["State"]
        assert entered is not None  # set as the state was entered, before its Parameters
        cause = (
            f"The state/task '{entered['Name']}' returned a result with a size exceeding the "
            "maximum number of bytes service limit."
        )
        failure = states_failure(
            env,
            StatesErrorNameType.StatesStatesDataLimitExceeded,
            cause,
            HistoryEventType.ExecutionFailed,
        )
        failure.failure_event.event_type = None  # type: ignore[misc,assignment]  # none of its own
        raise failure

    return eval_body
