"""AWS's own answers to TestState requests, as recorded against AWS by LocalStack's parity
tests (github.com/localstack/localstack, tests/aws/services/stepfunctions/v2/test_state/
*.snapshot.json, the file each test names), replayed on the local engine: the same request,
AWS's answer, field by field (the recordings parse JSON text, so the comparisons do too;
names the recordings replaced, such as function names, are the requests' own here).

These pin what the guide leaves unsaid: which inspection fields each state type reports, the
exact validation messages, how a given context object reads. Every state here is a JSONPath
state; the recorded JSONata requests are in test_jsonata.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conformance.test_state.calls import answer, definition, distributed, refusal, task

HELLO = '{"Value": "HelloWorld"}'
NESTED = json.dumps(
    {
        "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
        "unrelatedData": {"someOtherField": 1234},
    }
)
PASS = definition(Type="Pass", End=True)
RESULT_PASS = definition(Type="Pass", Result={"resultKey": "result value"}, End=True)
IO_PASS = definition(
    Type="Pass",
    InputPath="$.initialData",
    Parameters={"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
    ResultPath="$.modifiedData",
    End=True,
)
IO_RESULT_PASS = definition(
    Type="Pass",
    InputPath="$.initialData",
    Parameters={"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
    Result={"resultKey": "result value"},
    ResultPath="$.modifiedData",
    End=True,
)
FAIL = definition(
    Type="Fail", Error="SomeFailure", Cause="This state machines raises a 'SomeFailure' failure."
)
CHOICE = definition(
    Type="Choice",
    Choices=[
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {
            "And": [
                {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                {"Variable": "$.value", "NumericLessThan": 30},
            ],
            "Next": "ValueInTwenties",
        },
    ],
    Default="DefaultState",
)
MODIFIED = json.loads(NESTED) | {
    "modifiedData": {"staticValue": "some value", "inputValue": "value from input"}
}
FAILURE = {
    "cause": "This state machines raises a 'SomeFailure' failure.",
    "error": "SomeFailure",
    "status": "FAILED",
}

# test_test_state_scenarios.snapshot.json, test_base_inspection_level_debug[...]: the answers
# at DEBUG (the answers at TRACE were the same).
INSPECTED = [
    (
        PASS,
        HELLO,
        {
            "inspectionData": {
                "afterInputPath": {"Value": "HelloWorld"},
                "afterParameters": {"Value": "HelloWorld"},
                "afterResultPath": {"Value": "HelloWorld"},
                "afterResultSelector": {"Value": "HelloWorld"},
                "input": HELLO,
            },
            "output": {"Value": "HelloWorld"},
            "status": "SUCCEEDED",
        },
    ),
    (
        RESULT_PASS,
        HELLO,
        {
            "inspectionData": {
                "afterResultPath": {"resultKey": "result value"},
                "afterResultSelector": {"resultKey": "result value"},
                "input": HELLO,
                "result": {"resultKey": "result value"},
            },
            "output": {"resultKey": "result value"},
            "status": "SUCCEEDED",
        },
    ),
    (
        IO_PASS,
        NESTED,
        {
            "inspectionData": {
                "afterInputPath": {"fieldFromInput": "value from input", "otherField": "other"},
                "afterParameters": {"staticValue": "some value", "inputValue": "value from input"},
                "afterResultPath": MODIFIED,
                "afterResultSelector": {
                    "staticValue": "some value",
                    "inputValue": "value from input",
                },
                "input": NESTED,
            },
            "output": MODIFIED,
            "status": "SUCCEEDED",
        },
    ),
    (
        IO_RESULT_PASS,
        NESTED,
        {
            "inspectionData": {
                "afterResultPath": json.loads(NESTED)
                | {"modifiedData": {"resultKey": "result value"}},
                "afterResultSelector": {"resultKey": "result value"},
                "input": NESTED,
                "result": {"resultKey": "result value"},
            },
            "output": json.loads(NESTED) | {"modifiedData": {"resultKey": "result value"}},
            "status": "SUCCEEDED",
        },
    ),
    (
        FAIL,
        HELLO,
        FAILURE | {"inspectionData": {"afterInputPath": {"Value": "HelloWorld"}, "input": HELLO}},
    ),
    (
        definition(Type="Succeed"),
        HELLO,
        {
            "inspectionData": {"afterInputPath": {"Value": "HelloWorld"}, "input": HELLO},
            "output": {"Value": "HelloWorld"},
            "status": "SUCCEEDED",
        },
    ),
    (
        CHOICE,
        '{"type": "Private", "value": 22}',
        {
            "inspectionData": {
                "afterInputPath": {"type": "Private", "value": 22},
                "input": '{"type": "Private", "value": 22}',
            },
            "nextState": "ValueInTwenties",
            "output": {"type": "Private", "value": 22},
            "status": "SUCCEEDED",
        },
    ),
]


@pytest.mark.parametrize(("state", "state_input", "recorded"), INSPECTED)
@pytest.mark.parametrize("level", ["DEBUG", "TRACE"])
def test_each_state_type_reports_what_aws_reports(sfn, state, state_input, recorded, level):
    """test_test_state_scenarios.snapshot.json, test_base_inspection_level_debug and _trace."""
    assert answer(sfn, definition=state, input=state_input, inspectionLevel=level) == recorded


@pytest.mark.parametrize(("state", "state_input", "recorded"), INSPECTED)
def test_info_reports_no_inspection(sfn, state, state_input, recorded):
    """test_test_state_scenarios.snapshot.json, test_base_inspection_level_info."""
    expected = {key: value for key, value in recorded.items() if key != "inspectionData"}
    assert answer(sfn, definition=state, input=state_input) == expected


@pytest.mark.parametrize("state", ["State0", "State1"])
def test_a_state_of_a_machine_by_name(sfn, state):
    """test_test_state_machine_scenarios.snapshot.json, test_base_state_name (the machine's
    states in JSONPath)."""
    machine = definition(
        StartAt="State0",
        States={"State0": {"Type": "Pass", "Next": "State1"}, "State1": json.loads(FAIL)},
    )
    expected = {
        "State0": {"nextState": "State1", "output": {"Value": "HelloWorld"}, "status": "SUCCEEDED"},
        "State1": FAILURE,
    }
    assert answer(sfn, definition=machine, stateName=state, input=HELLO) == expected[state]


PARALLEL = {
    "Type": "Parallel",
    "Branches": [
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": True}}},
        {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": True}}},
    ],
    "End": True,
}
BRANCHES = [{"branch1": "result"}, {"branch2": "result"}]


def test_a_mocked_parallel_state(sfn):
    """test_test_state_mock_scenarios.snapshot.json, test_base_parallel_state_mock_success
    and test_io_parallel_state_mock_success (DEBUG): no afterInputPath or result."""
    base = answer(
        sfn,
        definition=json.dumps(PARALLEL),
        input='{"key": "value"}',
        mock={"result": json.dumps(BRANCHES)},
        inspectionLevel="DEBUG",
    )
    assert base == {
        "inspectionData": {
            "afterResultPath": BRANCHES,
            "afterResultSelector": BRANCHES,
            "input": '{"key": "value"}',
        },
        "output": BRANCHES,
        "status": "SUCCEEDED",
    }
    io = PARALLEL | {
        "InputPath": "$.parallelInput",
        "ResultPath": "$.parallelResult",
        "OutputPath": "$",
    }
    state_input = '{"parallelInput": {"data": "input_value"}}'
    expected = {"parallelInput": {"data": "input_value"}, "parallelResult": BRANCHES}
    assert answer(
        sfn,
        definition=json.dumps(io),
        input=state_input,
        mock={"result": json.dumps(BRANCHES)},
        inspectionLevel="DEBUG",
    ) == {
        "inspectionData": {
            "afterResultPath": expected,
            "afterResultSelector": BRANCHES,
            "input": state_input,
        },
        "output": expected,
        "status": "SUCCEEDED",
    }


def test_an_error_inside_a_map_of_a_machine(sfn):
    """test_state_configuration.snapshot.json, test_state_machine_with_state_error (DEBUG):
    the mocked error of a state inside the Map fails it; the Map's items, concurrency and
    tolerated failures are reported."""
    machine = definition(
        StartAt="State0",
        States={
            "State0": {
                "Type": "Map",
                "ItemsPath": "$.Values",
                "ItemProcessor": distributed("HandleItem"),
                "ToleratedFailureCount": 2,
                "End": True,
            }
        },
    )
    state_input = '{"Values": ["first", "second", "third"]}'
    for failures in (0, 2):
        result = answer(
            sfn,
            stateName="State0",
            definition=machine,
            roleArn="arn:aws:iam::123456789012:role/r",
            input=state_input,
            stateConfiguration={
                "mapIterationFailureCount": failures,
                "errorCausedByState": "HandleItem",
            },
            mock={"errorOutput": {"error": "MockException", "cause": "Mock the error cause."}},
            inspectionLevel="DEBUG",
        )
        assert result == {
            "cause": "Mock the error cause.",
            "error": "MockException",
            "inspectionData": {
                "afterInputPath": {"Values": ["first", "second", "third"]},
                "afterItemsPath": ["first", "second", "third"],
                "input": state_input,
                "maxConcurrency": 0,
                "toleratedFailureCount": 2,
            },
            "status": "FAILED",
        }


LAMBDA_SERVICE = task(
    "arn:aws:states:::lambda:invoke",
    Parameters={"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"},
)
PUT_EVENTS = task("arn:aws:states:::events:putEvents", Parameters={"Entries.$": "$.Entries"})
ENTRIES = json.dumps(
    {"Entries": [{"Detail": "detail", "DetailType": "detail_type", "Source": "source"}]}
)


@pytest.mark.parametrize(
    ("state", "state_input", "result"),
    [
        (
            LAMBDA_SERVICE,
            '{"FunctionName": "lambda_func", "Payload": null}',
            {"Payload": "function output", "SdkHttpMetadata": {"HttpStatusCode": 200}},
        ),
        (
            task(
                "arn:aws:states:::dynamodb:putItem",
                Parameters={"TableName.$": "$.TableName", "Item.$": "$.Item"},
                End=True,
            ),
            '{"TableName": "t", "Item": {"data": {"S": "HelloWorld"}, "id": {"S": "id1"}}}',
            {"SdkHttpMetadata": {"HttpStatusCode": 200}},
        ),
        (PUT_EVENTS, ENTRIES, {"Entries": [{"EventId": "7a9d2a8e-0f6e-4d5c-9a7b-1c2d3e4f5a6b"}]}),
        (
            definition(
                Type="Task",
                Resource="arn:aws:states:::sqs:sendMessage",
                Parameters={"QueueUrl.$": "$.QueueUrl", "MessageBody.$": "$.MessageBody"},
                End=True,
            ),
            '{"QueueUrl": "queue_url", "MessageBody": "message_body"}',
            {"MD5OfMessageBody": "3e5b3ec4c2a1e1a1d9e7c5c5d0b7a1f2", "MessageId": "m-1"},
        ),
    ],
)
def test_a_mocked_result_is_the_tasks_result(sfn, state, state_input, result):
    """test_test_state_mock_scenarios.snapshot.json (lambda, dynamodb, put events, sqs
    mock_success): the output is the mock, as given (fields outside the model included)."""
    assert answer(
        sfn, definition=state, input=state_input, mock={"result": json.dumps(result)}
    ) == {
        "output": result,
        "status": "SUCCEEDED",
    }


def test_a_mocked_result_must_be_json_even_unvalidated(sfn):
    """test_test_state_mock_scenarios.snapshot.json, test_base_lambda_service_task_mock_is_
    not_json_string: 'the result must be a valid JSON string even if field validation mode
    is NONE'."""
    code, message = refusal(
        sfn,
        definition=LAMBDA_SERVICE,
        input='{"FunctionName": "f", "Payload": null}',
        mock={"result": "not JSON string", "fieldValidationMode": "NONE"},
    )
    assert (code, message) == ("ValidationException", "Mocked result must be valid JSON")


S3_GET_OBJECT = task(
    "arn:aws:states:::aws-sdk:s3:getObject", Parameters={"Bucket.$": "$.Bucket", "Key.$": "$.Key"}
)
KMS_ENCRYPT = task(
    "arn:aws:states:::aws-sdk:kms:encrypt",
    Parameters={"KeyId.$": "$.KeyId", "Plaintext.$": "$.Plaintext"},
)
LAMBDA_GET_FUNCTION = task(
    "arn:aws:states:::aws-sdk:lambda:getFunction", Parameters={"FunctionName.$": "$.FunctionName"}
)
SCHEMA = "Mock result schema validation error: "
REJECTED = [
    (PUT_EVENTS, ENTRIES, {"Entries": "not a list"}, "Field 'Entries' must be an array"),
    (
        PUT_EVENTS,
        ENTRIES,
        {"Entries": [{"EventId": ["a list"]}]},
        "Field 'EventId' must be a string",
    ),
    (
        PUT_EVENTS,
        ENTRIES,
        {"Entries": [{"EventId": "a string"}, {"EventId": ["a list"]}]},
        "Field 'EventId' must be a string",
    ),
    (
        LAMBDA_SERVICE,
        '{"FunctionName": "f", "Payload": null}',
        {"StatusCode": "200"},
        "Field 'StatusCode' must be a number",
    ),
    (
        task(
            "arn:aws:states:::dynamodb:putItem",
            Parameters={"TableName": "t", "Item": {}},
            End=True,
        ),
        "{}",
        {"ConsumedCapacity": {"CapacityUnits": "123.45"}},
        "Field 'CapacityUnits' must be a number",
    ),
    (
        S3_GET_OBJECT,
        '{"Bucket": "b", "Key": "k"}',
        {"ContentLength": "9000"},
        "Field 'ContentLength' must be a number",
    ),
    (
        S3_GET_OBJECT,
        '{"Bucket": "b", "Key": "k"}',
        {"StorageClass": "Papyrus"},
        "Field 'StorageClass' is not an expected value",
    ),
    (
        KMS_ENCRYPT,
        '{"KeyId": "k", "Plaintext": "p"}',
        {"CiphertextBlob": 123},
        "Field 'CiphertextBlob' must be a string",
    ),
    (
        KMS_ENCRYPT,
        '{"KeyId": "k", "Plaintext": "p"}',
        {"CiphertextBlob": ""},
        "Field 'CiphertextBlob' is smaller than the minimum length",
    ),
    (
        LAMBDA_GET_FUNCTION,
        '{"FunctionName": "f"}',
        {"Configuration": {"MemorySize": 127}},
        "Field 'MemorySize' is less than the minimum value",
    ),
    (
        LAMBDA_GET_FUNCTION,
        '{"FunctionName": "f"}',
        # Recorded with 10241 (the model's maximum was 10240 then; botocore's is 32768 now).
        {"Configuration": {"MemorySize": 32769}},
        "Field 'MemorySize' exceeds the maximum value",
    ),
]


@pytest.mark.parametrize("case", REJECTED)
@pytest.mark.parametrize("mode", ["STRICT", "PRESENT"])
def test_a_mock_that_breaks_the_apis_model_is_refused(sfn, case, mode):
    """test_field_validation_mode.snapshot.json and test_field_validation_mode_present.
    snapshot.json (test_strict_mode_* and test_present_mode_*)."""
    state, state_input, result, detail = case
    code, message = refusal(
        sfn,
        definition=state,
        input=state_input,
        mock={"result": json.dumps(result), "fieldValidationMode": mode},
    )
    assert (code, message) == ("ValidationException", SCHEMA + detail)


@pytest.mark.parametrize("result", [{"random": "json"}, {}])
@pytest.mark.parametrize("mode", ["STRICT", "PRESENT"])
def test_fields_outside_the_model_pass(sfn, result, mode):
    """test_field_validation_mode.snapshot.json, test_strict_mode_mock_result_field_not_in_
    api_spec (and _present_): only the model's fields are checked."""
    assert answer(
        sfn,
        definition=PUT_EVENTS,
        input=ENTRIES,
        mock={"result": json.dumps(result), "fieldValidationMode": mode},
    ) == {"output": result, "status": "SUCCEEDED"}


START_EXECUTION = task(
    "arn:aws:states:::states:startExecution",
    Parameters={"StateMachineArn": "arn:aws:states:us-east-1:111111111111:stateMachine:Target"},
)


@pytest.mark.parametrize(
    "result",
    [{}, {"executionArn": "a", "startDate": "b"}],  # missing, and spelled as the API spells it
)
def test_strict_requires_the_fields_as_step_functions_names_them(sfn, result):
    """test_field_validation_mode.snapshot.json, test_strict_mode_sfn_task
    [missing_required_fields] and [field_name_not_in_sfn_case]; PRESENT passes both
    (test_present_mode_sfn_task_validation_pass)."""
    code, message = refusal(sfn, definition=START_EXECUTION, mock={"result": json.dumps(result)})
    assert (code, message) == (
        "ValidationException",
        SCHEMA + "Required field 'ExecutionArn' is missing",
    )
    present = {"result": json.dumps(result), "fieldValidationMode": "PRESENT"}
    assert answer(sfn, definition=START_EXECUTION, mock=present)["output"] == result


@pytest.mark.parametrize("start_date", [True, 1764103483])
def test_a_timestamp_must_be_a_string(sfn, start_date):
    """test_field_validation_mode.snapshot.json, test_strict_mode_sfn_task
    [wrong_timestamp_type_bool] and [wrong_timestamp_type_number]."""
    result = {"ExecutionArn": "stringValueExecutionArn", "StartDate": start_date}
    _, message = refusal(sfn, definition=START_EXECUTION, mock={"result": json.dumps(result)})
    assert message == SCHEMA + "Field 'StartDate' must be a string"


CONTEXT: dict[str, Any] = {
    "Execution": {
        "Id": "arn:aws:states:::execution:MyStateMachine:execution-name-12345",
        "Input": {
            "input-value": 0,
            "message": "test data",
            "values": ["charizard", "pikachu", "bulbasaur"],
        },
        "Name": "execution-name-12345",
        "RoleArn": "arn:aws:iam:::role/StepFunctionsRole",
        "StartTime": "2025-01-15T10:30:00.000Z",
    },
    "State": {"EnteredTime": "2025-01-15T10:30:01.500Z", "Name": "MyTaskState", "RetryCount": 0},
    "StateMachine": {
        "Id": "arn:aws:states:::stateMachine:MyStateMachine",
        "Name": "MyStateMachine",
    },
}
POKEMON = {"pokemon": ["charizard", "pikachu", "bulbasaur"]}
LAMBDA_INPUT = '{"FunctionName": "lambda_function_name", "Payload": {"input-value": 0}}'


def _context_task(path: str) -> str:
    return task(
        "arn:aws:states:::lambda:invoke",
        Parameters={"FunctionName.$": "$.FunctionName", "Payload": {"Input.$": "$"}},
        ResultSelector={"LambdaOutput.$": "$", "ContextObjectValue.$": path},
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$$", CONTEXT),
        ("$$.Execution.Input", CONTEXT["Execution"]["Input"]),
        ("$$.Execution.Input.values", ["charizard", "pikachu", "bulbasaur"]),
    ],
)
def test_a_given_context_object_is_read_as_given(sfn, path, value):
    """test_state_context_object.snapshot.json, test_state_task_context_object[ALL],
    [EXECUTION_INPUT], [EXECUTION_INPUT_VALUES] (TRACE)."""
    lambda_input = json.loads(LAMBDA_INPUT)
    selected = {"LambdaOutput": POKEMON, "ContextObjectValue": value}
    assert answer(
        sfn,
        definition=_context_task(path),
        input=LAMBDA_INPUT,
        inspectionLevel="TRACE",
        context=json.dumps(CONTEXT),
        mock={"result": json.dumps(POKEMON)},
    ) == {
        "inspectionData": {
            "afterInputPath": lambda_input,
            "afterParameters": {
                "Payload": {"Input": lambda_input},
                "FunctionName": "lambda_function_name",
            },
            "afterResultPath": selected,
            "afterResultSelector": selected,
            "input": LAMBDA_INPUT,
            "result": POKEMON,
        },
        "output": selected,
        "status": "SUCCEEDED",
    }


@pytest.mark.parametrize(
    ("path", "shown"), [("$$", "$"), ("$$.Execution.Input", "$.Execution.Input")]
)
def test_a_maps_items_path_to_an_object_is_refused_as_no_array(sfn, path, shown):
    """test_state_context_object.snapshot.json, test_state_map_context_object [ALL],
    [EXECUTION_INPUT] (recorded December 2025): an inline Map's ItemsPath must point to an
    array; the reference path is named with one $."""
    state = definition(
        Type="Map",
        ItemsPath=path,
        MaxConcurrency=1,
        ItemProcessor={
            "StartAt": "HandleItem",
            "States": {"HandleItem": {"Type": "Pass", "End": True}},
        },
        End=True,
    )
    pokemon = '["fire", "electricity", "grass"]'
    assert answer(
        sfn,
        definition=state,
        input=pokemon,
        inspectionLevel="TRACE",
        context=json.dumps(CONTEXT),
        mock={"result": '["CHARIZARD", "PIKACHU", "BULBASAUR"]'},
    ) == {
        "cause": f'Reference path "{shown}" must point to array.',
        "error": "States.Runtime",
        "inspectionData": {"afterInputPath": json.loads(pokemon), "input": pokemon},
        "status": "FAILED",
    }


def test_a_given_context_with_empty_sections_is_read_as_given(sfn):
    """test_state_context_object.snapshot.json, test_state_context_object_edge_cases
    [EMPTY_OBJECTS]."""
    empty: dict[str, dict[str, Any]] = {"Execution": {}, "State": {}, "StateMachine": {}}
    result = answer(
        sfn,
        definition=_context_task("$$"),
        input=LAMBDA_INPUT,
        context=json.dumps(empty),
        mock={"result": '{"pokemon": "pikachu"}'},
    )
    assert result == {
        "output": {"LambdaOutput": {"pokemon": "pikachu"}, "ContextObjectValue": empty},
        "status": "SUCCEEDED",
    }


def test_a_callback_tasks_token_is_the_given_contexts(sfn):
    """test_state_context_object.snapshot.json, test_state_wait_task_context_object (TRACE):
    $$.Task.Token is the given context's token."""
    state = task(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        Parameters={
            "QueueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/test-queue",
            "MessageBody": {
                "Message": "Hello from Step Functions!",
                "TaskToken.$": "$$.Task.Token",
            },
        },
        ResultPath="$.SQS",
        Next="NEXT_STATE",
    )
    assert answer(
        sfn,
        definition=state,
        inspectionLevel="TRACE",
        context=json.dumps(CONTEXT | {"Task": {"Token": "abcd123"}}),
        mock={"result": json.dumps(POKEMON)},
    ) == {
        "inspectionData": {
            "afterInputPath": {},
            "afterParameters": {
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/test-queue",
                "MessageBody": {"Message": "Hello from Step Functions!", "TaskToken": "abcd123"},
            },
            "afterResultPath": {"SQS": POKEMON},
            "afterResultSelector": POKEMON,
            "input": "{}",
            "result": POKEMON,
        },
        "nextState": "NEXT_STATE",
        "output": {"SQS": POKEMON},
        "status": "SUCCEEDED",
    }


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"Execution": {"Id": 1}}, "Execution.Id must be a string"),
        ({"Map": {}}, "'Map' field is not supported when mocking a Context object"),
        ({"Execution": {"pokemon": "squirtle"}}, "Field 'pokemon' is not allowed"),
        ({"Pokedex": {}}, "Field 'Pokedex' is not allowed"),
        (
            CONTEXT | {"Task": {"Token": "abcd123"}},
            "Context object contains 'Task' when state is not a Task state with a '.sync' or "
            "'.waitForTaskToken' service integration pattern",
        ),
    ],
)
def test_an_invalid_context_object_is_refused(sfn, context, message):
    """test_state_context_object.snapshot.json, test_state_context_object_validation_failures
    and test_state_context_object_invalid_states[TOKEN_TASK_NOT_SYNC]."""
    assert refusal(
        sfn,
        definition=START_EXECUTION,
        context=json.dumps(context),
        mock={"result": '{"ExecutionArn": "arn", "StartDate": "2025-01-01T00:00:00Z"}'},
    ) == ("ValidationException", f"Invalid Context object provided: {message}")


MAP = {
    "Type": "Map",
    "ItemsPath": "$.Values",
    "ItemProcessor": distributed("TestState"),
    "End": True,
}


@pytest.mark.parametrize(
    ("state", "mock", "configuration", "message"),
    [
        (
            MAP,
            {"result": '{"mock": "array is expected but object is provided instead"}'},
            None,
            "Mocked result must be an array.",
        ),
        (
            MAP
            | {
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "b", "Prefix": "p"},
                }
            },
            {"result": '["object is expected but array is provided instead"]'},
            None,
            "Mocked result must be a JSON object.",
        ),
        (
            PARALLEL,
            {"result": '{"mock": "array expected"}'},
            None,
            "Mocked result must be an array.",
        ),
        (
            MAP,
            {"result": "[1, 1, 1]"},
            {"mapIterationFailureCount": 4},
            "Map iteration failure count must be less than or equal to the number of Map "
            "iterations",
        ),
        (
            MAP,
            None,
            {"mapIterationFailureCount": 0},
            "TestState does not support MapIterationFailureCount when a mock is not specified.",
        ),
    ],
)
def test_a_map_or_parallel_mock_that_does_not_fit_is_refused(
    sfn, state, mock, configuration, message
):
    """test_state_mock_validation.snapshot.json (test_mock_result_is_not_array_on_map_state_
    without_result_writer, ..._with_result_writer, ..._on_parallel_state,
    test_map_iteration_failure_count_exceeds_mock_result_items, ..._without_mock)."""
    request = {"definition": json.dumps(state), "input": '{"Values": [1, 1, 1]}'}
    request |= {"mock": mock} if mock else {}
    request |= {"stateConfiguration": configuration} if configuration else {}
    assert refusal(sfn, **request) == ("ValidationException", message)


def test_a_state_the_name_points_to_must_be_valid(sfn):
    """test_test_state_machine_scenarios.snapshot.json, test_state_name_invalid_state_
    definition: InvalidDefinition (AWS names the schema rule; the local engine, moto's
    parser error)."""
    machine = definition(
        StartAt="ExistingButInvalidState",
        States={"ExistingButInvalidState": {"Type": "NotAType", "End": True}},
    )
    code, message = refusal(sfn, definition=machine, stateName="ExistingButInvalidState")
    assert code == "InvalidDefinition"
    assert message.startswith("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ")


def test_a_parallel_state_needs_branches(sfn):
    """test_state_mock_validation.snapshot.json, test_parallel_state_empty_branches:
    InvalidDefinition."""
    code, _ = refusal(
        sfn,
        definition=definition(Type="Parallel", Branches=[], End=True),
        mock={"result": "[]"},
    )
    assert code == "InvalidDefinition"
