"""AWS Step Functions' dialect of JSONata, as AWS runs it (pure Python over jsonatapy).

What AWS documents and was checked against recorded AWS executions (docs/jsonata.md):
- JSONata 2.0.6 semantics, evaluated with no context item: a state's data comes in through
  `$states` and the workflow's variables, so a path that starts with a bare field name is
  refused when the definition is created (UNSUPPORTED_JSONATA_EXPRESSION), as is an
  expression that does not parse (INVALID_JSONATA_EXPRESSION), and 2.1's `?:` and `??`,
  which 2.0.6 does not parse.
- `$eval` is not there (calling it fails with T1006, as calling any non-function does).
- AWS's own functions: `$partition`, `$range`, `$hash`, `$random([seed])` (seeded as
  java.util.Random is), `$uuid`, `$parse`, with the arguments the guide gives them; a call
  that does not fit fails as JSONata fails a function registered with a signature (T0410).
- An expression that fails gives its JSONata code and message; one that returns nothing or
  a function is the caller's to report (`evaluate` answers UNDEFINED / raises Unsupported).

Expressions are analysed and compiled once per text. jsonatapy's compiled expressions may
only be used on the thread that compiled them (they are "unsendable" native objects) while
moto runs each execution, and each Map iteration, on a thread of its own: every compiled
expression therefore lives on one evaluator thread, and `evaluate` hands the work to it.
That handoff costs the caller its turn at the interpreter twice, some 10-20 ms each time
under load, so the commonest expressions are read without it: a plain path of a bound
variable (`$states.input`, `$request.operationId`) and `$exists` of one are read from the
data in Python, wherever the value is one jsonatapy gives back unchanged (objects, strings,
integers, booleans and null: no array on the path, no float); anything else goes to the
evaluator.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import functools
import hashlib
import json
import random
import re
import threading
import urllib.parse
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final, NoReturn

import jsonatapy

from local.aws.stepfunctions import payloads

UNDEFINED: Final = type("Undefined", (), {"__repr__": lambda self: "UNDEFINED"})()
# An evaluation that runs longer than this is a runaway (an unbounded recursion or loop):
# it fails the state instead of holding the execution for ever.
TIMEOUT_MS: Final = 10_000
_CACHE_SIZE: Final = 4096


class Refused(Exception):
    """The expression cannot be part of a definition: AWS refuses it at CreateStateMachine."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Failed(Exception):
    """The evaluation failed: `code` is JSONata's error code, when there is one."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.code = code
        self.message = message


class Unsupported(Exception):
    """The expression returned a value JSON cannot hold (a function)."""


@dataclasses.dataclass(frozen=True)
class Expression:
    text: str
    variables: frozenset[str]  # the `$name`s it reads (without the `$`); binding others is waste
    states: frozenset[str] | None  # the `$states` fields it reads; None: `$states` whole
    # A plain path, `$variable.field.field`: the variable's name and the fields (read in
    # Python: _read); None for any other expression.
    path: tuple[str, ...] | None = None
    exists: bool = False  # the expression is `$exists(<plain path>)`


# ---- static analysis: a JSONata tokenizer enough to follow contexts -------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|/\*.*?\*/)
  | (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<backtick>`[^`]*`)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<var>\$[^\s\[\]{}(),.;:?+\-*/%|=<>^&!~@#"'`]*)
  | (?P<op>:=|!=|<=|>=|~>|\.\.|\?:|\?\?|\*\*|[.\[\](){},;:?+\-*/%|=<>^&!~@#])
  | (?P<name>[^\s\[\]{}(),.;:?+\-*/%|=<>^&!~@#"'`$]+)
    """,
    re.VERBOSE | re.DOTALL,
)
_OPERATOR_WORDS: Final = frozenset({"and", "or", "in"})
_LITERAL_WORDS: Final = frozenset({"true", "false", "null"})
_OPENERS: Final = {"(": ")", "[": "]", "{": "}"}


@dataclasses.dataclass
class _Frame:
    closer: str
    relative: bool  # names inside are fields of a context item (a path step, a predicate ...)
    transform_bars: int = 0


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        previous = tokens[-1] if tokens else None
        if text[position] == "/" and (previous is None or _operand_expected(previous)):
            end = _regex_end(text, position)
            if end is not None:
                tokens.append(("regex", text[position:end]))
                position = end
                continue
        match = _TOKEN.match(text, position)
        if match is None:  # left for the parser to report
            return tokens
        kind = match.lastgroup or "space"
        if kind != "space":
            tokens.append(("name" if kind == "backtick" else kind, match.group()))
        position = match.end()
    return tokens


def _operand_expected(previous: tuple[str, str]) -> bool:
    kind, value = previous
    if kind in {"str", "num", "var", "regex"}:
        return False
    if kind == "name":
        return value in _OPERATOR_WORDS
    return value not in {")", "]", "}"}


def _regex_end(text: str, start: int) -> int | None:
    position = start + 1
    while position < len(text):
        if text[position] == "\\":
            position += 2
            continue
        if text[position] == "/":
            position += 1
            while position < len(text) and text[position] in "im":
                position += 1
            return position
        position += 1
    return None


def _check(tokens: list[tuple[str, str]]) -> None:
    """Refuses references to the context item at the top level, as AWS does: there is none,
    a state's data comes in through variables."""
    _Scan(tokens).run()


class _Scan:
    """Follows which brackets hold a context item (a path step, a predicate, a group-by,
    an order-by, a transform) while reading the tokens left to right."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.frames = [_Frame("", relative=False)]
        self.expect_operand = True
        self.after_dot = False
        self.lambda_body_next = False

    def run(self) -> None:
        index = 0
        while index < len(self.tokens):
            index = self._step(index)

    def _step(self, index: int) -> int:
        kind, value = self.tokens[index]
        if kind == "name" and not self.expect_operand and value in _OPERATOR_WORDS:
            self._operator()
        elif kind == "name" and value in {"function", "λ"} and _next_is(self.tokens, index, "("):
            self.lambda_body_next = True
            self.expect_operand = True
            return _skip_parameters(self.tokens, index + 1)
        elif kind in {"name", "var"}:
            self._reference(kind, value)
        elif kind in {"str", "num", "regex"}:
            self._operand()
        elif value in _OPENERS:
            self._open(value, index)
        elif value in {")", "]", "}"}:
            if len(self.frames) > 1 and self.frames[-1].closer == value:
                self.frames.pop()
            self._operand()
        elif value == "|":
            self._bar()
        elif value == ".":
            self.expect_operand, self.after_dot = True, True
        else:
            self._operator()
        return index + 1

    def _operand(self) -> None:
        self.expect_operand, self.after_dot = False, False

    def _operator(self) -> None:
        self.expect_operand, self.after_dot = True, False

    def _reference(self, kind: str, value: str) -> None:
        top_level = not self.after_dot and not self.frames[-1].relative
        name = value.strip("`") if kind == "name" else value
        if top_level and ((kind == "name" and value not in _LITERAL_WORDS) or value in {"$", "$$"}):
            raise Refused(
                "UNSUPPORTED_JSONATA_EXPRESSION",
                f"Reference to '{name}' at the top level is not supported.",
            )
        self._operand()

    def _open(self, value: str, index: int) -> None:
        frame = self.frames[-1]
        if self.lambda_body_next and value == "{":
            relative = frame.relative  # a function's body: where it was defined
        elif self.after_dot or (not self.expect_operand and value in "[{"):
            relative = True  # a path step, a predicate, a group-by
        elif value == "(" and index > 0 and self.tokens[index - 1][1] == "^":
            relative = True  # an order-by
        else:
            relative = frame.relative  # a block, an array or object, arguments
        self.frames.append(_Frame(_OPENERS[value], relative))
        self.lambda_body_next = False
        self._operator()

    def _bar(self) -> None:
        frame = self.frames[-1]
        if self.expect_operand:  # a transform: | location | update [, delete] |
            self.frames.append(_Frame("|", relative=True))
        elif frame.closer == "|":
            frame.transform_bars += 1
            if frame.transform_bars == 2:
                self.frames.pop()
                self._operand()
                return
        self._operator()


def _next_is(tokens: list[tuple[str, str]], index: int, value: str) -> bool:
    return index + 1 < len(tokens) and tokens[index + 1][1] == value


def _skip_parameters(tokens: list[tuple[str, str]], index: int) -> int:
    """From a lambda's `(`, past its parameters and optional signature `<...>`."""
    while index < len(tokens) and tokens[index][1] != ")":
        index += 1
    index += 1
    if index < len(tokens) and tokens[index][1] == "<":
        depth = 0
        while index < len(tokens):
            depth += {"<": 1, ">": -1}.get(tokens[index][1], 0)
            index += 1
            if depth == 0:
                break
    return index


_STATES_FIELD = re.compile(r"\$states\s*\.\s*(\w+)")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PLAIN_PATH = re.compile(rf"\$({_NAME}(?:\.{_NAME})*)")
_EXISTS = re.compile(rf"\$exists\(\s*{_PLAIN_PATH.pattern}\s*\)")
# Words that are not field names as a path step (`$x.true` is the literal true).
_NOT_FIELDS: Final = _OPERATOR_WORDS | _LITERAL_WORDS | {"function"}


@functools.lru_cache(maxsize=_CACHE_SIZE)
def analyse(text: str) -> Expression:
    """Checks an expression as AWS does when a definition is created (raises Refused) and
    says what it reads."""
    tokens = _tokens(text)
    for kind, value in tokens:
        if kind == "op" and value in {"?:", "??"}:  # JSONata 2.1's; 2.0.6 does not parse them
            raise Refused(
                "INVALID_JSONATA_EXPRESSION",
                f'The symbol "{value[1]}" cannot be used as a unary operator',
            )
    try:
        jsonatapy.compile(text)
    except ValueError as error:
        raise Refused("INVALID_JSONATA_EXPRESSION", _split(str(error))[1]) from error
    _check(tokens)
    variables = frozenset(value[1:] for kind, value in tokens if kind == "var" and value != "$")
    states: frozenset[str] | None = None
    if "states" in variables:
        fields = _STATES_FIELD.findall(text)
        bare = sum(1 for kind, value in tokens if kind == "var" and value == "$states")
        states = frozenset(fields) if len(fields) == bare else None
    exists = _EXISTS.fullmatch(text)
    plain = exists or _PLAIN_PATH.fullmatch(text)
    path = tuple(plain.group(1).split(".")) if plain else None
    if path is not None and _NOT_FIELDS.intersection(path[1:]):
        path = None
    return Expression(text, variables, states, path, exists is not None and path is not None)


def workflow_variables(text: str) -> list[str]:
    """The workflow variables an expression reads, in the order it first names them: its
    `$name`s but `$states`, a function it calls (a variable holds JSON, never a function) and
    a name the expression binds itself (`$x := ...`, a function's parameters), anywhere in it."""
    tokens = _tokens(text)
    bound = {"$", "$$", "$states"}
    for index, (kind, value) in enumerate(tokens):
        if kind == "var" and _next_is(tokens, index, ":="):
            bound.add(value)
        elif kind == "name" and value in {"function", "λ"} and _next_is(tokens, index, "("):
            end = _skip_parameters(tokens, index + 1)
            bound.update(v for k, v in tokens[index:end] if k == "var")
    read: dict[str, None] = {}
    for index, (kind, value) in enumerate(tokens):
        if kind == "var" and value not in bound and not _next_is(tokens, index, "("):
            read[value[1:]] = None
    return list(read)


# ---- errors: jsonatapy's messages, as jsonata-js (and so AWS) words them -------------

_CODED = re.compile(
    r"^(?:Parse error: |Signature validation failed: )?([A-Z]\d{4}): (.*)$", re.DOTALL
)
_HOST = re.compile(r"^host function raised \w+: ", re.DOTALL)
_TOKEN_NAMES: Final = {
    "LeftBracket": "[",
    "RightBracket": "]",
    "LeftBrace": "{",
    "RightBrace": "}",
    "LeftParen": "(",
    "RightParen": ")",
    "Comma": ",",
    "Colon": ":",
    "Semicolon": ";",
    "Dot": ".",
    "Question": "?",
}
_REWRITES: Final[tuple[tuple[str, re.Pattern[str], str], ...]] = (
    (
        "T1006",
        re.compile(r"^Attempted to invoke a non-function.*$"),
        "Attempted to invoke a non-function",
    ),
    (
        "T2001",
        re.compile(r'^The left side of the "?([^" ]+)"? operator'),
        r'The left side of the "\1" operator',
    ),
    (
        "T2002",
        re.compile(r'^The right side of the "?([^" ]+)"? operator'),
        r'The right side of the "\1" operator',
    ),
)


def _split(raw: str) -> tuple[str | None, str]:
    raw = _HOST.sub("", raw)
    match = _CODED.match(raw)
    if match is None:
        return None, raw
    code, message = match.groups()
    for name, symbol in _TOKEN_NAMES.items():
        message = re.sub(rf"\b{name}\b", f'"{symbol}"', message)
    for rewritten, pattern, replacement in _REWRITES:
        if code == rewritten:
            message = pattern.sub(replacement, message)
    return code, message


# ---- AWS's functions ------------------------------------------------------------------

_HASHES: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def _fail(code: str, message: str) -> NoReturn:
    raise ValueError(f"{code}: {message}")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _anything(value: Any) -> bool:
    return True


def _integer(value: Any) -> int | None:
    """The number as an integer, None if it has a fraction (2.0 is 2, as JSON reads it)."""
    return int(value) if float(value).is_integer() else None


def _signature(
    name: str, given: tuple[Any, ...], *parameters: Callable[[Any], bool], optional: int = 0
) -> None:
    """Fails as JSONata fails a call of a function registered with a signature: T0410 naming
    the first argument out of place (one missing, one too many, or one of the wrong type)."""
    fitting = (fits(value) for value, fits in zip(given, parameters, strict=False))
    wrong = next((index for index, fit in enumerate(fitting) if not fit), None)
    if wrong is None and len(parameters) - optional <= len(given) <= len(parameters):
        return
    if wrong is None:
        wrong = min(len(given), len(parameters))
    _fail("T0410", f'Argument {wrong + 1} of function "{name}" does not match function signature')


def _partition(*given: Any) -> list[Any]:
    _signature("partition", given, _anything, _number)
    array, size = given
    if not isinstance(array, list):
        array = [array]
    step = _integer(size)
    if step is None or step <= 0:
        _fail("D3050", "The chunk size of $partition must be a positive integer")
    return [array[start : start + step] for start in range(0, len(array), step)]


def _range(*given: Any) -> Any:
    _signature("range", given, _number, _number, _number, optional=1)
    first, last, step = (*map(_integer, given), 1)[:3]
    if first is None or last is None or step is None:
        _fail("D3054", "The arguments of $range must be integers")
    if step == 0:
        _fail("D3051", "The step of $range cannot be zero")
    values = list(range(first, last + (1 if step > 0 else -1), step))
    # AWS builds it as a JSONata sequence: one value is that value, not an array of one.
    return values[0] if len(values) == 1 else values


def _hash(*given: Any) -> str:
    _signature("hash", given, _string, _string)
    value, algorithm = given
    if algorithm not in _HASHES:
        _fail("D3052", f"Unsupported hash algorithm: {algorithm}. Supported: {', '.join(_HASHES)}")
    return hashlib.new(_HASHES[algorithm], value.encode()).hexdigest()


def _parse(*given: Any) -> Any:
    _signature("parse", given, _string)
    try:
        return json.loads(given[0])
    except ValueError as error:
        _fail("D3053", f"Unable to parse the string as JSON: {error}")


def _uuid(*given: Any) -> str:
    _signature("uuid", given)
    return str(uuid.uuid4())


class JavaRandom:
    """java.util.Random: AWS's `$random(seed)` gives the value Java's nextDouble() does."""

    _MULTIPLIER: Final = 0x5DEECE66D
    _MASK: Final = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + 0xB) & self._MASK
        return self._seed >> (48 - bits)

    def next_double(self) -> float:
        return ((self._next(26) << 27) + self._next(27)) * (1.0 / (1 << 53))


def _random(*given: Any) -> float:
    if given == (None,):  # an undefined seed (jsonatapy passes it as None): none given
        given = ()
    _signature("random", given, _number, optional=1)
    if not given:
        return random.random()
    return JavaRandom(int(given[0])).next_double()


def _eval(*arguments: Any) -> None:
    _fail("T1006", "Attempted to invoke a non-function")


# ---- the URL functions, as jsonata-js 2.0.6 runs them: JavaScript's encodeURI,
# encodeURIComponent, decodeURI and decodeURIComponent (ECMA-262). jsonatapy's left a space
# and `"%<>[\\]^`{|}` unencoded in $encodeUrl, encoded `!'()*-._~` in $encodeUrlComponent,
# decoded `%2F` in $decodeUrl and passed a lone `%` through.

_URL_FUNCTIONS: Final = ("encodeUrl", "encodeUrlComponent", "decodeUrl", "decodeUrlComponent")
# What each encoding leaves as it is, besides letters, digits and `-_.~` (urllib's).
_URL_KEPT: Final = {"encodeUrl": ";,/?:@&=+$!*'()#", "encodeUrlComponent": "!*'()"}
# decodeURI leaves the escape of one of these as it is written.
_URL_RESERVED: Final = ";/?:@&=+$,#"
_URL_ESCAPES: Final = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# The host function that does the work (registered below), under a name no expression of a
# user's can know: AWS's JSONata has no such function (`$__url(...)` fails there with T1006).
_URL_HELPER: Final = f"url{uuid.uuid4().hex}"
# A function of the expression's own, bound before the expression: jsonatapy's signature
# checking takes the context item for a missing argument (`$x.$encodeUrl()`), and `$exists`
# keeps an undefined argument undefined (a host function's None is null).
_URL_FUNCTION: Final = (
    "${name} := function($s)<x-:s>{{ $exists($s) ? $" + _URL_HELPER + "('{name}', $s) }}; "
)


def _utf8_decoded(escapes: str, reserved: str) -> str:
    """A run of %XX escapes decoded, each character whole (ValueError otherwise); one in
    `reserved` stays as written."""
    data = bytes.fromhex(escapes.replace("%", ""))
    decoded: list[str] = []
    index = 0
    while index < len(data):
        lead = data[index]
        width = 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else 4
        character = data[index : index + width].decode()  # strict: no part of a character
        decoded.append(escapes[3 * index : 3 * index + 3] if character in reserved else character)
        index += width
    return "".join(decoded)


def _url_decoded(text: str, reserved: str) -> str:
    pieces: list[str] = []
    position = 0
    for escapes in _URL_ESCAPES.finditer(text):
        pieces += [text[position : escapes.start()], _utf8_decoded(escapes.group(), reserved)]
        position = escapes.end()
    pieces.append(text[position:])
    if any("%" in piece for piece in pieces[::2]):
        raise ValueError("a % that starts no escape")
    return "".join(pieces)


def _url(name: str, value: Any) -> str:
    if not isinstance(value, str):
        _fail("T0410", f'Argument 1 of function "{name}" does not match function signature')
    try:
        if name in _URL_KEPT:
            return urllib.parse.quote(value, safe=_URL_KEPT[name])
        return _url_decoded(value, _URL_RESERVED if name == "decodeUrl" else "")
    except ValueError:  # UnicodeError included: a lone surrogate has no UTF-8
        _fail("D3140", f"Malformed URL passed to ${name}(): {payloads.text(value)}")


def _with_url_functions(expression: Expression, bound: Collection[str]) -> str:
    """The text to compile: the expression, its calls of the URL functions bound to ours
    (a variable of that name, bound, hides the function, as in JSONata)."""
    used = [name for name in _URL_FUNCTIONS if name in expression.variables and name not in bound]
    if not used:
        return expression.text
    return "(" + "".join(_URL_FUNCTION.format(name=name) for name in used) + expression.text + ")"


_FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {
    "partition": _partition,
    "range": _range,
    "hash": _hash,
    "uuid": _uuid,
    "parse": _parse,
    _URL_HELPER: _url,
}


# ---- evaluation, on the one thread that holds the compiled expressions -----------------


class _Evaluator:
    def __init__(self) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jsonata")
        self._compiled: OrderedDict[str, Any] = OrderedDict()  # touched on the worker only
        self._now = datetime.datetime.now(datetime.UTC)

    def evaluate(
        self, text: str, bindings: dict[str, Any], now: datetime.datetime, timeout_ms: int
    ) -> str | None:
        if threading.current_thread().name.startswith("jsonata"):
            return self._run(text, bindings, now, timeout_ms)  # $now(picture) evaluating in turn
        return self._executor.submit(self._run, text, bindings, now, timeout_ms).result()

    def _compiled_expression(self, text: str) -> Any:
        compiled = self._compiled.get(text)
        if compiled is None:
            compiled = jsonatapy.compile(text)
            for name, function in _FUNCTIONS.items():
                compiled.register(name, function)
            compiled.register_override("random", _random)
            compiled.register_override("eval", _eval)
            compiled.register_override("now", self._now_function)
            compiled.register_override("millis", self._millis)
            self._compiled[text] = compiled
            if len(self._compiled) > _CACHE_SIZE:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(text)
        return compiled

    def _run(
        self, text: str, bindings: dict[str, Any], now: datetime.datetime, timeout_ms: int
    ) -> str | None:
        before = self._now
        self._now = now  # $now() and $millis() answer the evaluation's start, as in JSONata
        try:
            compiled = self._compiled_expression(text)
            result = compiled.evaluate_json_or_none(None, bindings, timeout=timeout_ms)
            if result == '""' and compiled.evaluate(None, bindings, timeout=timeout_ms) is None:
                raise Unsupported(text)  # jsonatapy writes a function as ""
            return result
        finally:
            self._now = before

    def _millis(self) -> int:
        return int(self._now.timestamp() * 1000)

    def _now_function(self, picture: Any = None, timezone: Any = None) -> Any:
        if picture is None and timezone is None:
            return (
                self._now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self._now.microsecond // 1000:03d}Z"
            )
        arguments = ", ".join(json.dumps(a) for a in (picture, timezone) if a is not None)
        formatted = self._run(
            f"$fromMillis({self._millis()}, {arguments})", {}, self._now, TIMEOUT_MS
        )
        return json.loads(formatted) if formatted is not None else None


_EVALUATOR = _Evaluator()


# ---- plain paths, read without the evaluator ----------------------------------------

_SAFE_INTEGER: Final = 2**53  # beyond it, jsonatapy gives back the nearest double


class _NotPlain(Exception):
    """The data needs JSONata's own rules (an array on the path), or its value would not come
    back from jsonatapy unchanged: the evaluator answers."""


def _copied(value: Any) -> Any:
    """A copy of a value, as jsonatapy gives it back; _NotPlain where it would change it (a
    float: 1.0 comes back 1; an integer beyond 2**53; text that is not Unicode)."""
    if value is None or value is True or value is False:
        return value
    kind = type(value)
    if kind is str:
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:  # a lone surrogate: jsonatapy refuses it
                raise _NotPlain from None
        return value
    if kind is int and -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
        return value
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if kind is list:
        return [_copied(item) for item in value]
    raise _NotPlain


def _read(
    expression: Expression, states: Mapping[str, Any] | None, variables: Mapping[str, Any]
) -> Any:
    """A plain path's value (or, for `$exists`, whether it has one) as jsonatapy would answer
    it: a field that is not there is UNDEFINED; _NotPlain where JSONata's array rules apply
    (an array along the path or at its end), on a value that is not an object before the
    last field, and on an unbound variable (a built-in function's name, or nothing)."""
    assert expression.path is not None
    name, *fields = expression.path
    if expression.exists and "exists" in variables:
        raise _NotPlain  # a variable named `exists` hides the function
    if name == "states" and states is not None:
        value: Any = states
    elif name != "states" and name in variables:
        value = variables[name]
    else:
        raise _NotPlain
    for field in fields:
        if not isinstance(value, Mapping):
            raise _NotPlain
        if field not in value:
            return False if expression.exists else UNDEFINED
        value = value[field]
    if isinstance(value, list):
        raise _NotPlain
    return True if expression.exists else _copied(value)


def evaluate(
    expression: Expression,
    states: Mapping[str, Any] | None,
    variables: Mapping[str, Any],
    now: datetime.datetime | None = None,
    timeout_ms: int = TIMEOUT_MS,
) -> Any:
    """The expression's value (UNDEFINED if it returned nothing) for these `$states` and
    variables. Raises Failed (JSONata's code and message) or Unsupported."""
    if expression.path is not None:
        try:
            return _read(expression, states, variables)
        except _NotPlain:
            pass
    bindings = {name: variables[name] for name in expression.variables if name in variables}
    if states is not None and "states" in expression.variables:
        if expression.states is None:
            bindings["states"] = dict(states)
        else:
            bindings["states"] = {k: states[k] for k in expression.states if k in states}
    try:
        result = _EVALUATOR.evaluate(
            _with_url_functions(expression, bindings),
            bindings,
            now or datetime.datetime.now(datetime.UTC),
            timeout_ms,
        )
    except ValueError as error:
        raise Failed(*_split(str(error))) from error
    return UNDEFINED if result is None else json.loads(result)
