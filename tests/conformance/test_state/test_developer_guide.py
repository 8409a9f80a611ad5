"""The developer guide's TestState page, example by example, on the local engine:
https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html (the section
each test follows is named in it). Where the guide shows AWS's answer, every field of it is
asserted; where it only describes it, what it describes is.

The guide's examples written with `Arguments` and `"Payload.$": "$"` mix JSONata's field with
JSONPath's syntax (AWS refuses that mix in a definition): they are run with `Parameters`,
which is what they mean.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conformance.test_state.calls import ROLE, answer, definition, distributed, refusal, task

LAMBDA = "arn:aws:states:::lambda:invoke"


def test_example_1_info_level_tests_a_choice_state(sfn):
    """'Example 1: Using INFO inspectionLevel to test a Choice state' (its answer, whole)."""
    choice = definition(
        Type="Choice",
        Choices=[
            {"Variable": "$.number", "NumericEquals": 1, "Next": "Equals 1"},
            {"Variable": "$.number", "NumericEquals": 2, "Next": "Equals 2"},
        ],
        Default="No Match",
    )
    assert answer(sfn, definition=choice, roleArn=ROLE, input='{"number": 2}') == {
        "output": {"number": 2},
        "nextState": "Equals 2",
        "status": "SUCCEEDED",
    }


def test_example_2_debug_level_shows_each_step_of_a_pass_states_data_flow(sfn):
    """'Example 2: Using DEBUG inspectionLevel to debug input and output data processing in a
    Pass state' (its answer, whole; `input` is the request's input as given)."""
    state = definition(
        Type="Pass",
        InputPath="$.payload",
        Parameters={"data": 1},
        ResultPath="$.result",
        OutputPath="$.result.data",
        Next="Another State",
    )
    result = answer(
        sfn,
        definition=state,
        roleArn=ROLE,
        input='{"payload": {"foo": "bar"}}',
        inspectionLevel="DEBUG",
    )
    assert result == {
        "output": 1,
        "inspectionData": {
            "input": '{"payload": {"foo": "bar"}}',
            "afterInputPath": {"foo": "bar"},
            "afterParameters": {"data": 1},
            "afterResultSelector": {"data": 1},
            "afterResultPath": {"payload": {"foo": "bar"}, "result": {"data": 1}},
        },
        "nextState": "Another State",
        "status": "SUCCEEDED",
    }


def test_info_is_the_default_level_and_shows_no_inspection_data(sfn):
    """'Using inspection levels': INFO, the default, shows the state output; all levels
    return `status` and `nextState`."""
    result = answer(sfn, definition=definition(Type="Pass", Next="After"), input='{"a": 1}')
    assert result == {"output": {"a": 1}, "nextState": "After", "status": "SUCCEEDED"}


def test_debug_shows_the_data_processing_up_to_the_point_of_failure(sfn):
    """'DEBUG inspectionLevel': if the test fails, the error output and the intermediate
    results up to the failure (input, afterInputPath, afterParameters)."""
    state = task(
        LAMBDA,
        InputPath="$.order",
        Parameters={"FunctionName": "ProcessOrder", "Payload.$": "$"},
        ResultSelector={"body.$": "$.Payload"},
    )
    result = answer(
        sfn,
        definition=state,
        input='{"order": {"id": 7}}',
        mock={"errorOutput": {"error": "Lambda.ServiceException", "cause": "Service error"}},
        inspectionLevel="DEBUG",
    )
    assert result == {
        "error": "Lambda.ServiceException",
        "cause": "Service error",
        "inspectionData": {
            "input": '{"order": {"id": 7}}',
            "afterInputPath": {"id": 7},
            "afterParameters": {"FunctionName": "ProcessOrder", "Payload": {"id": 7}},
        },
        "status": "FAILED",
    }


def test_trace_also_shows_the_data_processing(sfn):
    """'TRACE inspectionLevel': besides an HTTP Task's request and response, the state
    output and the result of input and output data processing."""
    state = definition(Type="Pass", InputPath="$.a", ResultPath="$.b", End=True)
    debug = answer(sfn, definition=state, input='{"a": 1}', inspectionLevel="DEBUG")
    trace = answer(sfn, definition=state, input='{"a": 1}', inspectionLevel="TRACE")
    assert trace == debug
    assert trace["inspectionData"]["afterResultPath"] == {"a": 1, "b": 1}


def test_reveal_secrets_cannot_be_used_with_a_mock(sfn):
    """'TRACE inspectionLevel': 'If you specify both revealSecrets and a mock ... Step
    Functions returns a validation exception'."""
    code, message = refusal(
        sfn,
        definition=task(LAMBDA, End=True),
        inspectionLevel="TRACE",
        revealSecrets=True,
        mock={"result": "{}"},
    )
    assert code == "ValidationException"
    assert message == "TestState does not support RevealSecrets when a mock is specified."


def test_basic_mocking_returns_the_mock_as_the_tasks_result(sfn):
    """'Mocking service integrations', 'Basic mocking syntax': the result is mocked, the
    role is optional."""
    state = task(LAMBDA, Parameters={"FunctionName": "MyFunction", "Payload.$": "$"})
    mocked = {"Payload": {"statusCode": 200, "body": "Success"}}
    result = answer(
        sfn,
        definition=state,
        input='{"key": "value"}',
        mock={"result": json.dumps(mocked)},
        inspectionLevel="DEBUG",
    )
    assert result == {
        "output": mocked,
        "inspectionData": {
            "input": '{"key": "value"}',
            "afterInputPath": {"key": "value"},
            "afterParameters": {"FunctionName": "MyFunction", "Payload": {"key": "value"}},
            "result": mocked,
            "afterResultSelector": mocked,
            "afterResultPath": mocked,
        },
        "status": "SUCCEEDED",
    }


def test_mocking_an_error_fails_the_state_with_it(sfn):
    """'Basic mocking syntax', 'To mock an error'."""
    state = task(LAMBDA, Parameters={"FunctionName": "F"})
    result = answer(
        sfn,
        definition=state,
        input='{"key": "value"}',
        mock={"errorOutput": {"error": "Lambda.ServiceException", "cause": "Service unavailable"}},
    )
    assert result == {
        "error": "Lambda.ServiceException",
        "cause": "Service unavailable",
        "status": "FAILED",
    }


def test_a_mock_has_a_result_or_an_error_not_both(sfn):
    """'You cannot provide both mock.result and mock.errorOutput in the same API call. This
    results in a validation exception.'"""
    code, message = refusal(
        sfn,
        definition=task(LAMBDA, End=True),
        mock={"result": "{}", "errorOutput": {"error": "E", "cause": "C"}},
    )
    assert code == "ValidationException"
    assert (
        message
        == "A test mock should have only one of the following fields: [result, errorOutput]."
    )


PUT_ITEM = task(
    "arn:aws:states:::dynamodb:putItem",
    Parameters={"TableName": "T", "Item": {"id": {"S.$": "$.key"}}},
)
START_EXECUTION = task(
    "arn:aws:states:::states:startExecution",
    Parameters={"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Target"},
)


def test_strict_validation_checks_the_mock_against_the_apis_model(sfn):
    """'Mock validation modes': STRICT (the default) enforces the model's types and
    required fields; the guide's own example, a putItem mock with Attributes, passes."""
    attributes = {"Attributes": {"id": {"S": "value"}}}
    result = answer(
        sfn,
        definition=PUT_ITEM,
        input='{"key": "value"}',
        mock={"fieldValidationMode": "STRICT", "result": json.dumps(attributes)},
    )
    assert result == {"output": attributes, "status": "SUCCEEDED"}
    code, message = refusal(
        sfn,
        definition=PUT_ITEM,
        input='{"key": "value"}',
        mock={"result": json.dumps({"ConsumedCapacity": {"CapacityUnits": "one"}})},
    )
    assert (code, message) == (
        "ValidationException",
        "Mock result schema validation error: Field 'CapacityUnits' must be a number",
    )
    code, message = refusal(sfn, definition=START_EXECUTION, mock={"result": "{}"})
    assert (
        message == "Mock result schema validation error: Required field 'ExecutionArn' is missing"
    )


def test_strict_accepts_an_empty_mock_for_an_api_with_no_required_fields(sfn):
    """'if using STRICT mode for an API that defines no Required fields, an empty mock
    response will pass validation' (putItem's output has none)."""
    result = answer(sfn, definition=PUT_ITEM, input='{"key": "v"}', mock={"result": "{}"})
    assert result == {"output": {}, "status": "SUCCEEDED"}


def test_present_checks_only_the_fields_present_and_ignores_unknown_ones(sfn):
    """'PRESENT - Validates only the fields that are present in the mock. Unknown fields
    are ignored.'"""
    present = {"fieldValidationMode": "PRESENT"}
    unknown = {"NotInTheModel": True}
    assert (
        answer(sfn, definition=START_EXECUTION, mock=present | {"result": json.dumps(unknown)})[
            "output"
        ]
        == unknown
    )
    _, message = refusal(
        sfn, definition=START_EXECUTION, mock=present | {"result": '{"ExecutionArn": 5}'}
    )
    assert message == "Mock result schema validation error: Field 'ExecutionArn' must be a string"


def test_strict_checks_an_aws_sdk_integration_named_by_its_sdk_client(sfn):
    """'Mock validation modes': STRICT checks the mock against the API's model (MockInput:
    "all present fields must conform to the API's schema"), the AWS SDK integrations' too,
    which name a service by its SDK client: aws-sdk:eventbridge is botocore's events."""
    put_events = task("arn:aws:states:::aws-sdk:eventbridge:putEvents", Parameters={"Entries": []})
    _, message = refusal(sfn, definition=put_events, mock={"result": '{"Entries": 5}'})
    assert message == "Mock result schema validation error: Field 'Entries' must be an array"
    fits = {"Entries": [{"EventId": "e-1"}], "FailedEntryCount": 0}
    assert answer(sfn, definition=put_events, mock={"result": json.dumps(fits)})["output"] == fits


def test_strict_checks_the_bedrock_integrations_invoke_model(sfn):
    """'Mock validation modes': STRICT requires the model's required fields; the Bedrock
    integration's invokeModel is Bedrock Runtime's InvokeModel (Body and ContentType
    required), its Body the model's answer as JSON."""
    invoke = task("arn:aws:states:::bedrock:invokeModel", Parameters={"ModelId": "m", "Body": {}})
    _, message = refusal(sfn, definition=invoke, mock={"result": "{}"})
    assert message == "Mock result schema validation error: Required field 'Body' is missing"
    _, message = refusal(
        sfn,
        definition=invoke,
        mock={"result": '{"ContentType": 5}', "fieldValidationMode": "PRESENT"},
    )
    assert message == "Mock result schema validation error: Field 'ContentType' must be a string"
    fits = {"Body": {"completion": "hi"}, "ContentType": "application/json"}
    assert answer(sfn, definition=invoke, mock={"result": json.dumps(fits)})["output"] == fits


def test_none_skips_validation(sfn):
    """'NONE - Skips validation entirely.'"""
    wrong = {"ExecutionArn": 5, "StartDate": True}
    result = answer(
        sfn,
        definition=START_EXECUTION,
        mock={"fieldValidationMode": "NONE", "result": json.dumps(wrong)},
    )
    assert result == {"output": wrong, "status": "SUCCEEDED"}


def test_api_gateway_mocks_are_not_validated(sfn):
    """'Mock validation is not supported for HTTP Task, API Gateway, EKS Call, and EKS
    RunJob integrations.'"""
    api = task(
        "arn:aws:states:::apigateway:invoke",
        Parameters={"ApiEndpoint": "example.execute-api.us-east-1.amazonaws.com", "Method": "GET"},
    )
    result = answer(sfn, definition=api, mock={"result": '{"approval": true}'})
    assert result == {"output": {"approval": True}, "status": "SUCCEEDED"}


MAP = definition(
    Type="Map",
    ItemsPath="$.items",
    ItemSelector={"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
    ItemProcessor={
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "ProcessItem",
        "States": {"ProcessItem": {"Type": "Task", "Resource": LAMBDA, "End": True}},
    },
    End=True,
)


def test_testing_a_map_state(sfn):
    """'Testing a Map state' (the guide's example) and 'Understanding Map state inspection
    data': the mock is the Map's output; afterItemsPath is the items extracted,
    afterItemSelector each item transformed, maxConcurrency the Map's."""
    result = answer(
        sfn,
        definition=MAP,
        input='{"items": [1, 2, 3, 4, 5]}',
        mock={"result": "[10, 20, 30, 40, 50]"},
        inspectionLevel="DEBUG",
    )
    assert result == {
        "output": [10, 20, 30, 40, 50],
        "inspectionData": {
            "input": '{"items": [1, 2, 3, 4, 5]}',
            "afterInputPath": {"items": [1, 2, 3, 4, 5]},
            "afterItemsPath": [1, 2, 3, 4, 5],
            "afterItemSelector": [{"value": v, "index": v - 1} for v in [1, 2, 3, 4, 5]],
            "afterResultSelector": [10, 20, 30, 40, 50],
            "afterResultPath": [10, 20, 30, 40, 50],
            "maxConcurrency": 0,
        },
        "status": "SUCCEEDED",
    }


def test_a_map_mock_must_be_an_array(sfn):
    """'The mock result must be a valid JSON array or JSON object depending on your Map
    state configuration': an array without a ResultWriter."""
    code, message = refusal(sfn, definition=MAP, input='{"items": [1]}', mock={"result": "{}"})
    assert (code, message) == ("ValidationException", "Mocked result must be an array.")


def _distributed(tolerated: int) -> str:
    return definition(
        Type="Map",
        ItemReader={
            "Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {"Bucket": "my-bucket", "Key": "orders.json"},
        },
        ItemsPath="$.orders",
        ItemProcessor=distributed("ProcessItem"),
        ToleratedFailureCount=tolerated,
        End=True,
    )


ORDERS = '{"orders": [{"orderId": "123"}, {"orderId": "456"}, {"orderId": "789"}]}'


def test_testing_a_distributed_map_with_an_item_reader(sfn):
    """'Testing Distributed Map states': the data is given in the input, as if read from S3;
    the tolerated failure threshold is reported."""
    result = answer(
        sfn,
        definition=_distributed(5),
        input=ORDERS,
        mock={"result": '["done", "done", "done"]'},
        inspectionLevel="DEBUG",
    )
    assert result["status"] == "SUCCEEDED"
    assert result["output"] == ["done", "done", "done"]
    inspection = result["inspectionData"]
    assert inspection["afterItemsPath"] == [
        {"orderId": "123"},
        {"orderId": "456"},
        {"orderId": "789"},
    ]
    assert inspection["toleratedFailureCount"] == 5
    assert inspection["maxConcurrency"] == 0


def test_a_failure_count_above_the_threshold_fails_the_map(sfn):
    """'Map state failure thresholds': whether a number of failed iterations triggers
    States.ExceedToleratedFailureThreshold (above the count: yes; at it: no)."""
    exceeded = answer(
        sfn,
        definition=_distributed(1),
        input=ORDERS,
        mock={"result": "[0, 0, 1]"},
        stateConfiguration={"mapIterationFailureCount": 2},
    )
    assert exceeded == {
        "error": "States.ExceedToleratedFailureThreshold",
        "cause": "The specified tolerated failure threshold was exceeded",
        "status": "FAILED",
    }
    tolerated = answer(
        sfn,
        definition=_distributed(1),
        input=ORDERS,
        mock={"result": "[0, 1, 1]"},
        stateConfiguration={"mapIterationFailureCount": 1},
    )
    assert tolerated == {"output": [0, 1, 1], "status": "SUCCEEDED"}


def test_the_failure_count_cannot_exceed_the_items(sfn):
    """'The value for this field cannot exceed the number of items'."""
    code, message = refusal(
        sfn,
        definition=_distributed(1),
        input=ORDERS,
        mock={"result": "[1, 1, 1]"},
        stateConfiguration={"mapIterationFailureCount": 4},
    )
    assert code == "ValidationException"
    assert message == (
        "Map iteration failure count must be less than or equal to the number of Map iterations"
    )


def test_an_error_caused_by_a_state_inside_a_map_reaches_the_maps_catch(sfn):
    """'Specifying error source with errorCausedByState': the Map's Catch handles the error
    its inner state threw; nextState names the handler."""
    state = json.loads(MAP)
    state["Catch"] = [
        {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Recover"}
    ]
    result = answer(
        sfn,
        definition=json.dumps(state),
        input='{"items": [1, 2]}',
        stateConfiguration={"errorCausedByState": "ProcessItem"},
        mock={"errorOutput": {"error": "States.TaskFailed", "cause": "Task execution failed"}},
        inspectionLevel="DEBUG",
    )
    assert result["status"] == "CAUGHT_ERROR"
    assert result["nextState"] == "Recover"
    assert (result["error"], result["cause"]) == ("States.TaskFailed", "Task execution failed")
    assert result["output"] == {
        "items": [1, 2],
        "error": {"Error": "States.TaskFailed", "Cause": "Task execution failed"},
    }
    assert result["inspectionData"]["errorDetails"] == {"catchIndex": 0}


def test_a_state_inside_a_map_gets_the_first_iterations_context(sfn):
    """'Automatic Context population': testing a state within a Map without a context,
    $$.Map.Item.Index is 0 and $$.Map.Item.Value the input."""
    machine = definition(
        StartAt="Each",
        States={
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Inner",
                    "States": {
                        "Inner": {
                            "Type": "Pass",
                            "Parameters": {
                                "index.$": "$$.Map.Item.Index",
                                "value.$": "$$.Map.Item.Value",
                            },
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    )
    result = answer(sfn, definition=machine, stateName="Inner", input='{"sku": "A-1"}')
    assert result == {"output": {"index": 0, "value": {"sku": "A-1"}}, "status": "SUCCEEDED"}


PARALLEL = definition(
    Type="Parallel",
    Branches=[
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": True}}},
        {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": True}}},
    ],
    ResultPath="$.branches",
    Next="Join",
)


def test_testing_a_parallel_state(sfn):
    """'Testing Parallel states': the mock has one element per branch, in the branches'
    order, and is the Parallel's result."""
    result = answer(
        sfn, definition=PARALLEL, input='{"id": 1}', mock={"result": '[{"b": 1}, {"b": 2}]'}
    )
    assert result == {
        "output": {"id": 1, "branches": [{"b": 1}, {"b": 2}]},
        "nextState": "Join",
        "status": "SUCCEEDED",
    }
    code, message = refusal(sfn, definition=PARALLEL, mock={"result": '[{"b": 1}]'})
    assert (code, message) == (
        "ValidationException",
        "Mocked result must contain the same number of items as number of Parallel branches.",
    )


CALLBACK = task(
    "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    Parameters={
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "MessageBody": {"token.$": "$$.Task.Token"},
    },
    ResultPath="$.reply",
    Next="Decide",
)
SYNC = task(
    "arn:aws:states:::states:startExecution.sync:2",
    Parameters={"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child"},
)
ACTIVITY = task("arn:aws:states:us-east-1:123456789012:activity:Approve", TimeoutSeconds=60)


def test_callback_sync_and_activity_states_run_with_a_mock(sfn):
    """'Testing Activity, .sync, and .waitForTaskToken states': supported with a mock (the
    mock is the callback's output, the activity's result)."""
    callback = answer(sfn, definition=CALLBACK, input="{}", mock={"result": '{"approved": true}'})
    assert callback == {
        "output": {"reply": {"approved": True}},
        "nextState": "Decide",
        "status": "SUCCEEDED",
    }
    activity = answer(sfn, definition=ACTIVITY, mock={"result": '{"done": 1}'})
    assert activity == {"output": {"done": 1}, "status": "SUCCEEDED"}


def test_callback_sync_and_activity_states_need_a_mock(sfn):
    """'Without a mock, invoking these states via TestState API will return a validation
    exception.'"""
    for state in (CALLBACK, SYNC, ACTIVITY):
        code, _ = refusal(sfn, definition=state, roleArn=ROLE)
        assert code == "InvalidDefinition"


def test_a_sync_mock_is_checked_against_the_polled_api(sfn):
    """'the mocked response is validated against the polling API's schema ... when testing
    startExecution.sync:2, your mock must match the DescribeExecution response schema'."""
    _, message = refusal(sfn, definition=SYNC, mock={"result": '{"Output": "{}"}'})
    assert (
        message == "Mock result schema validation error: Required field 'ExecutionArn' is missing"
    )
    described = {
        "ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:Child:1",
        "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Child",
        "Status": "SUCCEEDED",
        "StartDate": "2026-01-01T00:00:00Z",
        "Output": '{"ok": true}',
    }
    result = answer(sfn, definition=SYNC, mock={"result": json.dumps(described)})
    assert result == {"output": described, "status": "SUCCEEDED"}


def test_iterating_through_a_state_machine_definition(sfn):
    """'Iterating through state machine definitions': the complete definition and the
    stateName to test; the output and nextState of one test are the input and state of the
    next, which tests an execution path."""
    machine = definition(
        StartAt="Classify",
        States={
            "Classify": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.amount", "NumericGreaterThan": 100, "Next": "Large"}],
                "Default": "Small",
            },
            "Large": {"Type": "Pass", "Result": "review", "ResultPath": "$.route", "Next": "Done"},
            "Small": {"Type": "Pass", "Result": "auto", "ResultPath": "$.route", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    )
    state: str | None = "Classify"
    data: Any = {"amount": 250}
    path: list[str] = []
    while state is not None:
        result = answer(sfn, definition=machine, stateName=state, input=json.dumps(data))
        assert result["status"] == "SUCCEEDED"
        path.append(state)
        state, data = result.get("nextState"), result["output"]
    assert path == ["Classify", "Large", "Done"]
    assert data == {"amount": 250, "route": "review"}


def test_the_context_field_sets_the_context_object(sfn):
    """'Using context field in the TestState API' (the guide's example): the state reads the
    given Execution and State values."""
    state = task(
        LAMBDA,
        Parameters={
            "FunctionName": "MyFunction",
            "Payload": {
                "executionId.$": "$$.Execution.Id",
                "stateName.$": "$$.State.Name",
                "enteredTime.$": "$$.State.EnteredTime",
            },
        },
    )
    context = {
        "Execution": {
            "Id": "arn:aws:states:us-east-1:123456789012:execution:MyStateMachine:test-exec-123",
            "Name": "test-exec-123",
            "StartTime": "2024-01-01T10:00:00.000Z",
        },
        "State": {"Name": "ProcessData", "EnteredTime": "2024-01-01T10:00:05.000Z"},
    }
    result = answer(
        sfn,
        definition=state,
        input='{"data": "value"}',
        context=json.dumps(context),
        mock={"result": '{"status": "success"}'},
        inspectionLevel="DEBUG",
    )
    assert result["status"] == "SUCCEEDED"
    assert result["output"] == {"status": "success"}
    assert result["inspectionData"]["afterParameters"]["Payload"] == {
        "executionId": context["Execution"]["Id"],
        "stateName": "ProcessData",
        "enteredTime": "2024-01-01T10:00:05.000Z",
    }


RETRIED = task(
    LAMBDA,
    Parameters={"FunctionName": "F", "Payload.$": "$"},
    Retry=[
        {
            "ErrorEquals": ["Lambda.ServiceException"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            "BackoffRate": 2.0,
        }
    ],
    Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "GiveUp"}],
)
SERVICE_ERROR = {"errorOutput": {"error": "Lambda.ServiceException", "cause": "Service error"}}


def test_simulating_a_retry_attempt(sfn):
    """'Simulating retry attempts' (its answer): RETRIABLE, the first Retry applies, the
    backoff is 2 x 2.0^1 = 4 seconds."""
    result = answer(
        sfn,
        definition=RETRIED,
        input='{"data": "value"}',
        stateConfiguration={"retrierRetryCount": 1},
        mock=SERVICE_ERROR,
        inspectionLevel="DEBUG",
    )
    assert result["status"] == "RETRIABLE"
    assert result["inspectionData"]["errorDetails"] == {
        "retryBackoffIntervalSeconds": 4,
        "retryIndex": 0,
    }
    assert (result["error"], result["cause"]) == ("Lambda.ServiceException", "Service error")
    assert "output" not in result and "nextState" not in result


def test_exhausted_retries_are_caught(sfn):
    """'What you can test and assert': 'Whether retries are exhausted and the error gets
    caught': after MaxAttempts retries the Catch handles the error."""
    result = answer(
        sfn,
        definition=RETRIED,
        input='{"data": "value"}',
        stateConfiguration={"retrierRetryCount": 3},
        mock=SERVICE_ERROR,
        inspectionLevel="DEBUG",
    )
    assert result["status"] == "CAUGHT_ERROR"
    assert result["nextState"] == "GiveUp"
    assert result["output"] == {
        "data": "value",
        "error": {"Error": "Lambda.ServiceException", "Cause": "Service error"},
    }
    assert result["inspectionData"]["errorDetails"] == {"retryIndex": 0, "catchIndex": 0}


def test_exhausted_retries_through_the_context_objects_retry_count(sfn):
    """'You can also test what happens when all retry attempts are exhausted by increasing
    RetryCount values in your context object.'"""
    result = answer(
        sfn,
        definition=RETRIED,
        input='{"data": "value"}',
        context=json.dumps({"State": {"RetryCount": 3}}),
        mock=SERVICE_ERROR,
    )
    assert result["status"] == "CAUGHT_ERROR"
    assert result["nextState"] == "GiveUp"


def test_testing_catch_handlers(sfn):
    """'Testing catch handlers' (its answer, whole)."""
    state = task(
        LAMBDA,
        Parameters={"FunctionName": "F", "Payload.$": "$"},
        Catch=[
            {
                "ErrorEquals": ["Lambda.TooManyRequestsException"],
                "ResultPath": "$.error",
                "Next": "HandleThrottling",
            }
        ],
        Next="Success",
    )
    result = answer(
        sfn,
        definition=state,
        input='{"data": "value"}',
        mock={
            "errorOutput": {"error": "Lambda.TooManyRequestsException", "cause": "Rate exceeded"}
        },
        inspectionLevel="DEBUG",
    )
    inspection = result.pop("inspectionData")
    assert result == {
        "status": "CAUGHT_ERROR",
        "nextState": "HandleThrottling",
        "error": "Lambda.TooManyRequestsException",
        "cause": "Rate exceeded",
        "output": {
            "data": "value",
            "error": {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate exceeded"},
        },
    }
    assert inspection["errorDetails"] == {"catchIndex": 0}


def test_without_a_mock_a_task_needs_an_execution_role(sfn):
    """'IAM permissions for using TestState API': without mocks, an execution role must be
    provided (AWS's words, recorded by LocalStack's parity tests)."""
    state = task(LAMBDA, Parameters={"FunctionName": "F"})
    assert refusal(sfn, definition=state) == (
        "ValidationException",
        "RoleArn must be specified when testing a Task state",
    )
