"""JSONPath state machines as AWS runs them: where recorded real-AWS executions (docs/jsonata.md,
"Fidelity, measured") or AWS's pages showed the engine answering otherwise."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.stepfunctions.conftest import Machines, output

PASS = {"Type": "Pass", "End": True}


def test_a_distributed_maps_exit_follows_the_map_runs_end(machines: Machines):
    # No page documents previousEventId; AWS's recorded executions do, and disagree by date
    # (docs/jsonata.md): from September 2023 to August 2024 (36 exits) a distributed Map's
    # MapStateExited follows its MapRunSucceeded, the event before it, as any state's exit
    # follows its state's last event; the 16 since November 2024 follow MapRunStarted. The
    # engine follows the larger number. The next event follows the MapStateExited.
    states = {
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Inner",
                "States": {"Inner": PASS},
            },
            "Next": "After",
        },
        "After": PASS,
    }
    described = machines.run({"StartAt": "Each", "States": states}, [1, 2])
    assert output(described) == [1, 2]
    history = machines.history(described["executionArn"])
    assert [(e["id"], e["previousEventId"], e["type"]) for e in history] == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "MapStateEntered"),
        (3, 2, "MapStateStarted"),
        (4, 3, "MapRunStarted"),
        (5, 4, "MapRunSucceeded"),
        (6, 5, "MapStateSucceeded"),
        (7, 5, "MapStateExited"),
        (8, 7, "PassStateEntered"),
        (9, 8, "PassStateExited"),
        (10, 9, "ExecutionSucceeded"),
    ]


def test_a_quoted_name_keeps_a_backslash_that_escapes_nothing(machines: Machines):
    # AWS's recorded execution (docs/jsonata.md): `$['Test\""Name"']` finds the key
    # `Test\""Name"`; a backslash is an escape only before the name's own quote.
    name = 'Test\\""Name"'
    states = {"P": {"Type": "Pass", "Parameters": {"value.$": f"$['{name}']"}, "End": True}}
    described = machines.run({"StartAt": "P", "States": states}, {name: 'Value"\\'})
    assert output(described) == {"value": 'Value"\\'}


def test_a_backslash_before_the_names_own_quote_escapes_it(machines: Machines):
    states = {"P": {"Type": "Pass", "Parameters": {"value.$": "$['it\\'s']"}, "End": True}}
    described = machines.run({"StartAt": "P", "States": states}, {"it's": 1})
    assert output(described) == {"value": 1}


@pytest.mark.parametrize(
    ("field", "data", "words"),
    [
        # AWS's recorded words (LocalStack's catch_states_runtime and *_path snapshots):
        ("OutputPath", {}, "Missing property in path $['a']"),
        ("OutputPath", {"a": {}}, "No results for path: $['a']['b']"),
        ("InputPath", {"a": {"c": 1}}, "No results for path: $['a']['b']"),
    ],
)
def test_a_path_that_finds_nothing_says_which_name_is_missing(
    machines: Machines, field, data, words
):
    states = {"P": {"Type": "Pass", field: "$.a.b", "End": True}}
    described = machines.run({"StartAt": "P", "States": states}, data)
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == (
        "An error occurred while executing the state 'P' (entered at the event id #2). "
        f"Invalid path '$.a.b' : {words}"
    )


def test_a_wait_over_2_to_the_31_seconds_is_too_long(machines: Machines):
    # AWS's recorded executions (LocalStack's test_timestamp_too_far_in_future_boundary): a
    # wait of 24855 days is taken, one of 24856 fails.
    states = {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}
    longest = machines.start({"StartAt": "W", "States": states}, {"s": 2**31 - 1})
    machines.until_waiting()
    machines.clock.advance(2**31)  # the emulator's clock: nobody waits 68 years
    assert machines.finished(longest)["status"] == "SUCCEEDED"
    described = machines.run({"StartAt": "W", "States": states}, {"s": 2**31})
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "States.Runtime",
        "An error occurred while executing the state 'W' (entered at the event id #2). "
        "Wait state delay is too long.",
    )


def test_a_states_entered_time_is_in_awss_form(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html:
    # "EnteredTime": "2019-03-26T20:14:13.192Z", as Execution.StartTime.
    fields = {"entered.$": "$$.State.EnteredTime", "started.$": "$$.Execution.StartTime"}
    states = {"P": {"Type": "Pass", "Parameters": fields, "End": True}}
    times = output(machines.run({"StartAt": "P", "States": states}))
    for time in times.values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", time), times


def test_a_reference_path_with_an_index_reads_the_one_node_it_names(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html:
    # "A reference path is a path whose syntax is limited in such a way that it can identify
    # only a single node". moto answered ["q"] for $.l[0].s.
    data = {"l": [{"s": "q", "n": 5}, {"s": "r", "n": 6}], "p": [{"Name": "x", "Value": "v"}]}
    parameters = {
        "name.$": "$.l[0].s",
        "nested.$": "$.l[1]",
        "formatted.$": "States.Format('{}-{}', $.l[0].s, $.l[1].n)",
        "every.$": "$.l[*].s",  # a wildcard, a filter: still every match, in an array
        "filtered.$": "$.p[?(@.Name == 'x')].Value",
    }
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.l[0].n", "NumericEquals": 5, "Next": "Shape"}],
        "Default": "Wrong",
    }
    shape = {"Type": "Pass", "Parameters": parameters, "End": True}
    definition = {
        "StartAt": "Choose",
        "States": {"Choose": choice, "Shape": shape, "Wrong": {"Type": "Fail"}},
    }
    assert output(machines.run(definition, data)) == {
        "name": "q",
        "nested": {"s": "r", "n": 6},
        "formatted": "q-6",
        "every": ["q", "r"],
        "filtered": ["v"],
    }
    narrowed = {"StartAt": "P", "States": {"P": {**PASS, "InputPath": "$.l[1].s"}}}
    assert output(machines.run(narrowed, data)) == "r"


def test_a_result_path_that_cannot_be_applied_is_a_result_path_match_failure(
    machines: Machines,
):
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html:
    # "States.ResultPathMatchFailure: A state's ResultPath field cannot be applied to the input
    # the state received." moto failed with States.Runtime and a Python TypeError. Catchable.
    into_string = {**PASS, "Result": 1, "ResultPath": "$.s.x"}
    described = machines.run({"StartAt": "P", "States": {"P": into_string}}, {"s": "text"})
    assert (described["status"], described["error"]) == ("FAILED", "States.ResultPathMatchFailure")
    assert described["cause"] == (
        'Unable to apply ResultPath \'$.s.x\' to the state\'s input: {"s":"text"}'
    )
    branch = {"StartAt": "P", "States": {"P": into_string}}
    catcher = {
        "ErrorEquals": ["States.ResultPathMatchFailure"],
        "ResultPath": "$.error",
        "Next": "Caught",
    }
    parallel = {"Type": "Parallel", "Branches": [branch], "Catch": [catcher], "End": True}
    states = {"Par": parallel, "Caught": {"Type": "Pass", "End": True}}
    caught = output(machines.run({"StartAt": "Par", "States": states}, {"s": "text"}))
    assert caught["error"]["Error"] == "States.ResultPathMatchFailure"


INTRINSICS = "https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html"


@pytest.mark.parametrize(
    ("function", "value"),
    [
        (r"States.Format('it\'s {}', $.name)", "it's Ada"),
        (r"States.Format('\{\} is not {}', $.name)", "{} is not Ada"),
        (r"States.Format('back\\slash {}', $.name)", "back\\slash Ada"),
        ("States.Format('{} of {}', 1.5, 2)", "1.5 of 2"),
        (r"States.StringSplit('a\{b', '\{')", ["a", "b"]),
        ("States.StringSplit('a\nb', '\n')", ["a", "b"]),  # a line break, as JSON sends it
        (r"States.Array('\{x\}')", ["{x}"]),  # an escaped brace outside States.Format
    ],
)
def test_an_intrinsic_string_reads_its_escapes(machines: Machines, function: str, value: Any):
    # INTRINSICS: "\'" a quote, "\{" and "\}" braces that are no placeholder, "\\" a
    # backslash. moto parsed the field's JSON text as it was, each escape doubled ('it\'s'
    # ended at \'), kept the backslashes it did read, and refused a number with a fraction.
    state = {**PASS, "Parameters": {"v.$": function}}
    assert output(machines.run({"StartAt": "P", "States": {"P": state}}, {"name": "Ada"})) == {
        "v": value
    }


def test_an_intrinsic_string_that_escapes_anything_else_is_refused(machines: Machines):
    # AWS's recorded refusal (LocalStack's test_illegal_escapes, docs/jsonata.md) of \" inside
    # an intrinsic's string: no reserved character follows the backslash.
    function = "States.Format('He said, \\\"Hello, {}!\\\"', $.name)"
    state = {**PASS, "Parameters": {"parsed.$": function}}
    with pytest.raises(ClientError) as refused:
        machines.create({"StartAt": "IntrinsicEscape", "States": {"IntrinsicEscape": state}})
    assert refused.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field "
        "'parsed.$' must be a valid JSONPath or a valid intrinsic function call at "
        "/States/IntrinsicEscape/Parameters'"
    )


@pytest.mark.parametrize("named", ["States.ALL", "States.Runtime"])
def test_no_retrier_or_catcher_takes_a_runtime_error(machines: Machines, named: str):
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html:
    # "A States.Runtime error isn't retriable, and will always cause the execution to fail. A
    # retry or catch on States.ALL won't catch States.Runtime errors." AWS's recorded
    # execution of a Catch naming States.Runtime fails too (LocalStack's
    # test_catch_states_runtime). moto retried and caught it.
    missing = {**PASS, "Parameters": {"v.$": "$.nowhere"}}
    parallel = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "Read", "States": {"Read": missing}}],
        "Retry": [{"ErrorEquals": [named], "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": [named], "Next": "Caught"}],
        "End": True,
    }
    states = {"Par": parallel, "Caught": PASS}
    described = machines.run({"StartAt": "Par", "States": states}, {})
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    kinds = [e["type"] for e in machines.history(described["executionArn"])]
    assert kinds.count("ParallelStateStarted") == 1  # not retried
    assert "PassStateEntered" not in kinds[kinds.index("ParallelStateFailed") :]


@pytest.mark.parametrize(
    ("function", "words"),
    [
        ("States.ArrayGetItem($.l, 5)", "list index out of range"),
        ("States.StringToJson('{bad')", "Expecting property name enclosed in double quotes"),
    ],
)
def test_an_intrinsic_function_that_fails_is_an_intrinsic_failure(
    machines: Machines, function: str, words: str
):
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html:
    # "States.IntrinsicFailure: This error occurs when the attempt to invoke an intrinsic
    # function within a payload template fails." moto: States.Runtime, which no catcher
    # takes, its cause a Python exception's repr. The cause's words are ours.
    state = {**PASS, "Parameters": {"v.$": function}}
    described = machines.run({"StartAt": "P", "States": {"P": state}}, {"l": [1]})
    assert (described["status"], described["error"]) == ("FAILED", "States.IntrinsicFailure")
    assert described["cause"].startswith(f"The intrinsic function {function} failed: {words}")
    branch = {"StartAt": "P", "States": {"P": state}}
    catcher = {"ErrorEquals": ["States.IntrinsicFailure"], "Next": "Caught"}
    parallel = {"Type": "Parallel", "Branches": [branch], "Catch": [catcher], "End": True}
    states = {"Par": parallel, "Caught": PASS}
    assert machines.run({"StartAt": "Par", "States": states}, {"l": [1]})["status"] == "SUCCEEDED"


def test_a_filters_at_matches_objects_only(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
    # (its Reference Paths, in an earlier version of the page): "The @ operator, matching
    # the current node being processed in a filter, does not match scalar values. It only
    # matches objects", with $.jar[?(@.a >= 5)] => [{"a": 5}, {"a": 7}]; a filter on an object tests
    # that object, as Jayway (AWS's JSONPath library) does. jsonpath-ng matched an array's
    # scalars, and an object's member values.
    data = {
        "jar": [{"a": 1}, {"a": 5}, {"a": 2}, {"a": 7}, 9, {"b": 8}],
        "values": [1, 2, 3, 4],
        "counts": {"a": 1, "b": 5},
        "box": {"x": 1, "inner": {"x": 2}},
    }
    parameters = {
        "jar.$": "$.jar[?(@.a >= 5)]",
        "values.$": "$.values[?(@ > 2)]",
        "counts.$": "$.counts[?(@ > 2)]",
        "box.$": "$.box[?(@.x)]",
        "xs.$": "$.box[?(@.x)].x",
    }
    state = {**PASS, "Parameters": parameters}
    assert output(machines.run({"StartAt": "P", "States": {"P": state}}, data)) == {
        "jar": [{"a": 5}, {"a": 7}],
        "values": [],
        "counts": [],
        "box": [{"x": 1, "inner": {"x": 2}}],
        "xs": [1],
    }


def test_a_filter_that_matches_nothing_finds_an_empty_array(machines: Machines):
    # A filter, like a wildcard or a slice, can find several nodes: what it finds is an array,
    # [] when nothing matches, as AWS's recorded executions give for $.items[*] and
    # $.items[1:] on {} (LocalStack snapshot test_json_path_array_wildcard_or_slice_with_no_
    # input, 2025-04-01). moto failed the state with States.Runtime.
    parameters = {"cheap.$": "$.items[?(@.price > 100)]", "none.$": "$.missing[?(@.price)]"}
    state = {**PASS, "Parameters": parameters}
    data = {"items": [{"price": 5}, {"price": 20}]}
    described = machines.run({"StartAt": "P", "States": {"P": state}}, data)
    assert output(described) == {"cheap": [], "none": []}


def test_an_input_over_the_quota_after_parameters_is_a_data_limit_error(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html:
    # States.DataLimitExceeded "When, after Parameters processing, the input of a state is
    # larger than the payload size quota" (256 KiB, service-quotas.html). moto checked the
    # state's output only: this Pass, narrowed by its OutputPath, succeeded, and the Task
    # called its service. No recording shows the case: the cause and the events are those AWS
    # recorded for a Pass state's output over the quota (LocalStack snapshot
    # test_start_large_input, 2024-03-21: PassStateEntered, then ExecutionFailed).
    data = {"text": "a" * (150 * 1024)}
    doubled = {"a.$": "$.text", "b.$": "$.text"}
    narrowed = {**PASS, "Parameters": doubled, "OutputPath": "$.a"}
    described = machines.run({"StartAt": "P", "States": {"P": narrowed}}, data)
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert described["cause"] == (
        "The state/task 'P' returned a result with a size exceeding the maximum number of "
        "bytes service limit."
    )
    kinds = [e["type"] for e in machines.history(described["executionArn"])]
    assert kinds == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:sfn:listStateMachines",
        "Parameters": doubled,
        "Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Caught"}],
        "End": True,
    }
    described = machines.run({"StartAt": "T", "States": {"T": task, "Caught": PASS}}, data)
    assert output(described)["Error"] == "States.DataLimitExceeded"
    kinds = [e["type"] for e in machines.history(described["executionArn"])]
    assert kinds[1:3] == ["TaskStateEntered", "TaskStateExited"]  # the service not called
