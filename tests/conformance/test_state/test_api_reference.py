"""The TestState API reference, statement by statement, on the local engine:
https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html (the
request or response member each test follows is named in it), and the Retry fields of
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html that make
`retryBackoffIntervalSeconds`.
"""

from __future__ import annotations

import json
import re

import boto3
import pytest
from botocore.config import Config

from tests.conformance.test_state.calls import (
    answer,
    definition,
    refusal,
    task,
)

LAMBDA = "arn:aws:states:::lambda:invoke"
ERROR = {"errorOutput": {"error": "Throttled", "cause": "slow down"}}


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Pass", "End": True},
        {"Type": "Succeed"},
        {"Type": "Pass", "Result": {"r": 1}, "ResultPath": "$.r", "End": True},
    ],
)
def test_next_state_is_absent_when_the_state_ends(sfn, state):
    """nextState: 'If you haven't defined a next state in your definition ... this field
    doesn't contain a value.'"""
    result = answer(sfn, definition=json.dumps(state), input='{"a": 1}')
    assert result["status"] == "SUCCEEDED"
    assert "nextState" not in result


def test_next_state_and_output_are_absent_when_the_state_fails(sfn):
    """nextState: '... or if the execution of the state fails'; error and cause instead."""
    result = answer(sfn, definition=definition(Type="Fail", Error="Broken", Cause="why"))
    assert result == {"error": "Broken", "cause": "why", "status": "FAILED"}


@pytest.mark.parametrize("state_type", ["Pass", "Wait", "Choice", "Succeed", "Fail"])
def test_a_mock_is_refused_for_states_other_than_task_map_and_parallel(sfn, state_type):
    """mock: 'A mock can only be specified for Task, Map, or Parallel states. If it is
    specified for another state type, an exception will be thrown.' (AWS's words,
    recorded by LocalStack's parity tests for Pass, Fail and Succeed.)"""
    states = {
        "Pass": {"Type": "Pass", "End": True},
        "Wait": {"Type": "Wait", "Seconds": 1, "End": True},
        "Choice": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "X"}],
            "Default": "X",
        },
        "Succeed": {"Type": "Succeed"},
        "Fail": {"Type": "Fail"},
    }
    code, message = refusal(sfn, definition=json.dumps(states[state_type]), mock={"result": "{}"})
    assert code == "ValidationException"
    assert message == f"State type '{state_type}' is not supported when a mock is specified"


@pytest.mark.parametrize(
    "state",
    [
        {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "End": True,
        },
        {
            "Type": "Parallel",
            "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}],
            "End": True,
        },
    ],
)
def test_map_and_parallel_states_need_a_mock(sfn, state):
    """'TestState only supports the following when a mock is specified: ... Parallel, or
    Map states.' (AWS's answer recorded by LocalStack's parity tests.)"""
    code, message = refusal(sfn, definition=json.dumps(state), input="[]")
    assert code == "InvalidDefinition"
    assert message == (
        "TestState API does not support Map or Parallel states. Supported state types include: "
        "[Task, Wait, Pass, Succeed, Fail, Choice]"
    )


def test_a_context_needs_a_mock(sfn):
    """context: 'This field may only be specified if a mock is specified in the same
    request.'"""
    code, message = refusal(
        sfn, definition=definition(Type="Pass", End=True), context='{"State": {"Name": "S"}}'
    )
    assert code == "ValidationException"
    assert "mock" in message


def test_state_name_needs_a_whole_state_machine(sfn):
    """stateName: 'If this field is specified, the definition must contain a fully-formed
    state machine definition.'"""
    code, _ = refusal(sfn, definition=definition(Type="Pass", End=True), stateName="Pass")
    assert code == "InvalidDefinition"
    machine = definition(StartAt="A", States={"A": {"Type": "Pass", "End": True}})
    assert refusal(sfn, definition=machine, stateName="B") == (
        "ValidationException",
        "State not found in definition",
    )


def test_state_name_is_found_at_any_depth(sfn):
    """stateName: 'the particular state within a state machine definition': a Parallel
    branch's state is one of the machine's."""
    machine = definition(
        StartAt="Both",
        States={
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Left",
                        "States": {
                            "Left": {
                                "Type": "Pass",
                                "Result": "l",
                                "ResultPath": "$.side",
                                "End": True,
                            }
                        },
                    }
                ],
                "End": True,
            }
        },
    )
    result = answer(sfn, definition=machine, stateName="Left", input='{"n": 1}')
    assert result == {"output": {"n": 1, "side": "l"}, "status": "SUCCEEDED"}


def test_a_state_name_must_have_a_length(sfn):
    """stateName: 'Minimum length of 1' (what a client that does not check answers)."""
    unchecked = boto3.client("stepfunctions", config=Config(parameter_validation=False))
    machine = definition(StartAt="A", States={"A": {"Type": "Pass", "End": True}})
    code, message = refusal(unchecked, definition=machine, stateName="")
    assert code == "ValidationException"
    assert message == (
        "1 validation error detected: Value at 'stateName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_variables_set_and_assigned_are_reported(sfn):
    """variables: 'JSON object literal that sets variables used in the state under test';
    inspectionData.variables: 'The set will include variables assigned in the state and
    variables set up as test state input.'"""
    state = definition(Type="Pass", Assign={"assigned": 7, "copied.$": "$.a"}, End=True)
    result = answer(
        sfn, definition=state, input='{"a": 3}', variables='{"given": "x"}', inspectionLevel="DEBUG"
    )
    assert result["inspectionData"]["variables"] == {"given": "x", "assigned": 7, "copied": 3}


def test_a_failed_states_assignments_are_reported(sfn):
    """inspectionData.variables: 'variables assigned in the state' -- a state that assigns
    and then fails (its OutputPath finds nothing) still reports what it assigned."""
    state = definition(Type="Pass", Assign={"a": 1}, OutputPath="$.missing", End=True)
    result = answer(
        sfn, definition=state, input="{}", variables='{"a": 0}', inspectionLevel="DEBUG"
    )
    assert result["status"] == "FAILED"
    assert result["inspectionData"]["variables"] == {"a": 1}


@pytest.mark.parametrize("variables", ['["not", "an", "object"]', "{not json", '"text"'])
def test_variables_must_be_a_json_object(sfn, variables):
    """variables: 'JSON object literal'."""
    code, message = refusal(sfn, definition=definition(Type="Pass", End=True), variables=variables)
    assert code == "ValidationException"
    assert message.startswith("Invalid variables")


def test_the_inspection_level_is_one_of_three(sfn):
    """inspectionLevel: 'Valid Values: INFO | DEBUG | TRACE' (AWS's validation message)."""
    code, message = refusal(
        sfn, definition=definition(Type="Pass", End=True), inspectionLevel="ALL"
    )
    assert code == "ValidationException"
    assert message == (
        "1 validation error detected: Value 'ALL' at 'inspectionLevel' failed to satisfy "
        "constraint: Member must satisfy enum value set: [INFO, DEBUG, TRACE]"
    )


def test_reveal_secrets_needs_the_trace_level(sfn):
    """revealSecrets: secrets of an HTTP Task's request, which only TRACE shows."""
    code, message = refusal(
        sfn,
        definition=definition(Type="Pass", End=True),
        revealSecrets=True,
        inspectionLevel="DEBUG",
    )
    assert code == "ValidationException"
    assert "TRACE" in message


def test_input_that_is_not_json_is_invalid_execution_input(sfn):
    """Errors: 'InvalidExecutionInput: The provided JSON input data is not valid.' (with the
    message StartExecution gives, recorded by LocalStack's parity tests)."""
    code, message = refusal(sfn, definition=definition(Type="Pass", End=True), input="{'a': 1}")
    assert code == "InvalidExecutionInput"
    assert message == (  # Jackson's words, as AWS's recorded StartExecution answer has them
        "Invalid State Machine Execution Input: 'Unexpected character (''' (code 39)): was "
        "expecting double-quote to start field name'"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"Type": "Pass", "End": true', "INVALID_JSON_DESCRIPTION"),
        ("[1, 2]", "SCHEMA_VALIDATION_FAILED"),
        ('{"Type": "Teleport", "End": true}', "SCHEMA_VALIDATION_FAILED"),
    ],
)
def test_a_definition_that_is_not_a_state_is_invalid(sfn, text, reason):
    """Errors: 'InvalidDefinition: The provided Amazon States Language definition is not
    valid.' (in the format of AWS's definition errors)."""
    code, message = refusal(sfn, definition=text)
    assert code == "InvalidDefinition"
    assert message.startswith(f"Invalid State Machine Definition: '{reason}: ")


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        (
            {"QueryLanguage": "JSONata", "Type": "Pass", "Output": "{% $states.input. %}"},
            "INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/StateName/Output",
        ),
        (
            {"QueryLanguage": "JSONata", "Type": "Pass", "Output": "{% a %}"},
            "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'a' at the top level is not "
            "supported. at /States/StateName/Output",
        ),
        (
            {"Type": "Pass"},
            "SCHEMA_VALIDATION_FAILED: A state of this type must have either a 'Next' field or "
            "'End': true at /States/StateName",
        ),
    ],
)
def test_a_state_create_state_machine_refuses_is_an_invalid_definition(sfn, state, problem):
    """Errors: 'InvalidDefinition': the state is checked as CreateStateMachine checks it, at
    AWS's path for a lone state (/States/StateName/..., as AWS's recorded TestState answers
    locate it: LocalStack snapshot test_state_mock_validation, 24-02-2026); it does not run.
    A Next naming no state of the definition is no problem: the state is tested alone."""
    if "Output" in state:
        state = {**state, "Next": "Elsewhere"}
    code, message = refusal(sfn, definition=json.dumps(state), input="{}")
    assert code == "InvalidDefinition"
    assert message == f"Invalid State Machine Definition: '{problem}'"


@pytest.mark.parametrize(
    ("name", "why"), [("states", "'states' is reserved"), ("a-b", "'a-b' is not valid")]
)
def test_a_variable_name_an_assign_may_not_set_is_refused(sfn, name, why):
    """variables: the names CreateStateMachine refuses in an Assign, in its words (no
    recording gives TestState's)."""
    code, message = refusal(
        sfn, definition=definition(Type="Pass", End=True), variables=json.dumps({name: 1})
    )
    assert code == "ValidationException"
    assert message == f"Invalid variables: The variable name {why}"


def test_the_context_start_time_is_in_aws_form(sfn):
    """The context object's Execution.StartTime, as executions give it (UTC, milliseconds,
    `Z`: AWS's recorded context objects, e.g. '2025-01-15T10:30:00.000Z')."""
    state = definition(
        QueryLanguage="JSONata", Type="Pass", Output="{% $states.context.Execution %}", End=True
    )
    started = answer(sfn, definition=state)["output"]["StartTime"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", started), started


@pytest.mark.parametrize(
    ("retry", "retries", "backoff"),
    [
        ({"IntervalSeconds": 3, "BackoffRate": 2.0}, 0, 3),
        ({"IntervalSeconds": 3, "BackoffRate": 2.0}, 2, 12),
        ({"IntervalSeconds": 1, "BackoffRate": 1.5}, 2, 2),  # 2.25, whole seconds
        ({"IntervalSeconds": 2, "BackoffRate": 3.0, "MaxDelaySeconds": 10}, 3, 10),
        ({}, 1, 2),  # the defaults: IntervalSeconds 1, BackoffRate 2.0
    ],
)
def test_the_backoff_is_the_interval_times_the_rate_to_the_retries_made(
    sfn, retry, retries, backoff
):
    """errorDetails.retryBackoffIntervalSeconds: 'The duration in seconds of the backoff for
    a retry'; the error-handling page: IntervalSeconds, multiplied by BackoffRate on each
    retry, at most MaxDelaySeconds."""
    state = task(LAMBDA, Retry=[{"ErrorEquals": ["Throttled"], "MaxAttempts": 9, **retry}])
    result = answer(
        sfn,
        definition=state,
        mock=ERROR,
        stateConfiguration={"retrierRetryCount": retries},
        inspectionLevel="DEBUG",
    )
    assert result["status"] == "RETRIABLE"
    assert result["inspectionData"]["errorDetails"] == {
        "retryIndex": 0,
        "retryBackoffIntervalSeconds": backoff,
    }


def test_full_jitter_waits_between_zero_and_the_backoff(sfn):
    """The error-handling page, JitterStrategy FULL: a random delay up to the computed
    backoff (here 2 x 2^4 = 32 s), so runs differ."""
    state = task(
        LAMBDA,
        Retry=[
            {
                "ErrorEquals": ["Throttled"],
                "IntervalSeconds": 2,
                "MaxAttempts": 9,
                "JitterStrategy": "FULL",
            }
        ],
    )
    waits = {
        answer(
            sfn,
            definition=state,
            mock=ERROR,
            stateConfiguration={"retrierRetryCount": 4},
            inspectionLevel="DEBUG",
        )["inspectionData"]["errorDetails"]["retryBackoffIntervalSeconds"]
        for _ in range(12)
    }
    assert all(0 <= wait <= 32 for wait in waits)
    assert len(waits) > 1


def test_the_retry_and_catch_that_apply_are_the_first_that_match(sfn):
    """errorDetails: 'retryIndex: The array index of the Retry which handled the exception';
    'catchIndex: The array index of the Catch which handled the exception'."""
    state = task(
        LAMBDA,
        Retry=[
            {"ErrorEquals": ["Other"], "MaxAttempts": 2},
            {"ErrorEquals": ["Throttled"], "MaxAttempts": 0},
        ],
        Catch=[
            {"ErrorEquals": ["Other"], "Next": "A"},
            {"ErrorEquals": ["States.TaskFailed"], "Next": "B"},
            {"ErrorEquals": ["States.ALL"], "Next": "C"},
        ],
    )
    result = answer(sfn, definition=state, mock=ERROR, inspectionLevel="DEBUG")
    assert result["status"] == "CAUGHT_ERROR"
    assert result["nextState"] == "B"
    assert result["inspectionData"]["errorDetails"] == {"retryIndex": 1, "catchIndex": 1}


def test_an_error_no_retry_or_catch_handles_fails_the_state(sfn):
    """status: FAILED; error and cause: 'The error returned when the execution of a state
    fails'."""
    state = task(
        LAMBDA, Retry=[{"ErrorEquals": ["Other"]}], Catch=[{"ErrorEquals": ["Other"], "Next": "A"}]
    )
    result = answer(sfn, definition=state, mock=ERROR, inspectionLevel="DEBUG")
    assert result == {
        "error": "Throttled",
        "cause": "slow down",
        "inspectionData": {"input": "{}", "afterInputPath": {}, "afterParameters": {}},
        "status": "FAILED",
    }
