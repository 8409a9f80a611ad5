"""A Task that starts another state machine (states:startExecution, .sync, .sync:2), as AWS
runs it: its history compared, field by field, with AWS's recorded executions (LocalStack's
snapshots, recorded against AWS: services/test_sfn_task_service 2025-11-06,
callback/test_callback 2023-06-30 to 2023-08-12, credentials/test_credentials_base
2024-12-04, error_handling/test_task_service_sfn 2023-06-30, services/test_aws_sdk_task_service
2025-11-06), ARNs and dates normalised as their harness does."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from tests.conformance.stepfunctions.conftest import Machines, output
from tests.conformance.stepfunctions.test_express import PASS_RESULT, create

CONNECT = "https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html"
EXPRESS_CHILD = (
    "https://docs.aws.amazon.com/step-functions/latest/dg/"
    "sample-project-express-selective-checkpointing.html"
)
RAISE_FAILURE = {  # AWS's recordings' BASE_RAISE_FAILURE
    "StartAt": "FailState",
    "States": {
        "FailState": {
            "Type": "Fail",
            "Error": "SomeFailure",
            "Cause": "This state machines raises a 'SomeFailure' failure.",
        }
    },
}
CHILD_EXECUTION = re.compile(r"arn:aws:states:[^\\\"]+:TestStartTarget(?::[0-9a-f-]{36})?")
# StartExecution's answer, as AWS records it (the SDK for Java's fields)
STARTED = ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def start_execution(resource: str) -> dict[str, Any]:
    """AWS's recordings' SFN_START_EXECUTION templates (the resource is theirs)."""
    return {
        "StartAt": "StartExecution",
        "States": {
            "StartExecution": {
                "Type": "Task",
                "Resource": f"arn:aws:states:::states:{resource}",
                "Parameters": {
                    "StateMachineArn.$": "$.StateMachineArn",
                    "Input.$": "$.Input",
                    "Name.$": "$.Name",
                },
                "End": True,
            }
        },
    }


def one_task(resource: str, parameters: dict[str, Any]) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": f"arn:aws:states:::{resource}", "End": True}
    return {"StartAt": "T", "States": {"T": task | {"Parameters": parameters}}}


def run(
    machines: Machines, resource: str, child: dict[str, Any] | str, data: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The parent's DescribeExecution, its history as the recordings show it (from the
    TaskScheduled event on, data parsed, the child's ARNs and dates normalised), the child's
    execution ARN."""
    child_arn = child if isinstance(child, str) else machines.create(child)
    described = machines.run(
        start_execution(resource), {"StateMachineArn": child_arn, "Name": "TestStartTarget"} | data
    )
    events = machines.history(described["executionArn"])[2:]
    started = CHILD_EXECUTION.findall(json.dumps(events, default=str))
    names = {child_arn: "<child>"} | dict.fromkeys(started, "<child-execution>")
    return described, [normalised(event, names) for event in events], started[0] if started else ""


def normalised(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        value.pop("timestamp", None)
        value.pop("id", None)
        value.pop("previousEventId", None)
        return {key: normalised(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [normalised(item, names) for item in value]
    if isinstance(value, str):
        if value in names:
            return names[value]
        if TIMESTAMP.match(value):
            return "date"
        if value[:1] in "{[" and value not in ("{}", "[]"):
            try:
                return normalised(json.loads(value), names)
            except json.JSONDecodeError:
                return value
    return value


def details(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(event for event in events if event["type"] == kind)[
        kind[0].lower() + kind[1:] + "EventDetails"
    ]


def test_start_execution_answers_as_aws_records(machines: Machines):
    # AWS's recorded execution: test_sfn_task_service test_start_execution_input_json
    described, events, child = run(
        machines, "startExecution", PASS_RESULT, {"Input": {"Hello": "World"}}
    )
    assert [event["type"] for event in events] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert details(events, "TaskScheduled") == {
        "parameters": {
            "Input": {"Hello": "World"},
            "StateMachineArn": "<child>",
            "Name": "TestStartTarget",
        },
        "region": "us-east-1",
        "resource": "startExecution",
        "resourceType": "states",
    }
    answer = output(described)
    assert list(answer) == STARTED
    assert child.endswith(":TestStartTarget") and ":execution:" in child
    assert answer["ExecutionArn"] == child
    assert TIMESTAMP.match(answer["StartDate"])
    http = answer["SdkHttpMetadata"]
    assert list(http["AllHttpHeaders"]) == [
        "x-amzn-RequestId",
        "connection",
        "Content-Length",
        "Date",
        "Content-Type",
    ]
    assert list(http["HttpHeaders"]) == [
        "connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "x-amzn-RequestId",
    ]
    assert http["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.0"
    assert http["HttpStatusCode"] == 200
    assert answer["SdkResponseMetadata"] == {"RequestId": http["HttpHeaders"]["x-amzn-RequestId"]}
    started = machines.sfn.describe_execution(executionArn=child)
    assert json.loads(started["input"]) == {"Hello": "World"}


def test_sync_answers_the_childs_description(machines: Machines):
    # AWS's recorded executions: test_callback test_start_execution_sync (an Input of null
    # starts the child on {}); test_credentials_base's, 2024, for the redrive fields
    described, events, _ = run(machines, "startExecution.sync", PASS_RESULT, {"Input": None})
    assert [event["type"] for event in events] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    submitted = details(events, "TaskSubmitted")["output"]
    assert list(submitted) == [
        "ExecutionArn",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StartDate",
    ]
    succeeded = details(events, "TaskSucceeded")
    assert succeeded["resource"] == "startExecution.sync"
    answer = output(described)
    assert answer == {
        "ExecutionArn": answer["ExecutionArn"],
        "Input": "{}",
        "InputDetails": {"Included": True},
        "Name": "TestStartTarget",
        "Output": '{"Arg1":"argument1"}',
        "OutputDetails": {"Included": True},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "StartDate": answer["StartDate"],
        "StateMachineArn": answer["StateMachineArn"],
        "Status": "SUCCEEDED",
        "StopDate": answer["StopDate"],
    }
    assert list(answer) == sorted(answer)  # the SDK for Java's order
    assert TIMESTAMP.match(answer["StartDate"]) and TIMESTAMP.match(answer["StopDate"])


def test_sync2_answers_input_and_output_as_json(machines: Machines):
    # AWS's recorded execution: test_callback test_start_execution_sync2
    described, _, _ = run(machines, "startExecution.sync:2", PASS_RESULT, {"Input": None})
    answer = output(described)
    assert (answer["Input"], answer["Output"]) == ({}, {"Arg1": "argument1"})


def test_sync_waits_for_the_child_on_the_emulators_clock(machines: Machines):
    # .sync waits for the child's end (connect-to-resource.html, Run a Job); the child's
    # hour-long Wait passes when the emulator's clock is moved, not in real time
    child = machines.create(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    )
    before = machines.clock.waiting()  # any other test's waits still on this module's clock
    parent = machines.start(
        start_execution("startExecution.sync:2"),
        {"StateMachineArn": child, "Input": {"k": 1}, "Name": "Waits"},
    )
    # the parent's and the child's executions wait for their ends on the clock, then the
    # child's Wait: moving the clock before the last has begun would leave it an hour to go
    machines.until_waiting(beyond=before + 2)
    assert machines.sfn.describe_execution(executionArn=parent)["status"] == "RUNNING"
    machines.clock.advance(3600)
    answer = output(machines.finished(parent))
    start, stop = (
        datetime.fromisoformat(answer[key].replace("Z", "+00:00"))
        for key in ("StartDate", "StopDate")
    )
    assert (stop - start).total_seconds() >= 3600
    assert answer["Output"] == {"k": 1}


def test_a_failed_child_fails_the_task_with_its_description(machines: Machines):
    # AWS's recorded execution: test_callback test_start_execution_sync_delegate_failure
    described, events, _ = run(machines, "startExecution.sync", RAISE_FAILURE, {"Input": None})
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    failed = details(events, "TaskFailed")
    assert (failed["error"], failed["resource"], failed["resourceType"]) == (
        "States.TaskFailed",
        "startExecution.sync",
        "states",
    )
    cause = failed["cause"]
    recorded = {  # AWS's, 2023 (before redrive, whose fields AWS answers since)
        "Cause": "This state machines raises a 'SomeFailure' failure.",
        "Error": "SomeFailure",
        "ExecutionArn": "<child-execution>",
        "Input": "{}",
        "InputDetails": {"Included": True},
        "Name": "TestStartTarget",
        "StartDate": "date",
        "StateMachineArn": "<child>",
        "Status": "FAILED",
        "StopDate": "date",
    }
    assert {key: cause[key] for key in recorded} == recorded
    assert list(cause) == sorted(cause)
    assert (cause["RedriveCount"], cause["RedriveStatus"]) == (0, "REDRIVABLE")


def test_a_failed_child_is_caught_as_states_task_failed(machines: Machines):
    child = machines.create(RAISE_FAILURE)
    parent = start_execution("startExecution.sync:2")
    parent["States"]["StartExecution"]["Catch"] = [
        {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.caught", "Next": "Caught"}
    ]
    parent["States"]["Caught"] = {"Type": "Pass", "End": True}
    answer = output(machines.run(parent, {"StateMachineArn": child, "Input": {}, "Name": "Caught"}))
    assert answer["caught"]["Error"] == "States.TaskFailed"
    assert json.loads(answer["caught"]["Cause"])["Error"] == "SomeFailure"


def test_no_such_state_machine_is_the_services_error(machines: Machines):
    # AWS's recorded execution: test_task_service_sfn test_start_execution_no_such_arn
    missing = machines.create(PASS_RESULT) + "missing"
    described, events, _ = run(machines, "startExecution", missing, {"Input": None})
    failed = details(events, "TaskFailed")
    assert failed["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert re.fullmatch(
        rf"State Machine Does Not Exist: '{re.escape(missing)}' \(Service: AWSStepFunctions; "
        r"Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: [^;]+; "
        r"Proxy: null\)",
        failed["cause"],
    ), failed["cause"]
    assert described["error"] == "StepFunctions.StateMachineDoesNotExistException"


def test_the_started_by_execution_id_is_the_parents(machines: Machines):
    # connect-stepfunctions.html: AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$ from
    # $$.Execution.Id associates the child with its parent
    parameters = {
        "StateMachineArn": machines.create(PASS_RESULT),
        "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
    }
    described = machines.run(one_task("states:startExecution.sync:2", parameters))
    assert output(described)["Input"] == {
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": described["executionArn"]
    }


def test_an_express_child_runs_to_its_end(machines: Machines):
    # AWS's selective-checkpointing sample: a STANDARD parent runs an EXPRESS child with
    # startExecution.sync (EXPRESS_CHILD); its ARN is one DescribeExecution refuses
    child = create(machines, PASS_RESULT)
    described, _, _ = run(machines, "startExecution.sync:2", child, {"Input": {"k": 1}})
    answer = output(described)
    assert ":express:" in answer["ExecutionArn"]
    assert (answer["Status"], answer["Input"], answer["Output"]) == (
        "SUCCEEDED",
        {"k": 1},
        {"Arg1": "argument1"},
    )


def test_the_aws_sdk_integration_names_parameters_as_the_api(machines: Machines):
    # AWS's recorded execution: test_aws_sdk_task_service
    # test_sfn_start_execution_implicit_json_serialisation (an object Input is sent as text)
    parameters = {"StateMachineArn": machines.create(PASS_RESULT), "Input": {"key": "value"}}
    answer = output(machines.run(one_task("aws-sdk:sfn:startExecution", parameters)))
    assert list(answer) == ["ExecutionArn", "StartDate"]
    started = machines.sfn.describe_execution(executionArn=answer["ExecutionArn"])
    assert json.loads(started["input"]) == {"key": "value"}
