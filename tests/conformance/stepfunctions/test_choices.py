"""Choice rules and timestamps as AWS's pages define them (local/patches/choices.py).

CHOICE: https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
WAIT: https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
CONTEXT: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html
ERRORS: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.stepfunctions.conftest import Machines, output, query_evaluation_cause


def chosen(machines: Machines, rule: dict[str, Any], data: Any) -> bool:
    """Whether the rule matches the input, as the Choice state that holds it decides."""
    states = {
        "C": {
            "Type": "Choice",
            "Choices": [{**rule, "Next": "Yes"}],
            "Default": "No",
        },
        "Yes": {"Type": "Pass", "Result": True, "End": True},
        "No": {"Type": "Pass", "Result": False, "End": True},
    }
    return bool(output(machines.run({"StartAt": "C", "States": states}, data)))


@pytest.mark.parametrize(
    ("value", "is_timestamp"),
    [
        ("2016-03-14T01:59:00Z", True),
        ("2016-03-14T01:59:00.123Z", True),  # as the context object's times are written
        ("2016-03-14T02:59:00+01:00", True),
        ("2016-03-14T01:59:00-07:30", True),
        ("2016-03-14t01:59:00Z", False),  # "an uppercase T must separate"
        ("2016-03-14T01:59:00z", False),
        ("2016-03-14T01:59:00", False),  # neither Z nor an offset
        ("2016-02-30T01:59:00Z", False),
    ],
)
def test_a_timestamp_is_rfc_3339_with_an_uppercase_t_and_z(
    machines: Machines, value: str, is_timestamp: bool
):
    # CHOICE: timestamps "must conform to RFC3339 profile ISO 8601, with further restrictions:
    # An uppercase T must separate the date and time portions. An uppercase Z must denote that
    # a numeric time zone offset isn't present". moto took only %Y-%m-%dT%H:%M:%SZ.
    rule = {"Variable": "$.t", "IsTimestamp": True}
    assert chosen(machines, rule, {"t": value}) is is_timestamp


def test_timestamps_compare_as_instants_whatever_their_offset(machines: Machines):
    same = {"Variable": "$.t", "TimestampEquals": "2016-03-14T01:59:00Z"}
    assert chosen(machines, same, {"t": "2016-03-14T02:59:00+01:00"})
    earlier = {"Variable": "$.t", "TimestampLessThan": "2016-03-14T01:59:00.500Z"}
    assert chosen(machines, earlier, {"t": "2016-03-14T01:59:00.499Z"})


def test_a_comparison_reads_a_path_to_the_context_object(machines: Machines):
    # CONTEXT lists "Variable to variable comparison operators" among the places a path may
    # read the context object; moto failed such a path with a JSONPath parse error. The
    # state's EnteredTime has milliseconds: a timestamp all the same.
    past = {"Variable": "$.t", "TimestampLessThanPath": "$$.State.EnteredTime"}
    assert chosen(machines, past, {"t": "2016-03-14T01:59:00Z"})
    assert not chosen(machines, past, {"t": "2999-01-01T00:00:00+02:00"})
    given = {"Variable": "$.name", "StringEqualsPath": "$$.Execution.Input.name"}
    assert chosen(machines, given, {"name": "Ada"})
    named = {"Variable": "$.name", "StringEqualsPath": "$$.StateMachine.Name"}
    assert not chosen(machines, named, {"name": "someone else"})
    entered = {"Variable": "$$.State.EnteredTime", "IsTimestamp": True}
    assert chosen(machines, entered, {})


@pytest.mark.parametrize(
    ("template", "value", "matches"),
    [
        ("log-*.txt", "log-2024-01.txt", True),
        ("*", "", True),
        ("log-\\*.txt", "log-*.txt", True),  # an escaped * is itself
        ("log-\\*.txt", "log-1.txt", False),
        ("a\\\\b*", "a\\bc", True),  # an escaped backslash is itself
        ("a?c", "abc", False),  # "No characters other than * have any special meaning"
        ("a[b]c", "abc", False),
        ("a[b]c", "a[b]c", True),
        ("line*", "line one\nline two", True),
    ],
)
def test_string_matches_has_one_wildcard(
    machines: Machines, template: str, value: str, matches: bool
):
    # CHOICE: "The wildcard character is escaped by using the standard \\ ... No characters
    # other than "*" have any special meaning during matching." moto matched a shell glob.
    rule = {"Variable": "$.v", "StringMatches": template}
    assert chosen(machines, rule, {"v": value}) is matches


def test_a_wait_until_a_timestamp_with_an_offset(machines: Machines):
    # WAIT: the same RFC 3339 timestamps; moto refused an offset with States.Runtime.
    waits = {"W": {"Type": "Wait", "TimestampPath": "$.until", "End": True}}
    described = machines.run(
        {"StartAt": "W", "States": waits}, {"until": "2016-03-14T02:59:00+01:00"}
    )
    assert described["status"] == "SUCCEEDED"


@pytest.mark.parametrize("language", ["JSONPath", "JSONata"])
def test_no_rule_matched_and_no_default_is_no_choice_matched(machines: Machines, language: str):
    # ERRORS: "States.NoChoiceMatched" is the error of a Choice state that matches none of its
    # rules and has no Default. moto failed with States.Runtime, its cause a Python tuple.
    rule = (
        {"Condition": "{% $states.input.n = 1 %}"}
        if language == "JSONata"
        else {"Variable": "$.n", "NumericEquals": 1}
    )
    choose = {"Type": "Choice", "Choices": [{**rule, "Next": "Done"}]}
    branch = {"StartAt": "C", "States": {"C": choose, "Done": {"Type": "Succeed"}}}
    parallel = {"Type": "Parallel", "Branches": [branch]}
    states = {"P": {**parallel, "End": True}}
    failed = machines.run({"QueryLanguage": language, "StartAt": "P", "States": states}, {"n": 2})
    assert (failed["status"], failed["error"]) == ("FAILED", "States.NoChoiceMatched")
    assert (
        failed["cause"] == "The Choice state 'C' matched none of its rules, and it has no Default."
    )
    catcher = {"ErrorEquals": ["States.NoChoiceMatched"], "Next": "Caught"}
    caught = {"P": {**parallel, "Catch": [catcher], "End": True}, "Caught": {"Type": "Succeed"}}
    described = machines.run(
        {"QueryLanguage": language, "StartAt": "P", "States": caught}, {"n": 2}
    )
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in machines.history(described["executionArn"])
        if "stateEnteredEventDetails" in e
    ]
    assert (described["status"], entered[-1]) == ("SUCCEEDED", "Caught")


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("$states.input.n", "'number' for value: 10"),
        ("$states.input.s", "'string' for value: \"yes\""),
        ("$states.input.o", "'object' for value: {\"a\":1}"),
        ("null", "'null' for value: null"),
    ],
)
def test_a_condition_that_is_no_boolean_is_an_evaluation_error(
    machines: Machines, expression: str, shown: str
):
    # CHOICE: a Condition is "a JSONata expression that evaluates to true/false". The words
    # are AWS's recorded ones for an Items that is no array (docs/jsonata.md), with
    # 'boolean' expected; moto raised a RuntimeError naming a Python class.
    rule = {"Condition": f"{{% {expression} %}}", "Next": "Done"}
    states = {"C": {"Type": "Choice", "Choices": [rule]}, "Done": {"Type": "Succeed"}}
    definition = {"QueryLanguage": "JSONata", "StartAt": "C", "States": states}
    described = machines.run(definition, {"n": 10, "s": "yes", "o": {"a": 1}})
    words = (
        f"The JSONata expression '{expression}' specified for the field 'Choices[0]/Condition' "
        f"returned an unexpected result type. Expected 'boolean', but was {shown}"
    )
    assert query_evaluation_cause(described).endswith(f"(entered at the event id #2). {words}")
    (failed,) = [
        e for e in machines.history(described["executionArn"]) if e["type"] == "EvaluationFailed"
    ]
    details = failed["evaluationFailedEventDetails"]
    assert (details["location"], details["cause"]) == ("Choices[0]/Condition", described["cause"])


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("StringLessThan", "\uff5e", True),
        ("StringLessThanEquals", "\uff5e", True),
        ("StringGreaterThan", "\uff5e", False),
        ("StringGreaterThanEquals", "\uff5e", False),
        ("StringGreaterThan", "\ud7ff", True),  # below the surrogates: both orders agree
    ],
)
def test_strings_compare_by_their_utf_16_code_units(
    machines: Machines, operator: str, value: str, expected: bool
):
    # CHOICE documents no order for its string comparisons; AWS's interpreter runs on Java
    # (its recorded causes are Jayway JsonPath's, its Lambda answers the AWS SDK for Java's),
    # whose String.compareTo compares UTF-16 code units: U+1F600 is D83D DE00, before U+FF5E.
    # moto compared code points, U+1F600 after U+FF5E.
    data = {"s": "\U0001f600", "other": value}
    assert chosen(machines, {"Variable": "$.s", operator: value}, data) is expected
    path = {"Variable": "$.s", f"{operator}Path": "$.other"}
    assert chosen(machines, path, data) is expected


def choice_exit(machines: Machines, definition: dict[str, Any], data: Any) -> dict[str, Any]:
    """The ChoiceStateExited event's details of the execution of this definition."""
    arn = machines.start(definition, data)
    machines.finished(arn)
    return next(
        e["stateExitedEventDetails"]
        for e in machines.history(arn)
        if e["type"] == "ChoiceStateExited"
    )


@pytest.mark.parametrize("default", ["ConditionTrue", "DefaultState"])
@pytest.mark.parametrize("condition", [True, False])
def test_the_matching_rules_assign_and_output_win_even_when_its_next_is_the_default(
    machines: Machines, default: str, condition: bool
):
    # AWS's recorded executions (LocalStack's snapshots of assign/ and outputdecl/
    # choice_condition_jsonata.json5: test_assign_in_choice[CONDITION_TRUE] and
    # [CONDITION_FALSE], December 2024; test_output_in_choice, February 2026): the rule that
    # matched assigns and outputs its own; the state's Assign and Output are the Default's.
    # moto took the state's whenever the next state was the Default's, so a rule whose Next
    # is also the Default lost its own.
    rule = {
        "Condition": "{% $states.input.condition %}",
        "Next": "ConditionTrue",
        "Assign": {"Assignment": "Condition assignment"},
        "Output": "Condition Output block",
    }
    choice = {
        "Type": "Choice",
        "Choices": [rule],
        "Default": default,
        "Assign": {"Assignment": "Default Assignment"},
        "Output": "Default Output block",
    }
    states = {
        "ChoiceState": choice,
        "ConditionTrue": {"Type": "Pass", "End": True},
        "DefaultState": {"Type": "Pass", "End": True},
    }
    definition = {"QueryLanguage": "JSONata", "StartAt": "ChoiceState", "States": states}
    if default == "ConditionTrue":
        del states["DefaultState"]
    exited = choice_exit(machines, definition, {"condition": condition})
    assigned, written = (
        ("Condition assignment", "Condition Output block")
        if condition
        else ("Default Assignment", "Default Output block")
    )
    assert exited["assignedVariables"] == {"Assignment": f'"{assigned}"'}
    assert exited["output"] == f'"{written}"'


@pytest.mark.parametrize(("value", "status"), [(42, "CORRECT"), ("42", "INCORRECT")])
def test_a_jsonpath_rule_assigns_when_it_matches(machines: Machines, value: Any, status: str):
    # AWS's recorded executions (LocalStack's snapshot of assign/base_assign_in_choice.json5,
    # test_assign_in_choice_state, November 2024) run JSONPath rules with an Assign; the
    # variables page: "Assign ... in Choice Rules". moto's parser dropped a JSONPath rule's
    # Assign, and took the state's when the rule's Next was the Default.
    rules = [
        {"Variable": "$.input_value", "IsPresent": False, "Assign": {"status": "UNKNOWN"}},
        {"Variable": "$.input_value", "NumericEquals": 42, "Assign": {"status": "CORRECT"}},
    ]
    choice = {
        "Type": "Choice",
        "Choices": [{**rule, "Next": "FinalState"} for rule in rules],
        "Assign": {"status": "INCORRECT", "guess.$": "$.input_value"},
        "Default": "FinalState",
    }
    final = {"Type": "Pass", "Parameters": {"result.$": "$status"}, "End": True}
    definition = {"StartAt": "C", "States": {"C": choice, "FinalState": final}}
    exited = choice_exit(machines, definition, {"input_value": value})
    expected = {"status": f'"{status}"'}
    if status == "INCORRECT":  # no rule matched: the state's Assign, as AWS recorded it
        expected["guess"] = '"42"'
    assert exited["assignedVariables"] == expected
