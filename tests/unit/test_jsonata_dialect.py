"""AWS's dialect of JSONata (local/aws/stepfunctions/jsonata.py), without moto: what a
definition may hold, the Step Functions functions, and how an evaluation ends."""

from __future__ import annotations

import dataclasses
import datetime
import threading
from typing import Any

import pytest

from local.aws.stepfunctions import jsonata
from local.aws.stepfunctions.definitions import expression_locations, problems

TRANSFORMING = "https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html"


def value(text: str, states: dict | None = None, variables: dict | None = None, **kw):
    return jsonata.evaluate(jsonata.analyse(text), states or {}, variables or {}, **kw)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("a[1,2)", "INVALID_JSONATA_EXPRESSION", 'Expected "]", got ","'),
        ("1 +", "INVALID_JSONATA_EXPRESSION", "Unexpected end of expression"),
        (
            '{"a":}',
            "INVALID_JSONATA_EXPRESSION",
            'The symbol "}" cannot be used as a unary operator',
        ),
        # JSONata 2.1's operators: 2.0.6, which AWS runs, reads `?` then a `:` or `?` operand.
        (
            "0 ?: 2",
            "INVALID_JSONATA_EXPRESSION",
            'The symbol ":" cannot be used as a unary operator',
        ),
        (
            "$x ?? 3",
            "INVALID_JSONATA_EXPRESSION",
            'The symbol "?" cannot be used as a unary operator',
        ),
        (
            "phone",
            "UNSUPPORTED_JSONATA_EXPRESSION",
            "Reference to 'phone' at the top level is not supported.",
        ),
        (
            '{"v": a.b}',
            "UNSUPPORTED_JSONATA_EXPRESSION",
            "Reference to 'a' at the top level is not supported.",
        ),
        (
            "$$",
            "UNSUPPORTED_JSONATA_EXPRESSION",
            "Reference to '$$' at the top level is not supported.",
        ),
    ],
)
def test_what_a_definition_may_not_hold(text, kind, message):
    with pytest.raises(jsonata.Refused) as refused:
        jsonata.analyse(text)
    assert (refused.value.kind, refused.value.message) == (kind, message)


@pytest.mark.parametrize(
    "text",
    [
        "$states.input.items[price > 1].name",  # a predicate: fields of the item
        '$states.input.items.{"n": name}',  # a path step
        "$states.input.items{name: price}",  # a group-by
        "$states.input.items^(price)",  # an order-by
        "$map($states.input.items, function($v){ $v.price })",
        '$states.input ~> |items|{"seen": true}|',  # a transform
        "true and $x in [1, 2]",
        "$x = null ? 'none' : $x",
    ],
)
def test_names_inside_a_context_are_fields(text):
    assert jsonata.analyse(text).text == text


def test_what_an_expression_reads():
    expression = jsonata.analyse("$states.input.a + $count($states.context.x) + $n")
    assert expression.variables == {"states", "count", "n"}
    assert expression.states == {"input", "context"}
    assert jsonata.analyse("$keys($states)").states is None  # $states whole


def test_the_step_functions_functions():
    # TRANSFORMING, "JSONata functions provided by Step Functions".
    assert value("$partition([1,2,3,4,5,6,7,8,9], 3)") == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert value("$partition([1,2,3,4,5], 2)") == [[1, 2], [3, 4], [5]]
    assert value("$range(0, 10, 2)") == [0, 2, 4, 6, 8, 10]
    assert value("$range(10, 0, -5)") == [10, 5, 0]
    assert value("$hash('input', 'SHA-1')") == "140f86aae51ab9e1cda9b4254fe98a74eb54c1a1"
    assert value("$hash('input', 'MD5')") == "a43c1b0aa53a0c908810c06ab1ff3967"
    assert value("$parse($states.input.s)", {"input": {"s": '{"a": [1, 2]}'}}) == {"a": [1, 2]}
    assert len(value("$uuid()")) == 36 and value("$uuid()") != value("$uuid()")
    assert value("$range(10, 1, -3)") == [10, 7, 4, 1]
    assert value("$range(0, 0)") == 0  # one value is that value, as AWS builds a sequence
    assert value("$partition([1,2,3], 2.0)") == [[1, 2], [3]]  # an integral number


@pytest.mark.parametrize(
    ("text", "argument"),
    [
        ("$partition()", 1),
        ("$partition([1], 1, 1)", 3),
        ("$range(0, 'a')", 2),
        ("$hash('a', 1)", 2),
        ("$random(1, 2)", 2),
        ("$uuid(1, 2)", 1),
        ("$parse({})", 1),
    ],
)
def test_a_call_that_does_not_fit_the_signature_names_the_argument(text: str, argument: int):
    with pytest.raises(jsonata.Failed) as failed:
        value(text)
    name = text[1 : text.index("(")]
    assert (failed.value.code, failed.value.message) == (
        "T0410",
        f'Argument {argument} of function "{name}" does not match function signature',
    )


def test_random_with_a_seed_is_javas():
    # AWS's $random(seed) is java.util.Random's nextDouble(): new Random(42).nextDouble().
    assert value("$random(42)") == 0.7275636800328681
    assert value("$random(42)") == value("$random(42)")
    assert 0 <= value("$random()") < 1


def test_eval_is_not_a_function():
    with pytest.raises(jsonata.Failed) as failed:
        value("$eval('1 + 1')")
    assert (failed.value.code, failed.value.message) == (
        "T1006",
        "Attempted to invoke a non-function",
    )


def test_errors_carry_the_jsonata_code():
    with pytest.raises(jsonata.Failed) as failed:
        value("$notAFunction(1)")
    assert str(failed.value) == "T1006: Attempted to invoke a non-function"
    with pytest.raises(jsonata.Failed, match=r'^T2002: The right side of the "\+" operator'):
        value("1 + 'a'")


# What jsonata-js 2.0.6 gives (JavaScript's URI functions), measured with its package.
@pytest.mark.parametrize(
    ("text", "given"),
    [
        ("$decodeUrl('%C3%A9%F0%9F%98%80%25')", "é😀%"),
        ("$decodeUrl('a+b%2B%2b%23')", "a+b%2B%2b%23"),
        ("$decodeUrlComponent('a+b%2B%23')", "a+b+#"),
        ("$decodeUrlComponent($encodeUrlComponent('ä/ b?'))", "ä/ b?"),
        ("$encodeUrl($states.input.s)", "a%20%F0%9F%98%80"),
        ("($encodeUrl := function($v){ 'mine' }; $encodeUrl('x'))", "mine"),
    ],
)
def test_the_url_functions_are_javascripts(text, given):
    assert value(text, {"input": {"s": "a 😀"}}) == given


def test_the_host_function_behind_the_url_functions_is_no_function_of_the_dialect():
    # AWS's JSONata (jsonata-js 2.0.6) has no $__url: calling it is calling a non-function.
    with pytest.raises(jsonata.Failed, match=r"^T1006"):
        value("$__url('encodeUrl', 'a b')")
    with pytest.raises(jsonata.Failed, match=r"^T1006"):
        value("$encodeUrl('a') & $__url('encodeUrl', 'a b')")


def test_a_variable_named_as_a_url_function_hides_it():
    assert value("$encodeUrl", variables={"encodeUrl": "variable"}) == "variable"
    with pytest.raises(jsonata.Failed, match=r"^T1006"):
        value("$encodeUrl('x')", variables={"encodeUrl": "variable"})


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("$decodeUrl('%E0%A4%A')", "D3140", 'Malformed URL passed to $decodeUrl(): "%E0%A4%A"'),
        ("$decodeUrl('%ZZ')", "D3140", 'Malformed URL passed to $decodeUrl(): "%ZZ"'),
        ("$decodeUrl('%C0%AF')", "D3140", 'Malformed URL passed to $decodeUrl(): "%C0%AF"'),
        ("$decodeUrl('%ED%A0%80')", "D3140", 'Malformed URL passed to $decodeUrl(): "%ED%A0%80"'),
        (
            "$decodeUrlComponent('%80')",
            "D3140",
            'Malformed URL passed to $decodeUrlComponent(): "%80"',
        ),
        (
            "$encodeUrlComponent(null)",
            "T0410",
            'Argument 1 of function "encodeUrlComponent" does not match function signature',
        ),
        (
            "$decodeUrl(1)",
            "T0410",
            'Argument 1 of function "decodeUrl" does not match function signature',
        ),
    ],
)
def test_a_url_function_fails_as_javascripts(text, code, message):
    with pytest.raises(jsonata.Failed) as failed:
        value(text)
    assert (failed.value.code, failed.value.message) == (code, message)


def test_nothing_and_functions_are_told_apart_from_values():
    assert value("$states.input.missing", {"input": {}}) is jsonata.UNDEFINED
    assert value("$states.input.there", {"input": {"there": None}}) is None
    assert value("''") == ""
    with pytest.raises(jsonata.Unsupported):
        value("function($x){ $x }")


def test_variables_and_now_come_from_the_caller():
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC)
    assert value("$now()", now=moment) == "2026-01-02T03:04:05.678Z"
    assert value("$millis()", now=moment) == int(moment.timestamp() * 1000)
    assert value("$now('[Y0001]')", now=moment) == "2026"
    assert (
        value(
            "$greeting & ' ' & $states.input.name", {"input": {"name": "Ann"}}, {"greeting": "Hi"}
        )
        == "Hi Ann"
    )


def test_a_runaway_expression_ends():
    with pytest.raises(jsonata.Failed) as failed:
        value("($f := function($n){ $f($n) }; $f(1))", timeout_ms=200)
    assert failed.value.code in {"U1001", "D1012"}  # recursion too deep, or out of time


def test_expressions_evaluate_from_any_thread():
    # moto runs each execution, and each Map iteration, on a thread of its own.
    results: list = []
    expression = jsonata.analyse("$sum($states.input.numbers)")

    def run(offset: int) -> None:
        for index in range(50):
            results.append(
                jsonata.evaluate(expression, {"input": {"numbers": [offset, index]}}, {})
            )

    threads = [threading.Thread(target=run, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted(offset + index for offset in range(4) for index in range(50))


def test_a_definitions_problems_are_named_where_they_sit():
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "E",
        "States": {
            "E": {"Type": "Pass", "Output": {"v": "{% phone %}"}, "Next": "P"},
            "P": {"Type": "Pass", "QueryLanguage": "JSONPath", "Parameters": {}, "End": True},
        },
    }
    assert problems(definition) == [
        "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not "
        "supported. at /States/E/Output/v",
        "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' "
        "for whole state machine at /States/P",
    ]


def test_jsonpath_fields_and_reserved_names_in_a_jsonata_state():
    definition = {
        "StartAt": "S",
        "States": {
            "S": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Parameters": {},
                "Assign": {"states": 1, "1st": 2, "ok": 3},
                "End": True,
            }
        },
    }
    assert problems(definition) == [
        "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field 'Parameters' "
        "is only supported for the 'JSONPath' QueryLanguage at /States/S",
        "SCHEMA_VALIDATION_FAILED: The variable name 'states' is reserved at /States/S/Assign",
        "SCHEMA_VALIDATION_FAILED: The variable name '1st' is not valid at /States/S/Assign",
    ]


def test_expressions_are_located_relative_to_their_state():
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $x %}", "Output": {"v": ["{% $y %}"]}, "Next": "M"}],
            },
            "M": {
                "Type": "Map",
                "Items": "{% $x %}",
                "ItemProcessor": {
                    "StartAt": "I",
                    "States": {"I": {"Type": "Pass", "Output": "{% $x %}", "End": True}},
                },
                "End": True,
            },
        },
    }
    assert expression_locations(definition) == {
        ("C", "$x"): ["Choices[0]/Condition"],
        ("C", "$y"): ["Choices[0]/Output/v[0]"],
        ("M", "$x"): ["Items"],
        ("I", "$x"): ["Output"],
    }


_DATA: dict[str, Any] = {
    "input": {"a": {"b": "x", "n": None, "deep": {"list": [1, {"k": "é"}]}}, "i": 9007199254740992},
    "result": {"Payload": {"operationId": "op-1", "review": None}},
}
_VARIABLES = {"request": {"operationId": "op-1", "name": "Ann"}, "flag": True, "count": 3}


@pytest.mark.parametrize(
    "text",
    [
        "$states.input",
        "$states.input.a",
        "$states.input.a.b",
        "$states.input.a.n",
        "$states.input.a.missing",
        "$states.input.i",
        "$states.result.Payload",
        "$request.operationId",
        "$request",
        "$flag",
        "$count",
        "$exists($states.input.a.n)",
        "$exists($states.input.a.missing)",
        "$exists($states.result.Payload.review)",
        "$exists($request.operationId)",
    ],
)
def test_a_plain_path_is_read_without_the_evaluator(text, monkeypatch):
    # What jsonatapy answers, read from the data on the caller's thread: no handoff.
    answered = jsonata.evaluate(_by_the_evaluator(text), _DATA, _VARIABLES)
    monkeypatch.setattr(jsonata._EVALUATOR, "evaluate", _no_handoff)
    read = jsonata.evaluate(jsonata.analyse(text), _DATA, _VARIABLES)
    assert read == answered and type(read) is type(answered)
    if isinstance(read, dict):
        assert list(read) == list(answered)  # the fields' order kept
        assert read is not _DATA["input"] and read is not _DATA["result"]["Payload"]


@pytest.mark.parametrize(
    ("text", "states", "variables"),
    [
        ("$states.input.a", {"input": {"a": 1.0}}, {}),  # jsonatapy gives 1.0 back as 1
        ("$states.input", {"input": {"big": 2**53 + 1}}, {}),  # ... and this as 2**53
        ("$states.input.a.b", {"input": {"a": [{"b": 1}, {"b": 2}]}}, {}),  # JSONata maps
        ("$states.input.a", {"input": {"a": [[1], [2, 3]]}}, {}),
        ("$exists($states.input.a)", {"input": {"a": []}}, {}),
        ("$states.input.a.b", {"input": {"a": "text"}}, {}),
        ("$string", {}, {}),  # unbound: the built-in function
        ("$exists($x)", {}, {"exists": 1, "x": 2}),  # a variable hides the function
        ("$unbound.field", {}, {}),
    ],
)
def test_what_jsonata_rules_stay_with_the_evaluator(text, states, variables, monkeypatch):
    calls: list[str] = []
    evaluate = jsonata._EVALUATOR.evaluate

    def counted(expression_text, *args):
        calls.append(expression_text)
        return evaluate(expression_text, *args)

    monkeypatch.setattr(jsonata._EVALUATOR, "evaluate", counted)
    answered = _outcome(jsonata.analyse(text), states, variables)
    assert calls == [text]
    assert answered == _outcome(_by_the_evaluator(text), states, variables)


def _outcome(expression: jsonata.Expression, states: dict, variables: dict) -> object:
    """The value, or the failure's kind and words."""
    try:
        return jsonata.evaluate(expression, states, variables)
    except (jsonata.Failed, jsonata.Unsupported) as error:
        return type(error), str(error)


def _by_the_evaluator(text: str) -> jsonata.Expression:
    return dataclasses.replace(jsonata.analyse(text), path=None, exists=False)


def _no_handoff(*args: object) -> None:
    raise AssertionError("a plain path was handed to the evaluator")
