"""Workflow variables (`Assign`) in both query languages, as the developer guide's page on
variables documents them, and their record in the execution history."""

from __future__ import annotations

import json

import pytest

from tests.conformance.stepfunctions.conftest import Machines, output, query_evaluation_cause

VARIABLES = "https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html"
EXITED = "https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateExitedEventDetails.html"


def test_later_states_read_what_earlier_ones_assigned(machines: Machines):
    # VARIABLES: "Using workflow variables, you can store data in a step and retrieve that
    # data in future steps" -- the guide's Assign example, read three states later.
    states = {
        "Store": {
            "Type": "Pass",
            "Assign": {"productName": "product1", "count": 42, "available": True},
            "Next": "A",
        },
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Next": "Use"},
        "Use": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": "{% $productName & ' x' & $count & ($available ? ' available' : '') %}",
            "End": True,
        },
    }
    assert output(machines.run({"StartAt": "Store", "States": states})) == "product1 x42 available"


def test_assign_in_a_jsonpath_state_reads_paths_and_the_context(machines: Machines):
    # VARIABLES: in JSONPath states, Assign values ending in `.$` are paths (of the state's
    # result, or `$$`), and `$name` reads a variable in a later JSONPath field.
    states = {
        "Store": {
            "Type": "Pass",
            "Assign": {"title.$": "$.title", "execution.$": "$$.Execution.Name", "fixed": "x"},
            "Next": "Use",
        },
        "Use": {
            "Type": "Pass",
            "Parameters": {"title.$": "$title", "execution.$": "$execution", "fixed.$": "$fixed"},
            "End": True,
        },
    }
    machine = machines.create({"StartAt": "Store", "States": states})
    arn = machines.sfn.start_execution(
        stateMachineArn=machine, name="run-7", input='{"title": "Dr"}'
    )["executionArn"]
    assert output(machines.finished(arn)) == {"title": "Dr", "execution": "run-7", "fixed": "x"}


def test_one_states_assignments_read_the_values_from_before_the_state(machines: Machines):
    # VARIABLES: the expressions of one Assign are evaluated together, against the values
    # variables had when the state was entered.
    states = {
        "Start": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Swap"},
        "Swap": {
            "Type": "Pass",
            "Assign": {"x": "{% $x + 1 %}", "previous": "{% $x %}"},
            "Next": "After",
        },
        "After": {
            "Type": "Pass",
            "Output": {"x": "{% $x %}", "previous": "{% $previous %}"},
            "End": True,
        },
    }
    definition = {"QueryLanguage": "JSONata", "StartAt": "Start", "States": states}
    assert output(machines.run(definition)) == {"x": 2, "previous": 1}


def test_map_iterations_see_outer_variables_and_keep_their_own(machines: Machines):
    # VARIABLES, variable scope: states inside a Map's ItemProcessor read the variables of
    # the outer scope; what they assign stays in their iteration (after the Map, it is not
    # there: reading it returns nothing).
    states = {
        "Outer": {"Type": "Pass", "Assign": {"factor": 10}, "Next": "Each"},
        "Each": {
            "Type": "Map",
            "Items": [1, 2, 3],
            "ItemProcessor": {
                "StartAt": "Inner",
                "States": {
                    "Inner": {
                        "Type": "Pass",
                        "Assign": {"inner": "{% $states.input %}"},
                        "Output": "{% $states.input * $factor %}",
                        "End": True,
                    }
                },
            },
            "Next": "After",
        },
        "After": {
            "Type": "Pass",
            "Output": {"results": "{% $states.input %}", "inner": "{% $inner %}"},
            "End": True,
        },
    }
    described = machines.run({"QueryLanguage": "JSONata", "StartAt": "Outer", "States": states})
    assert (
        "The JSONata expression '$inner' specified for the field 'Output/inner' returned nothing"
        in query_evaluation_cause(described)
    )
    history = machines.history(described["executionArn"])
    (each,) = [e for e in history if e["type"] == "MapStateExited"]
    assert json.loads(each["stateExitedEventDetails"]["output"]) == [10, 20, 30]


def test_state_exit_events_record_the_assigned_variables(machines: Machines):
    # EXITED: assignedVariables is a "map of variable name and value as a serialized JSON
    # representation", with assignedVariablesDetails.
    states = {
        "Store": {
            "Type": "Pass",
            "Assign": {"text": 'say "hi"\n', "number": 1.5, "object": {"a": [1, None]}},
            "End": True,
        }
    }
    machine = machines.create({"StartAt": "Store", "States": states})
    arn = machines.sfn.start_execution(stateMachineArn=machine)["executionArn"]
    machines.finished(arn)
    (exited,) = [e for e in machines.history(arn) if e["type"] == "PassStateExited"]
    details = exited["stateExitedEventDetails"]
    assert details["assignedVariables"] == {
        "text": json.dumps('say "hi"\n'),
        "number": "1.5",
        "object": '{"a":[1,null]}',
    }
    assert details["assignedVariablesDetails"] == {"truncated": False}


def test_a_variable_over_256_kib_fails_the_state(machines: Machines):
    # VARIABLES, size limits: a variable's value takes at most 256 KiB, and so does one
    # state's Assign in all (the error name is the engine's: see docs/jsonata.md).
    big = "x" * (200 * 1024)
    one = {
        "Type": "Pass",
        "Assign": {"big": "{% $states.input.big & $states.input.big %}"},
        "End": True,
    }
    two = {
        "Type": "Pass",
        "Assign": {"a": "{% $states.input.big %}", "b": "{% $states.input.big %}"},
        "End": True,
    }
    fits = {"Type": "Pass", "Assign": {"a": "{% $states.input.big %}"}, "End": True}
    for state, status in ((one, "FAILED"), (two, "FAILED"), (fits, "SUCCEEDED")):
        definition = {"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": state}}
        described = machines.run(definition, {"big": big})
        assert described["status"] == status
        if status == "FAILED":
            assert described["error"] == "States.DataLimitExceeded"


@pytest.mark.parametrize(
    ("language", "read"),
    [("JSONPath", {"OutputPath": "$answer"}), ("JSONata", {"Output": "{% $answer %}"})],
)
def test_a_states_output_reads_the_variables_from_before_its_own_assign(
    machines: Machines, language, read
):
    # AWS's recorded execution of the JSONPath case (LocalStack's
    # test_state_assign_evaluation_order, November 2024) answers 42: the state's OutputPath
    # reads the value from before its own Assign, and the next state the new one. JSONata's
    # Output is taken to read the same way (VARIABLES: one state's assignments are evaluated
    # together, from the values the state was entered with); no recording shows it.
    states = {
        "Store": {"Type": "Pass", "Assign": {"answer": 42}, "Next": "Read"},
        "Read": {"Type": "Pass", "Assign": {"answer": "<omitted>"}, **read, "Next": "After"},
        "After": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": "{% $answer %}",
            "End": True,
        },
    }
    arn = machines.start({"QueryLanguage": language, "StartAt": "Store", "States": states})
    assert output(machines.finished(arn)) == "<omitted>"  # the next state reads the new one
    exited = [e for e in machines.history(arn) if e["type"] == "PassStateExited"]
    assert json.loads(exited[1]["stateExitedEventDetails"]["output"]) == 42
    assert exited[1]["stateExitedEventDetails"]["assignedVariables"] == {"answer": '"<omitted>"'}


def _nested(kind: str, language: str, inner: dict, mode: str = "INLINE") -> dict:
    """A machine assigning x = 1, then a Parallel or a Map of one item, 5, whose one state
    is `inner`, with a catcher of States.ALL; then a state giving the result and x."""
    processor = {"StartAt": "Inner", "States": {"Inner": inner}}
    if kind == "Parallel":
        nested: dict = {"Type": "Parallel", "Branches": [processor]}
    else:
        processor["ProcessorConfig"] = {"Mode": mode, "ExecutionType": "STANDARD"}
        items = {"Items": [5]} if language == "JSONata" else {"ItemsPath": "$.items"}
        nested = {"Type": "Map", "ItemProcessor": processor, **items}
    nested.update(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "After"}], Next="After")
    after = {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Output": {"result": "{% $states.input %}", "x": "{% $x %}"},
        "End": True,
    }
    states = {
        "Outer": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Nested"},
        "Nested": nested,
        "After": after,
    }
    return {"QueryLanguage": language, "StartAt": "Outer", "States": states}


@pytest.mark.parametrize("language", ["JSONata", "JSONPath"])
@pytest.mark.parametrize(("kind", "entered"), [("Parallel", 6), ("Map", 7)])
def test_a_branch_or_iteration_assigning_an_outer_variable_fails_the_execution(
    machines: Machines, kind, entered, language
):
    # VARIABLES, variable scope: the states of a Parallel branch or a Map iteration read the
    # outer scope's variables but cannot assign them (they hand data back through their
    # output). No page or recording gives AWS's words: the engine fails the assigning state
    # with States.Runtime, which no catcher takes (docs/jsonata.md).
    inner = {"Type": "Pass", "Assign": {"x": 2}, "End": True}
    described = machines.run(_nested(kind, language, inner), {"items": [5]})
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == (
        f"An error occurred while executing the state 'Inner' (entered at the event id "
        f"#{entered}). The variable 'x' belongs to an outer scope: a state of a Parallel "
        "branch or a Map iteration cannot assign it."
    )


@pytest.mark.parametrize(
    ("language", "assign", "give"),
    [
        ("JSONata", {"x": "{% $states.input * 2 %}"}, {"Output": "{% $x %}"}),
        ("JSONPath", {"x.$": "States.MathAdd($, $)"}, {"Parameters": {"x.$": "$x"}}),
    ],
)
def test_a_distributed_maps_children_have_variables_of_their_own(
    machines: Machines, language, assign, give
):
    # VARIABLES, variable scope: a distributed Map's child executions cannot reference the
    # variables of outer scopes: a child may assign the same name as its own, hands back
    # its output only (the parent's x is still 1), and finds nothing reading the parent's.
    inner = {"Type": "Pass", "Assign": assign, "Next": "Give"}
    definition = _nested("Map", language, inner, mode="DISTRIBUTED")
    definition["States"]["Nested"]["ItemProcessor"]["States"]["Give"] = {
        "Type": "Pass",
        **give,
        "End": True,
    }
    got = output(machines.run(definition, {"items": [5]}))
    assert got == {"result": [10 if language == "JSONata" else {"x": 10}], "x": 1}
    reading = _nested("Map", language, {"Type": "Pass", **give, "End": True}, "DISTRIBUTED")
    got = output(machines.run(reading, {"items": [5]}))  # the child failed; the Map's Catch
    assert got["result"]["Error"] == "States.ExceedToleratedFailureThreshold"
