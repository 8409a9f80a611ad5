"""JSONata states as the Step Functions developer guide documents them, run on the engine.

Each test cites the page whose example or rule it runs; where the guide gives no text for an
answer (a failure's cause), the text is the one AWS recorded in real executions, as the
guide's error-handling page names the error (States.QueryEvaluationError)."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.conformance.stepfunctions.conftest import Machines, output, query_evaluation_cause

TRANSFORMING = "https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html"
VARIABLES = "https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html"
ERRORS = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"
MAP = "https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html"


def jsonata(states: dict, start: str) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": start, "States": states}


def test_the_guides_conversion_from_jsonpath_gives_the_same_result(machines: Machines):
    # TRANSFORMING: "Given input {"title": "Doctor"} and variable customerName assigned to
    # "María", both state machines will produce the following JSON result".
    documented = {
        "static": "Hello",
        "title": "Doctor",
        "name": "María",
        "not-evaluated": "$customerName",
    }
    name = {"Type": "Pass", "Assign": {"customerName": "María"}, "Next": "Shape"}
    jsonpath = {
        "StartAt": "Name",
        "States": {
            "Name": name,
            "Shape": {
                "Type": "Pass",
                "Parameters": {
                    "static": "Hello",
                    "title.$": "$.title",
                    "name.$": "$customerName",
                    "not-evaluated": "$customerName",
                },
                "End": True,
            },
        },
    }
    converted = jsonata(
        {
            "Name": name,
            "Shape": {
                "Type": "Pass",
                "Output": {
                    "static": "Hello",
                    "title": "{% $states.input.title %}",
                    "name": "{% $customerName %}",
                    "not-evaluated": "$customerName",
                },
                "End": True,
            },
        },
        "Name",
    )
    assert output(machines.run(jsonpath, {"title": "Doctor"})) == documented
    assert output(machines.run(converted, {"title": "Doctor"})) == documented


def test_the_step_functions_functions(machines: Machines):
    # TRANSFORMING, "JSONata functions provided by Step Functions": the examples' results.
    functions = {
        "partition": "{% $partition([1,2,3,4,5,6,7,8,9], 3) %}",
        "range": "{% $range(0, 10, 2) %}",
        "hash": "{% $hash($states.input.content, 'SHA-256') %}",
        "seeded": "{% $random($states.input.seed) %}",
        "again": "{% $random($states.input.seed) %}",
        "unseeded": "{% $random() %}",
        "uuid": "{% $uuid() %}",
        "parsed": "{% $parse($states.input.json) %}",
    }
    data = {"content": "input data", "seed": 42, "json": '{"customer": {"name": "María"}}'}
    found = output(
        machines.run(jsonata({"F": {"Type": "Pass", "Output": functions, "End": True}}, "F"), data)
    )
    assert found["partition"] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert found["range"] == [0, 2, 4, 6, 8, 10]
    assert found["hash"] == hashlib.sha256(b"input data").hexdigest()  # hex, lower case
    assert found["seeded"] == found["again"]  # a seed gives the same number every time
    assert 0 <= found["seeded"] < 1 and 0 <= found["unseeded"] < 1
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", found["uuid"]
    )
    assert found["parsed"] == {"customer": {"name": "María"}}


def test_eval_is_not_there(machines: Machines):
    # TRANSFORMING: Step Functions runs JSONata without $eval ("use $parse() instead").
    failing = jsonata(
        {"E": {"Type": "Pass", "Output": {"r": "{% $eval('1+1') %}"}, "End": True}}, "E"
    )
    assert query_evaluation_cause(machines.run(failing)) == (
        "An error occurred while executing the state 'E' (entered at the event id #2). The "
        "JSONata expression '$eval('1+1')' specified for the field 'Output/r' threw an error "
        "during evaluation. T1006: Attempted to invoke a non-function"
    )


@pytest.mark.parametrize(
    ("expression", "failure"),
    [
        ("$partition([1,2,3])", 'T0410: Argument 2 of function "partition"'),
        ("$partition([1,2,3], '2')", 'T0410: Argument 2 of function "partition"'),
        ("$range(0)", 'T0410: Argument 2 of function "range"'),
        ("$range(0, 1, 1, 1)", 'T0410: Argument 4 of function "range"'),
        ("$hash('x')", 'T0410: Argument 2 of function "hash"'),
        ("$hash(123, 'MD5')", 'T0410: Argument 1 of function "hash"'),
        ("$random('x')", 'T0410: Argument 1 of function "random"'),
        ("$uuid('x')", 'T0410: Argument 1 of function "uuid"'),
        ("$parse()", 'T0410: Argument 1 of function "parse"'),
        ("$partition([1,2,3], 1.5)", "D3050: The chunk size of $partition must be"),
        ("$range(1.5, 4, 1)", "D3054: The arguments of $range must be integers"),
    ],
)
def test_a_step_functions_function_given_the_wrong_arguments_fails_in_jsonatas_words(
    machines: Machines, expression: str, failure: str
):
    # TRANSFORMING, "JSONata functions provided by Step Functions", gives each function's
    # arguments: $partition's chunk size and $range's three are integers, $hash's first is
    # the string to hash. A call that does not fit fails as JSONata fails a function
    # registered with a signature (T0410, "Argument N of function "f" does not match function
    # signature", naming the first argument out of place); no recording shows AWS's failure:
    # the D codes are the engine's own. moto's cause carried Python's TypeError
    # ("_partition() missing 1 required positional argument: 'size'").
    failing = jsonata({"F": {"Type": "Pass", "Output": f"{{% {expression} %}}", "End": True}}, "F")
    cause = query_evaluation_cause(machines.run(failing))
    assert cause.startswith(
        "An error occurred while executing the state 'F' (entered at the event id #2). The "
        f"JSONata expression '{expression}' specified for the field 'Output' threw an error "
        f"during evaluation. {failure}"
    )
    if failure.startswith("T0410"):
        assert cause.endswith(" does not match function signature")


def test_states_holds_input_context_and_result(machines: Machines):
    # VARIABLES, "Reserved variable: $states": input, result, errorOutput, context.
    states = {
        "Shape": {
            "Type": "Pass",
            "Output": {
                "input": "{% $states.input %}",
                "execution": "{% $states.context.Execution.Name %}",
                "state": "{% $states.context.State.Name %}",
                "started": "{% $states.context.Execution.StartTime %}",
            },
            "End": True,
        }
    }
    machine = machines.create(jsonata(states, "Shape"))
    arn = machines.sfn.start_execution(stateMachineArn=machine, name="run-1", input='{"a": 1}')[
        "executionArn"
    ]
    found = output(machines.finished(arn))
    assert found["input"] == {"a": 1}
    assert found["execution"] == "run-1" and found["state"] == "Shape"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", found["started"])


def test_a_catcher_reads_the_error_output(machines: Machines):
    # ERRORS and TRANSFORMING: in a Catch, $states.errorOutput holds Error and Cause; the
    # catcher's Output (or the state input, without one) goes to the Next state.
    states = {
        "Fails": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Boom",
                    "States": {"Boom": {"Type": "Fail", "Error": "Oops", "Cause": "why"}},
                }
            ],
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "Output": {"caught": "{% $states.errorOutput %}"},
                    "Assign": {"error": "{% $states.errorOutput.Error %}"},
                    "Next": "After",
                }
            ],
            "End": True,
        },
        "After": {
            "Type": "Pass",
            "Output": {"seen": "{% $states.input %}", "error": "{% $error %}"},
            "End": True,
        },
    }
    found = output(machines.run(jsonata(states, "Fails")))
    assert found == {"seen": {"caught": {"Error": "Oops", "Cause": "why"}}, "error": "Oops"}


def test_fail_takes_error_and_cause_from_expressions(machines: Machines):
    # TRANSFORMING: a Fail state's Error and Cause accept JSONata.
    states = {
        "F": {
            "Type": "Fail",
            "Error": "{% $states.input.code %}",
            "Cause": "{% 'user ' & $states.input.user & ' refused' %}",
        }
    }
    described = machines.run(jsonata(states, "F"), {"code": "REFUSED", "user": "ann"})
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "REFUSED",
        "user ann refused",
    )


def test_map_items_and_item_selector(machines: Machines):
    # MAP (JSONata): Items gives the array, ItemSelector shapes each item from
    # $states.context.Map.Item.Index and .Value; the Map's result is the array of outputs.
    states = {
        "Each": {
            "Type": "Map",
            "Items": "{% $states.input.numbers %}",
            "ItemSelector": {
                "index": "{% $states.context.Map.Item.Index %}",
                "value": "{% $states.context.Map.Item.Value %}",
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Double",
                "States": {
                    "Double": {
                        "Type": "Pass",
                        "Output": "{% $states.input.index & ':' & $states.input.value * 2 %}",
                        "End": True,
                    }
                },
            },
            "Output": {"doubled": "{% $states.result %}"},
            "End": True,
        }
    }
    assert output(machines.run(jsonata(states, "Each"), {"numbers": [1, 2, 3]})) == {
        "doubled": ["0:2", "1:4", "2:6"]
    }


def test_items_that_are_not_an_array_fail_the_state(machines: Machines):
    # MAP: Items must evaluate to an array; AWS's recorded cause names the type and value.
    states = {
        "Each": {
            "Type": "Map",
            "Items": "{% $states.input.numbers %}",
            "ItemProcessor": {
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    }
    described = machines.run(jsonata(states, "Each"), {"numbers": 1})
    assert query_evaluation_cause(described) == (
        "An error occurred while executing the state 'Each' (entered at the event id #2). The "
        "JSONata expression '$states.input.numbers' specified for the field 'Items' returned an "
        "unexpected result type. Expected 'array', but was 'number' for value: 1"
    )


def test_an_expression_that_returns_nothing_fails_the_state_and_can_be_caught(machines: Machines):
    # ERRORS: States.QueryEvaluationError is caught like any error (here by the Parallel
    # whose branch failed); the history records an EvaluationFailed event naming the state
    # and the field.
    read = {"Type": "Pass", "Output": {"result": "{% $states.input.missing %}"}, "End": True}
    states = {
        "Guard": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Read", "States": {"Read": read}}],
            "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Pass", "Output": "{% $states.input.Cause %}", "End": True},
    }
    machine = machines.create(jsonata(states, "Guard"))
    arn = machines.sfn.start_execution(stateMachineArn=machine)["executionArn"]
    cause = (
        "An error occurred while executing the state 'Read' (entered at the event id #4). The "
        "JSONata expression '$states.input.missing' specified for the field 'Output/result' "
        "returned nothing (undefined)."
    )
    assert output(machines.finished(arn)) == cause
    (failed,) = [e for e in machines.history(arn) if e["type"] == "EvaluationFailed"]
    assert failed["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": cause,
        "location": "Output/result",
        "state": "Read",
    }


@pytest.mark.parametrize(
    ("resource", "arguments"),
    [
        ("arn:aws:states:::dynamodb:putItem", {"TableName": "t", "Item": "{% $nope %}"}),
        ("arn:aws:states:::sqs:sendMessage", {"QueueUrl": "q", "MessageBody": "{% $nope %}"}),
    ],
    ids=["dynamodb", "sqs"],
)
def test_a_task_whose_arguments_return_nothing_fails_with_the_query_error(
    machines: Machines, resource, arguments
):
    # ERRORS: a task's Arguments that fail to evaluate fail the state with
    # States.QueryEvaluationError before any call (not a service's error), caught like any
    # error; the history records one EvaluationFailed event, in AWS's words.
    states = {
        "Call": {
            "Type": "Task",
            "Resource": resource,
            "Arguments": arguments,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Pass", "End": True},
    }
    machine = machines.create(jsonata(states, "Call"))
    arn = machines.sfn.start_execution(stateMachineArn=machine)["executionArn"]
    caught = output(machines.finished(arn))
    assert caught["Error"] == "States.QueryEvaluationError"
    assert "'$nope'" in caught["Cause"]
    (failed,) = [e for e in machines.history(arn) if e["type"] == "EvaluationFailed"]
    field = next(iter(k for k, v in arguments.items() if v == "{% $nope %}"))
    assert failed["evaluationFailedEventDetails"]["cause"] == (
        "An error occurred while executing the state 'Call' (entered at the event id #2). The "
        f"JSONata expression '$nope' specified for the field 'Arguments/{field}' returned "
        "nothing (undefined)."
    )


def test_choice_conditions_and_the_default(machines: Machines):
    # TRANSFORMING: a Choice rule's Condition is a JSONata expression.
    states = {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Condition": "{% $states.input.age >= 18 %}", "Next": "Adult"},
            ],
            "Default": "Minor",
        },
        "Adult": {"Type": "Pass", "Output": "adult", "End": True},
        "Minor": {"Type": "Pass", "Output": "minor", "End": True},
    }
    assert output(machines.run(jsonata(states, "Route"), {"age": 30})) == "adult"
    assert output(machines.run(jsonata(states, "Route"), {"age": 3})) == "minor"


def test_wait_seconds_from_an_expression(machines: Machines):
    # TRANSFORMING: Seconds accepts JSONata (the engine's clock: no real wait).
    states = {"W": {"Type": "Wait", "Seconds": "{% $states.input.delay %}", "End": True}}
    arn = machines.start(jsonata(states, "W"), {"delay": 3600})
    machines.until_waiting()
    machines.clock.advance(3600)
    described = machines.finished(arn)
    assert described["status"] == "SUCCEEDED"
    assert (described["stopDate"] - described["startDate"]).total_seconds() >= 3600


def test_a_jsonpath_machine_may_hold_jsonata_states(machines: Machines):
    # TRANSFORMING: QueryLanguage set on a state overrides the state machine's.
    definition = {
        "StartAt": "Old",
        "States": {
            "Old": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Next": "New"},
            "New": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% $states.input.n + 1 %}",
                "End": True,
            },
        },
    }
    assert output(machines.run(definition, {"n": 1})) == 2


def test_a_wait_timestamp_that_is_no_date_is_an_evaluation_error(machines: Machines):
    # AWS's recorded executions (LocalStack's test_wait_timestamp_jsonata, December 2024): an
    # EvaluationFailed event at "Timestamp", following the WaitStateEntered.
    wait = {"Type": "Wait", "Timestamp": "{% $states.input.at %}", "End": True}
    definition = {"QueryLanguage": "JSONata", "StartAt": "W", "States": {"W": wait}}
    arn = machines.start(definition, {"at": "2016-13-05T21:29:29Z"})
    cause = query_evaluation_cause(machines.finished(arn))
    assert cause == (
        "An error occurred while executing the state 'W' (entered at the event id #2). The "
        "Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format "
        "string: 2016-13-05T21:29:29Z"
    )
    failed = [e for e in machines.history(arn) if e["type"] == "EvaluationFailed"]
    assert [
        (e["previousEventId"], e["evaluationFailedEventDetails"]["location"]) for e in failed
    ] == [(2, "Timestamp")]


def test_an_iterations_error_is_said_once_naming_its_state(machines: Machines):
    # The Map passes on its iteration's error; the cause names the iteration's state once
    # (AWS's recorded test_map_catch_error[MAP_CATCH_ERROR_OUTPUT_WITH_RETRY]).
    inner = {
        "StartAt": "Inner",
        "States": {"Inner": {"Type": "Pass", "Output": "{% $nope %}", "End": True}},
    }
    states = {"M": {"Type": "Map", "Items": [1], "ItemProcessor": inner, "End": True}}
    described = machines.run({"QueryLanguage": "JSONata", "StartAt": "M", "States": states})
    cause = query_evaluation_cause(described)
    assert cause.startswith("An error occurred while executing the state 'Inner' (entered at ")
    assert cause.count("An error occurred") == 1


@pytest.mark.parametrize(
    ("field", "expression", "shown"),
    [
        ("Error", "5", "'number' for value: 5"),
        ("Error", "null", "'null' for value: null"),
        ("Cause", "{'a': 1}", "'object' for value: {\"a\":1}"),
    ],
)
def test_a_fail_states_error_and_cause_are_strings(
    machines: Machines, field: str, expression: str, shown: str
):
    # https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html: Error "provides an
    # error name", Cause "a custom failure string"; in AWS's recorded words for a result of the
    # wrong type. moto raised a Python AttributeError for a number and wrote an object's
    # Python repr as the cause.
    fail = {"Type": "Fail", "Error": "Broken", field: f"{{% {expression} %}}"}
    described = machines.run({"QueryLanguage": "JSONata", "StartAt": "F", "States": {"F": fail}})
    assert query_evaluation_cause(described).endswith(
        f"The JSONata expression '{expression}' specified for the field '{field}' returned an "
        f"unexpected result type. Expected 'string', but was {shown}"
    )


JSONATA_FUNCTIONS = "https://github.com/jsonata-js/jsonata/blob/v2.0.6/src/functions.js"


def test_a_character_outside_the_bmp_in_an_expression(machines: Machines):
    # TRANSFORMING: AWS runs JSONata 2.0.6 (jsonata-js). A definition sent as json.dumps
    # writes it, an emoji escaped as the pair \ud83d\ude00, holds the emoji (moto read the
    # escapes as Python's, two lone surrogates, and failed the state at run time). In
    # JSONATA_FUNCTIONS, $length and $substring count characters, not UTF-16 units
    # (stringToArray, src/utils.js: `for (let char of str)`): $length('😀') is 1.
    fields = {
        "literal": "{% '😀' %}",
        "length": "{% $length('😀') %}",
        "substring": "{% $substring('a😀b', 1, 1) %}",
        "joined": "{% '😀' & $states.input.s %}",
        "plain": "ü😀",
    }
    states = {
        "A": {"Type": "Pass", "Assign": {"v": "{% '😀' & $states.input.s %}"}, "Next": "O"},
        "O": {"Type": "Pass", "Output": {**fields, "assigned": "{% $v %}"}, "End": True},
    }
    assert output(machines.run(jsonata(states, "A"), {"s": "é"})) == {
        "literal": "😀",
        "length": 1,
        "substring": "😀",
        "joined": "😀é",
        "plain": "ü😀",
        "assigned": "😀é",
    }


ECMASCRIPT_URI = "https://tc39.es/ecma262/#sec-uri-handling-functions"


def test_the_url_functions_are_javascripts(machines: Machines):
    # JSONATA_FUNCTIONS: $encodeUrl is JavaScript's encodeURI, $encodeUrlComponent its
    # encodeURIComponent, $decodeUrl decodeURI, $decodeUrlComponent decodeURIComponent; a
    # URIError is D3140. The character sets are ECMASCRIPT_URI's; the values below are those
    # jsonata-js 2.0.6 gives. jsonatapy left a space unencoded in $encodeUrl, encoded
    # `!'()*` in $encodeUrlComponent, decoded %2F in $decodeUrl and passed a lone % through.
    ascii_marks = " \"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    fields = {
        "url": "{% $encodeUrl('http://x/ä b') %}",
        "marks": "{% $encodeUrl($states.input.marks) %}",
        "component": "{% $encodeUrlComponent($states.input.marks) %}",
        "decoded": "{% $decodeUrl('%3B%2f%41%20%C3%A9%25') %}",
        "component decoded": "{% $decodeUrlComponent('%3B%2f%41%20%C3%A9%25') %}",
        "each": "{% $map(['a b', 'ü'], $encodeUrlComponent) %}",
        "context": "{% $states.input.words.$encodeUrl() %}",
        "nothing": "{% {'v': $encodeUrl($states.input.missing)} %}",
    }
    pass_state = {"Type": "Pass", "Output": fields, "End": True}
    data = {"marks": ascii_marks, "words": ["a b", "c"]}
    assert output(machines.run(jsonata({"P": pass_state}, "P"), data)) == {
        "url": "http://x/%C3%A4%20b",
        "marks": "%20%22#$%25&'()*+,-./:;%3C=%3E?@%5B%5C%5D%5E_%60%7B%7C%7D~",
        "component": "%20%22%23%24%25%26'()*%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60"
        "%7B%7C%7D~",
        "decoded": "%3B%2fA é%",
        "component decoded": ";/A é%",
        "each": ["a%20b", "%C3%BC"],
        "context": ["a%20b", "c"],
        "nothing": {},
    }
    failures = {  # JavaScript's URIError
        "$decodeUrl('%')": '$decodeUrl(): "%"',
        "$decodeUrlComponent('%C3x')": '$decodeUrlComponent(): "%C3x"',
    }
    for expression, passed in failures.items():
        failing = {"Type": "Pass", "Output": f"{{% {expression} %}}", "End": True}
        cause = query_evaluation_cause(machines.run(jsonata({"P": failing}, "P")))
        assert cause.endswith(
            f"threw an error during evaluation. D3140: Malformed URL passed to {passed}"
        )
