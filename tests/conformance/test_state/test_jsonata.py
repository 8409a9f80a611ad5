"""TestState on JSONata states, and variables read by a state: AWS's documented and recorded
answers, as the other files of this folder replay them for JSONPath states.

Sources: the developer guide's TestState page
(https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html) and the
answers LocalStack's parity tests recorded against AWS
(github.com/localstack/localstack, tests/aws/services/stepfunctions/v2/test_state/, the
snapshot each test names).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.conformance.test_state.calls import (
    answer,
    definition,
    distributed,
)

HELLO = '{"Value": "HelloWorld"}'
VALUES = '{"Values": ["first", "second", "third"]}'
LAMBDA = "arn:aws:states:::lambda:invoke"
ROLE = "arn:aws:iam::111111111111:role/TestStateRole"


def _task(**fields):
    state = {
        "QueryLanguage": "JSONata",
        "Type": "Task",
        "Resource": LAMBDA,
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "End": True,
    }
    return json.dumps(state | fields)


CATCH = _task(
    Catch=[
        {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
        {
            "ErrorEquals": ["States.TaskFailed"],
            "Output": "{% $states %}",
            "Next": "HandleThreshold",
        },
    ]
)


def _assert_default_context(context, state_input):
    """The context object TestState makes when none is given (recorded: an Express
    execution's ARN, the role, State.Name 'StateName')."""
    assert re.fullmatch(
        r"arn:aws:states:us-east-1:\d{12}:express:[^:]+:[^:]+", context["Execution"]["Id"]
    )
    assert context["Execution"]["Input"] == state_input
    assert context["Execution"]["RoleArn"] == ROLE
    assert context["Execution"]["Name"] == context["Execution"]["Id"].rsplit(":", 1)[1]
    assert context["StateMachine"]["Id"].endswith(
        f":stateMachine:{context['StateMachine']['Name']}"
    )
    assert context["State"]["Name"] == "StateName"
    assert context["State"]["RetryCount"] == 0


@pytest.mark.parametrize(
    ("error", "next_state", "index"),
    [("MockException", "HandleMockError", 0), ("States.TaskFailed", "HandleThreshold", 1)],
)
def test_a_jsonata_catch(sfn, error, next_state, index):
    """test_test_state_scenarios.snapshot.json, test_state_task_catch_error[DEBUG]."""
    cause = "Mock the cause of the error." if index == 0 else "The task failed."
    result = answer(
        sfn,
        definition=CATCH,
        roleArn=ROLE,
        input=HELLO,
        inspectionLevel="DEBUG",
        mock={"errorOutput": {"error": error, "cause": cause}},
    )
    output = result.pop("output")
    assert result == {
        "cause": cause,
        "error": error,
        "inspectionData": {
            "afterArguments": {"FunctionName": "foo", "Payload": "bar"},
            "errorDetails": {"catchIndex": index},
            "input": HELLO,
        },
        "nextState": next_state,
        "status": "CAUGHT_ERROR",
    }
    assert output["input"] == json.loads(HELLO)
    assert output["errorOutput"] == {"Error": error, "Cause": cause}
    _assert_default_context(output["context"], json.loads(HELLO))


@pytest.mark.parametrize(
    ("retries", "recorded"),
    [
        (
            4,
            {
                "status": "RETRIABLE",
                "errorDetails": {"retryBackoffIntervalSeconds": 16, "retryIndex": 0},
            },
        ),
        (5, {"status": "FAILED", "errorDetails": {"retryIndex": 0}}),
    ],
)
def test_a_jsonata_retry(sfn, retries, recorded):
    """test_state_configuration.snapshot.json, test_state_configuration_retrier_retry_count
    [DEBUG]: IntervalSeconds 1, BackoffRate 2, MaxAttempts 5."""
    retry = _task(
        Retry=[
            {
                "ErrorEquals": ["MockException"],
                "IntervalSeconds": 1,
                "MaxAttempts": 5,
                "BackoffRate": 2.0,
            }
        ]
    )
    result = answer(
        sfn,
        definition=retry,
        roleArn=ROLE,
        input=VALUES,
        stateConfiguration={"retrierRetryCount": retries},
        inspectionLevel="DEBUG",
        mock={"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}},
    )
    assert result == {
        "cause": "Mock the cause of the error.",
        "error": "MockException",
        "inspectionData": {
            "afterArguments": {"FunctionName": "foo", "Payload": "bar"},
            "errorDetails": recorded["errorDetails"],
            "input": VALUES,
        },
        "status": recorded["status"],
    }


def _map(**fields):
    state = {
        "Type": "Map",
        "QueryLanguage": "JSONata",
        "Items": "{% $states.input.Values %}",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "TestState",
            "States": {"TestState": {"Type": "Task", "Resource": LAMBDA, "End": True}},
        },
        "End": True,
    }
    return json.dumps(state | fields)


def test_a_jsonata_map(sfn):
    """test_test_state_scenarios.snapshot.json, test_base_map_state_inspect
    [MAX_CONCURRENCY-DEBUG]: the Map's Output sees $states.result, the mock."""
    result = answer(
        sfn,
        definition=_map(Output="{% $states %}", MaxConcurrency="{% $variable := 1 %}"),
        roleArn=ROLE,
        input='{"Values": [1, 2, 3]}',
        inspectionLevel="DEBUG",
        mock={"result": "[1, 1, 1]"},
    )
    output = result.pop("output")
    assert result == {
        "inspectionData": {"input": '{"Values": [1, 2, 3]}', "maxConcurrency": 1},
        "status": "SUCCEEDED",
    }
    assert output["input"] == {"Values": [1, 2, 3]}
    assert output["result"] == [1, 1, 1]
    _assert_default_context(output["context"], {"Values": [1, 2, 3]})


@pytest.mark.parametrize(
    ("handlers", "exceeded"),
    [
        (
            {
                "Catch": [
                    {
                        "ErrorEquals": ["MockException"],
                        "Output": "{% $states %}",
                        "Next": "HandleMockError",
                    },
                    {
                        "ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
                        "Output": "{% $states %}",
                        "Next": "HandleThreshold",
                    },
                ]
            },
            {
                "status": "CAUGHT_ERROR",
                "nextState": "HandleThreshold",
                "errorDetails": {"catchIndex": 1},
            },
        ),
        (
            {
                "Retry": [
                    {"ErrorEquals": ["MockException"], "MaxAttempts": 3},
                    {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 2},
                ]
            },
            {
                "status": "RETRIABLE",
                "errorDetails": {"retryBackoffIntervalSeconds": 1, "retryIndex": 1},
            },
        ),
    ],
)
def test_a_jsonata_maps_failure_threshold(sfn, handlers, exceeded):
    """test_state_configuration.snapshot.json, test_map_state_failure_count
    [DEBUG-BASE_MAP_STATE_CATCH] and [DEBUG-BASE_MAP_STATE_RETRY]."""
    state = _map(ToleratedFailureCount=1, **handlers)
    below = answer(
        sfn,
        definition=state,
        roleArn=ROLE,
        input=VALUES,
        stateConfiguration={"mapIterationFailureCount": 0},
        inspectionLevel="DEBUG",
        mock={"result": "[1, 1, 1]"},
    )
    assert below == {
        "inspectionData": {"input": VALUES, "maxConcurrency": 0, "toleratedFailureCount": 1},
        "output": [1, 1, 1],
        "status": "SUCCEEDED",
    }
    above = answer(
        sfn,
        definition=state,
        roleArn=ROLE,
        input=VALUES,
        stateConfiguration={"mapIterationFailureCount": 2},
        inspectionLevel="DEBUG",
        mock={"result": "[0, 0, 1]"},
    )
    assert above["status"] == exceeded["status"]
    assert above["error"] == "States.ExceedToleratedFailureThreshold"
    assert above["cause"] == "The specified tolerated failure threshold was exceeded"
    assert above.get("nextState") == exceeded.get("nextState")
    assert above["inspectionData"] == {
        "errorDetails": exceeded["errorDetails"],
        "input": VALUES,
        "maxConcurrency": 0,
        "toleratedFailureCount": 1,
    }


def test_a_jsonata_maps_output_expression(sfn):
    """test_state_configuration.snapshot.json, test_map_state_failure_count
    [INFO-MAP_TASK_STATE] (below the threshold)."""
    state = _map(
        Output={
            "result": "{% $map($states.result, function($v) { $v = 1 ? 'pass' : 'failed' }) %}",
            "successCount": "{% $count($states.result[$ = 1]) %}",
            "failedCount": "{% $count($states.result[$ = 0]) %}",
        },
        ToleratedFailureCount=1,
    )
    result = answer(
        sfn,
        definition=state,
        roleArn=ROLE,
        input=VALUES,
        stateConfiguration={"mapIterationFailureCount": 0},
        mock={"result": "[1, 1, 1]"},
    )
    assert result == {
        "output": {"result": ["pass", "pass", "pass"], "successCount": 3, "failedCount": 0},
        "status": "SUCCEEDED",
    }


def test_a_jsonata_map_with_an_item_reader(sfn):
    """test_state_configuration.snapshot.json, test_state_machine_configuration_map_
    iteration_item_reader[DEBUG]: mapItemReaderData is what the ItemReader read."""
    machine = definition(
        QueryLanguage="JSONata",
        StartAt="State0",
        States={
            "State0": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemReader": {
                    "ReaderConfig": {"InputType": "JSON"},
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Arguments": {
                        "Bucket": "{% $states.input.Bucket %}",
                        "Key": "{% $states.input.Key %}",
                    },
                },
                "ItemProcessor": distributed("HandleItem"),
                "End": True,
            }
        },
    )
    state_input = '{"Bucket": "test-bucket", "Key": "test-key"}'
    result = answer(
        sfn,
        stateName="State0",
        definition=machine,
        roleArn=ROLE,
        input=state_input,
        stateConfiguration={"mapItemReaderData": "[1, 2, 3]"},
        inspectionLevel="DEBUG",
        mock={"result": "[1, 4, 9]"},
    )
    assert result == {
        "inspectionData": {"input": state_input, "maxConcurrency": 1},
        "output": [1, 4, 9],
        "status": "SUCCEEDED",
    }


def test_a_jsonata_parallel(sfn):
    """test_test_state_mock_scenarios.snapshot.json, test_io_jsonata_parallel_state_mock_
    success[DEBUG]: only the input is reported."""
    state = definition(
        Type="Parallel",
        QueryLanguage="JSONata",
        Arguments="{% $states.input.parallelInput %}",
        Output={
            "parallelInput": "{% $states.input.parallelInput %}",
            "parallelResult": "{% $states.result %}",
        },
        Branches=[
            {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": True}}},
            {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": True}}},
        ],
        End=True,
    )
    branches = [{"branch1": "result"}, {"branch2": "result"}]
    state_input = '{"parallelInput": {"data": "input_value"}}'
    assert answer(
        sfn,
        definition=state,
        input=state_input,
        inspectionLevel="DEBUG",
        mock={"result": json.dumps(branches)},
    ) == {
        "inspectionData": {"input": state_input},
        "output": {"parallelInput": {"data": "input_value"}, "parallelResult": branches},
        "status": "SUCCEEDED",
    }


BLOGPOST = definition(
    Comment="Cost approval workflow",
    QueryLanguage="JSONata",
    StartAt="Approval Required",
    States={
        "Approval Required": {
            "Type": "Choice",
            "Choices": [
                {"Condition": "{% $states.input.cost < 10 %}", "Next": "Purchase Approved"}
            ],
            "Default": "Ask for Approval",
        },
        "Purchase Approved": {"Type": "Succeed"},
        "Ask for Approval": {
            "Type": "Task",
            "Resource": "arn:aws:states:::apigateway:invoke",
            "Arguments": {
                "Method": "POST",
                "ApiEndpoint": "example.execute-api.us-east-1.amazonaws.com",
                "Path": "/approval",
                "RequestBody": {"cost": "{% $states.input.cost %}", "dept_id": "12345678"},
                "AuthType": "NO_AUTH",
            },
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "BackoffRate": 2,
                    "IntervalSeconds": 1,
                    "MaxAttempts": 3,
                }
            ],
            "Next": "Check Approval",
            "Output": {
                "approval": "{% $states.result.approval %}",
                "approval_code": "2387462",
                "approved_by": "Mary",
            },
        },
        "Check Approval": {
            "Type": "Choice",
            "Choices": [{"Next": "Purchase Approved", "Condition": "{% $states.input.approval %}"}],
            "Default": "Not Approved",
        },
        "Not Approved": {"Type": "Fail"},
    },
)


@pytest.mark.parametrize(
    ("state", "state_input", "mock", "recorded"),
    [
        (
            "Approval Required",
            {"cost": 9},
            None,
            {"nextState": "Purchase Approved", "output": {"cost": 9}},
        ),
        (
            "Approval Required",
            {"cost": 10},
            None,
            {"nextState": "Ask for Approval", "output": {"cost": 10}},
        ),
        (
            "Ask for Approval",
            {"cost": 10},
            {"result": '{"approval": true }'},
            {
                "nextState": "Check Approval",
                "output": {"approval": True, "approval_code": "2387462", "approved_by": "Mary"},
                "inspectionData": {
                    "afterArguments": {
                        "Method": "POST",
                        "ApiEndpoint": "example.execute-api.us-east-1.amazonaws.com",
                        "Path": "/approval",
                        "RequestBody": {"cost": 10, "dept_id": "12345678"},
                        "AuthType": "NO_AUTH",
                    },
                    "result": {"approval": True},
                },
            },
        ),
        (
            "Check Approval",
            {"approval": True, "approval_code": "2387462", "approved_by": "Mary"},
            None,
            {
                "nextState": "Purchase Approved",
                "output": {"approval": True, "approval_code": "2387462", "approved_by": "Mary"},
            },
        ),
        (
            "Check Approval",
            {"approval": False},
            None,
            {"nextState": "Not Approved", "output": {"approval": False}},
        ),
    ],
)
def test_the_blogpost_scenario(sfn, state, state_input, mock, recorded):
    """test_test_state_scenarios.snapshot.json, test_localstack_blogpost_scenario (TRACE):
    a JSONata machine tested state by state."""
    request = {
        "definition": BLOGPOST,
        "stateName": state,
        "input": json.dumps(state_input),
        "inspectionLevel": "TRACE",
    }
    result = answer(sfn, **request | ({"mock": mock} if mock else {}))
    inspection = {"input": json.dumps(state_input)} | recorded.get("inspectionData", {})
    assert result == {
        "inspectionData": inspection,
        "nextState": recorded["nextState"],
        "output": recorded["output"],
        "status": "SUCCEEDED",
    }


TARGET = "arn:aws:states:us-east-1:111111111111:stateMachine:"


def test_a_jsonata_states_output_reads_the_mocked_result(sfn):
    """test_field_validation_mode_none.snapshot.json, test_none_mode_sfn_task: NONE lets any
    result through to Output."""
    state = definition(
        Type="Task",
        QueryLanguage="JSONata",
        Resource="arn:aws:states:::states:startExecution",
        Arguments={
            "Input": "{% $states.input.targetInput %}",
            "StateMachineArn": "{% $states.input.stateMachineArn %}",
            "Name": "{% $states.input.name %}",
        },
        Output={"targetExecutionResult": "{% $states.result %}"},
        End=True,
    )
    state_input = json.dumps(
        {
            "stateMachineArn": f"{TARGET}TargetStateMachine",
            "targetInput": None,
            "name": "TestStartTarget",
        }
    )
    for mocked in ({}, {"ExecutionArn": "stringValueExecutionArn", "StartDate": True}):
        result = answer(
            sfn,
            definition=state,
            input=state_input,
            mock={"result": json.dumps(mocked), "fieldValidationMode": "NONE"},
        )
        assert result == {"output": {"targetExecutionResult": mocked}, "status": "SUCCEEDED"}


def test_variables_given_are_read_by_a_jsonata_state(sfn):
    """API reference, variables: 'sets variables used in the state under test';
    inspectionData.variables reports them (recorded: test_state_with_variables)."""
    state = definition(
        Type="Pass",
        QueryLanguage="JSONata",
        Output={"value": "{% $var_input_value %}", "doubled": "{% $var_constant_1 * 2 %}"},
        End=True,
    )
    variables = {"var_input_value": "test_value", "var_constant_1": 10}
    result = answer(
        sfn, definition=state, input="{}", variables=json.dumps(variables), inspectionLevel="TRACE"
    )
    assert result == {
        "inspectionData": {"input": "{}", "variables": variables},
        "output": {"value": "test_value", "doubled": 20},
        "status": "SUCCEEDED",
    }


def test_variables_given_are_read_by_a_jsonpath_state(sfn):
    """API reference, variables; a JSONPath state reads a variable as $name."""
    state = definition(Type="Pass", Parameters={"value.$": "$x"}, End=True)
    result = answer(sfn, definition=state, variables='{"x": 5}')
    assert result == {"output": {"value": 5}, "status": "SUCCEEDED"}


def test_jsonata_data_flow_reports_the_arguments(sfn):
    """API reference, inspectionData.afterArguments: 'The input after Step Functions applies
    an Arguments filter ... only present when QueryLanguage ... is JSONata'; the JSONPath
    fields are not populated."""
    state = _task(
        Output={"doubled": "{% $states.result.n * 2 %}"}, Arguments={"n": "{% $states.input.n %}"}
    )
    result = answer(
        sfn,
        definition=state,
        input='{"n": 4}',
        mock={"result": '{"n": 4}'},
        inspectionLevel="DEBUG",
    )
    assert result == {
        "inspectionData": {"input": '{"n": 4}', "afterArguments": {"n": 4}, "result": {"n": 4}},
        "output": {"doubled": 8},
        "status": "SUCCEEDED",
    }


def test_an_output_keeps_its_characters(sfn):
    """API reference, output: "The JSON output data of the state", a payload measured "as
    bytes in UTF-8 encoding" (the quotas page: "256 KiB of data as a UTF-8 encoded string");
    the characters are written as they are (ours: no recording shows non-ASCII data), where
    moto escaped them (\\u00e9)."""
    state = definition(
        Type="Pass", QueryLanguage="JSONata", Output="{% $states.input.s & '!' %}", End=True
    )
    response = sfn.test_state(definition=state, input='{"s": "José 😀"}')
    assert response["output"] == '"José 😀!"'
