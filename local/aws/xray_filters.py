"""X-Ray filter expressions, as GetTraceSummaries' FilterExpression takes them: the subset a user
of this stack needs, evaluated over a trace's summary (local/aws/xray_daemon.py: TraceSummary).

Following https://docs.aws.amazon.com/xray/latest/devguide/xray-console-filters.html:
- `annotation.KEY op value` and `annotation[KEY] op value`: strings (=, !=, CONTAINS,
  BEGINSWITH, ENDSWITH), numbers (=, !=, <, <=, >, >=), booleans (=, !=);
- Boolean keywords `ok`, `error`, `fault`, `throttle` (alone, or `= true|false`);
- number keywords `duration`, `responsetime`, `http.status`;
- string keywords `http.url`, `http.method`, `http.useragent`, `http.clientip`, `user`;
- `service("name")`, optionally followed by `{ keyword }` (that service had an error, fault,
  throttle, or none);
- `AND`, `OR`, `NOT`, `!`, `&&`, `||` and parentheses (AND binds tighter than OR).

Anything else (edge(), id(), groups, json paths, regexes) is refused with UnsupportedFilter,
which the X-Ray API answers as AWS does a malformed expression: InvalidRequestException.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

STRING_OPS = ("=", "!=", "CONTAINS", "BEGINSWITH", "ENDSWITH")
NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
BOOLEAN_KEYWORDS = ("ok", "error", "fault", "throttle")
NUMBER_KEYWORDS = ("duration", "responsetime", "http.status")
STRING_KEYWORDS = ("http.url", "http.method", "http.useragent", "http.clientip", "user")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>&&|\|\||!=|<=|>=|=|<|>|!|\(|\)|\{|\}|\[|\]|,)
      | (?P<word>[A-Za-z_][\w.:-]*)
    )""",
    re.VERBOSE,
)


class UnsupportedFilter(ValueError):
    """The expression is malformed, or uses what this emulator does not evaluate."""


class Trace(Protocol):
    """What a filter reads of a trace."""

    def annotation_values(self, key: str) -> list[Any]: ...
    def flag(self, keyword: str, service: str | None = None) -> bool: ...
    def number(self, keyword: str) -> float | None: ...
    def text(self, keyword: str) -> str | None: ...
    def has_service(self, name: str) -> bool: ...


Predicate = Callable[[Trace], bool]


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    expression = expression.rstrip()
    while position < len(expression):
        matched = _TOKEN.match(expression, position)
        if matched is None or matched.end() == position:
            raise UnsupportedFilter(
                f"cannot read the filter expression at {expression[position:]!r}"
            )
        kind = matched.lastgroup
        assert kind is not None
        tokens.append((kind, matched.group(kind)))
        position = matched.end()
    return tokens


def compile_filter(expression: str) -> Predicate:
    """The predicate an expression stands for; UnsupportedFilter if it cannot be evaluated."""
    parser = _Parser(_tokens(expression))
    predicate = parser.disjunction()
    if parser.peek() is not None:
        raise UnsupportedFilter(f"unexpected {parser.peek()[1]!r} in the filter expression")  # type: ignore[index]
    return predicate


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self._tokens = tokens
        self._at = 0

    def peek(self) -> tuple[str, str] | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise UnsupportedFilter("the filter expression ends too soon")
        self._at += 1
        return token

    def _accept(self, *values: str) -> str | None:
        token = self.peek()
        if token is not None and token[1].upper() in values:
            self._at += 1
            return token[1].upper()
        return None

    def _expect(self, value: str) -> None:
        if self._accept(value) is None:
            found = self.peek()
            raise UnsupportedFilter(
                f"expected {value!r}, found {found[1] if found else 'the end'!r}"
            )

    def disjunction(self) -> Predicate:
        terms = [self.conjunction()]
        while self._accept("OR", "||"):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else lambda trace: any(t(trace) for t in terms)

    def conjunction(self) -> Predicate:
        terms = [self.negation()]
        while self._accept("AND", "&&"):
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else lambda trace: all(t(trace) for t in terms)

    def negation(self) -> Predicate:
        if self._accept("NOT", "!"):
            inner = self.negation()
            return lambda trace: not inner(trace)
        return self.primary()

    def primary(self) -> Predicate:
        if self._accept("("):
            inner = self.disjunction()
            self._expect(")")
            return inner
        kind, word = self._take()
        if kind != "word":
            raise UnsupportedFilter(f"unexpected {word!r} in the filter expression")
        lowered = word.lower()
        if lowered == "annotation" or lowered.startswith("annotation."):
            return self._annotation(word)
        if lowered == "service":
            return self._service()
        if lowered in BOOLEAN_KEYWORDS:
            return self._boolean(lowered)
        if lowered in NUMBER_KEYWORDS:
            op, value = self._comparison(NUMBER_OPS, numbers_only=True)
            return lambda trace: _compare(trace.number(lowered), op, value)
        if lowered in STRING_KEYWORDS:
            op, value = self._comparison(STRING_OPS)
            return lambda trace: _compare(trace.text(lowered), op, value)
        raise UnsupportedFilter(f"the filter keyword {word!r} is not supported by the local stack")

    def _annotation(self, word: str) -> Predicate:
        if word.lower() == "annotation":
            self._expect("[")
            key = self._take()[1]
            self._expect("]")
        else:
            key = word.split(".", 1)[1]
        if not re.fullmatch(r"[A-Za-z0-9_]+", key):
            raise UnsupportedFilter(f"not an annotation key: {key!r}")
        op, value = self._comparison((*STRING_OPS, *NUMBER_OPS))
        return lambda trace: any(_compare(v, op, value) for v in trace.annotation_values(key))

    def _service(self) -> Predicate:
        self._expect("(")
        kind, name = self._take()
        if kind != "string":
            raise UnsupportedFilter("service() takes a quoted name")
        self._expect(")")
        wanted = _unquote(name)
        if self._accept("{"):
            kind, keyword = self._take()
            keyword = keyword.lower()
            if keyword not in BOOLEAN_KEYWORDS:
                raise UnsupportedFilter(
                    f"service() {{...}} takes one of {', '.join(BOOLEAN_KEYWORDS)}"
                )
            self._expect("}")
            return lambda trace: trace.has_service(wanted) and trace.flag(keyword, wanted)
        return lambda trace: trace.has_service(wanted)

    def _boolean(self, keyword: str) -> Predicate:
        if self._accept("=", "!="):
            negate = self._tokens[self._at - 1][1] == "!="
            value = self._take()[1].lower()
            if value not in ("true", "false"):
                raise UnsupportedFilter(f"{keyword} compares with true or false")
            wanted = (value == "true") != negate
            return lambda trace: trace.flag(keyword) == wanted
        return lambda trace: trace.flag(keyword)

    def _comparison(self, ops: tuple[str, ...], numbers_only: bool = False) -> tuple[str, Any]:
        op = self._accept(*ops)
        if op is None:
            found = self.peek()
            raise UnsupportedFilter(
                f"expected a comparison, found {found[1] if found else 'the end'!r}"
            )
        kind, raw = self._take()
        if kind == "number":
            return op, float(raw)
        if numbers_only:
            raise UnsupportedFilter(f"{raw!r} is not a number")
        if kind == "string":
            return op, _unquote(raw)
        if kind == "word" and raw.lower() in ("true", "false") and op in ("=", "!="):
            return op, raw.lower() == "true"
        raise UnsupportedFilter(f"cannot compare with {raw!r}")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _compare(found: Any, op: str, wanted: Any) -> bool:
    if found is None:
        return False
    if isinstance(wanted, bool) or isinstance(found, bool):
        if not (isinstance(wanted, bool) and isinstance(found, bool)):
            return False
        return (found == wanted) == (op == "=")
    if isinstance(wanted, float):
        if not isinstance(found, int | float):
            return False
        return {
            "=": found == wanted,
            "!=": found != wanted,
            "<": found < wanted,
            "<=": found <= wanted,
            ">": found > wanted,
            ">=": found >= wanted,
        }.get(op, False)
    if not isinstance(found, str):
        return False
    return {
        "=": found == wanted,
        "!=": found != wanted,
        "CONTAINS": wanted in found,
        "BEGINSWITH": found.startswith(wanted),
        "ENDSWITH": found.endswith(wanted),
    }.get(op, False)
