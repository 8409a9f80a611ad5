"""EXPRESS state machines as AWS runs them: what their definitions may not hold, their
executions' ARNs, the calls that refuse them, and StartSyncExecution. AWS's words are its
recorded answers (LocalStack's test_sfn_api_express and express/test_express_sync snapshots,
recorded against AWS in 2024; test_sfn_api's test_start_sync_execution for a STANDARD
machine)."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conformance.stepfunctions.conftest import Machines

INTEGRATIONS = (
    "https://docs.aws.amazon.com/step-functions/latest/dg/connect-supported-services.html"
)
GUARANTEES = (
    "https://docs.aws.amazon.com/step-functions/latest/dg/express-at-least-once-execution.html"
)
START_SYNC = (
    "https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html"
)
PASS_RESULT = {  # AWS's recordings' BASE_PASS_RESULT
    "StartAt": "State_1",
    "States": {"State_1": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}},
}
EXPRESS_ARN = re.compile(
    r"^arn:aws:states:us-east-1:123456789012:express:(?P<machine>[^:]+):(?P<name>[^:]+):"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
WAIT_FOR_TOKEN = {
    "Type": "Task",
    "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
    "Parameters": {"TopicArn.$": "$.TopicArn", "Message": {"TaskToken.$": "$$.Task.Token"}},
    "End": True,
}
START_SYNC_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::states:startExecution.sync",
    "Parameters": {"StateMachineArn.$": "$.StateMachineArn", "Input.$": "$.Input"},
    "End": True,
}
REFUSED = "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine"


def create(machines: Machines, definition: dict[str, Any], kind: str = "EXPRESS") -> str:
    machines.created += 1
    return str(
        machines.sfn.create_state_machine(
            name=f"x{machines.created}",
            definition=json.dumps(definition),
            roleArn=machines.role,
            type=kind,  # type: ignore[arg-type]  # STANDARD or EXPRESS
        )["stateMachineArn"]
    )


def refusal(call: Any, **arguments: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as refused:
        call(**arguments)
    return {**refused.value.response["Error"]}


def one_state(name: str, state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: state}}


@pytest.mark.parametrize(
    ("name", "state", "words"),
    [
        (
            "Publish",
            WAIT_FOR_TOKEN,  # AWS's two spaces before "at"
            " does not support '.waitForTaskToken' service integration  at "
            "/States/Publish/Resource'",
        ),
        (
            "StartExecution",
            START_SYNC_TASK,
            " does not support '.sync' service integration at /States/StartExecution/Resource'",
        ),
    ],
)
def test_an_express_machine_refuses_a_task_that_waits(
    machines: Machines, name: str, state: dict[str, Any], words: str
):
    # INTEGRATIONS: "Express Workflows do not support Run a Job (.sync) or Wait for Callback
    # (.waitForTaskToken)"; AWS's recorded refusals (test_illegal_callbacks).
    error = refusal(
        machines.sfn.create_state_machine,
        name=f"refused-{name}",
        definition=json.dumps(one_state(name, state)),
        roleArn=machines.role,
        type="EXPRESS",
    )
    assert (error["Code"], error["Message"]) == ("InvalidDefinition", REFUSED + words)
    assert create(machines, one_state(name, state), "STANDARD")  # a STANDARD one takes it


def test_an_express_machine_refuses_an_activity(machines: Machines):
    # AWS's recorded refusal (test_illegal_activity_task).
    activity = machines.sfn.create_activity(name="worker")["activityArn"]
    task = {"Type": "Task", "Resource": activity, "End": True}
    error = refusal(create, machines=machines, definition=one_state("ActivityTask", task))
    assert error["Message"] == (
        f"{REFUSED} does not support Activity ARN at /States/ActivityTask/Resource'"
    )


def test_a_task_that_waits_is_refused_in_a_branch_and_an_iteration_too(machines: Machines):
    # The recordings refuse top-level states; a nested state is named by its path as AWS
    # names one in any other refusal (/States/P/Branches[0]/States/...): ours.
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [one_state("Publish", WAIT_FOR_TOKEN)],
                "Next": "M",
            },
            "M": {
                "Type": "Map",
                "ItemProcessor": one_state("StartExecution", START_SYNC_TASK),
                "End": True,
            },
        },
    }
    error = refusal(create, machines=machines, definition=definition)
    assert error["Message"] == (
        f"{REFUSED} does not support '.waitForTaskToken' service integration  at "
        "/States/P/Branches[0]/States/Publish/Resource, SCHEMA_VALIDATION_FAILED: Express "
        "state machine does not support '.sync' service integration at "
        "/States/M/ItemProcessor/States/StartExecution/Resource'"
    )


def test_an_express_machine_updated_to_a_task_that_waits_is_refused(machines: Machines):
    machine = create(machines, PASS_RESULT)
    error = refusal(
        machines.sfn.update_state_machine,
        stateMachineArn=machine,
        definition=json.dumps(one_state("StartExecution", START_SYNC_TASK)),
    )
    assert error["Message"].startswith(f"{REFUSED} does not support '.sync'")
    definition = machines.sfn.describe_state_machine(stateMachineArn=machine)["definition"]
    assert json.loads(definition) == PASS_RESULT


def test_an_express_execution_has_awss_arn_and_a_name_may_be_used_again(machines: Machines):
    # AWS's recorded ARN: arn:...:express:<machine>:<name>:<uuid>; GUARANTEES: "Starting
    # multiple workflows with the same name results in concurrent executions".
    machine = create(machines, PASS_RESULT)
    arns = [
        machines.sfn.start_execution(stateMachineArn=machine, name="again")["executionArn"]
        for _ in range(2)
    ]
    assert arns[0] != arns[1]
    for arn in arns:
        found = EXPRESS_ARN.match(arn)
        assert found is not None, arn
        assert (found["machine"], found["name"]) == (machine.split(":")[-1], "again")


def test_an_express_execution_is_not_described_listed_stopped_or_its_history_read(
    machines: Machines,
):
    # AWS's recorded answers (test_start_async_describe_history_execution).
    machine = create(machines, PASS_RESULT)
    arn = machines.sfn.start_execution(stateMachineArn=machine)["executionArn"]
    for call in (
        machines.sfn.describe_execution,
        machines.sfn.stop_execution,
        machines.sfn.get_execution_history,
    ):
        assert refusal(call, executionArn=arn) == {
            "Code": "InvalidArn",
            "Message": "Invalid Arn: 'Resource type not valid in this context: express'",
        }
    assert refusal(machines.sfn.list_executions, stateMachineArn=machine) == {
        "Code": "StateMachineTypeNotSupported",
        "Message": "This operation is not supported by this type of state machine",
    }


def test_an_express_execution_runs(machines: Machines):
    # Started, it runs as on AWS, where only its logs show it: here its SQS message.
    queue = boto3.client("sqs").create_queue(QueueName="express-ran")["QueueUrl"]
    send = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": queue, "MessageBody.$": "$.said"},
        "End": True,
    }
    machine = create(machines, one_state("Send", send))
    machines.sfn.start_execution(stateMachineArn=machine, input=json.dumps({"said": "hello"}))
    pause = threading.Event()
    for _ in range(500):  # 10 ms at a time, 5 s at most
        messages = boto3.client("sqs").receive_message(QueueUrl=queue).get("Messages", [])
        if messages:
            assert [m["Body"] for m in messages] == ["hello"]
            return
        pause.wait(0.01)
    raise AssertionError("the express execution sent nothing")


def test_a_sync_execution_answers_what_it_did(machines: Machines):
    # AWS's recorded answer (test_start_sync_execution, BASE_PASS_RESULT).
    machine = create(machines, PASS_RESULT)
    answer: dict[str, Any] = {
        **machines.sfn.start_sync_execution(stateMachineArn=machine, input="{}")
    }
    answer.pop("ResponseMetadata")
    found = EXPRESS_ARN.match(answer.pop("executionArn"))
    assert found is not None
    assert answer.pop("stopDate") >= answer.pop("startDate")
    assert answer == {
        "billingDetails": {"billedDurationInMilliseconds": 100, "billedMemoryUsedInMB": 64},
        "input": "{}",
        "inputDetails": {"included": True},
        "name": found["name"],
        "output": '{"Arg1":"argument1"}',
        "outputDetails": {"included": True},
        "stateMachineArn": machine,
        "status": "SUCCEEDED",
    }


def test_a_failed_sync_execution_answers_its_error_and_cause(machines: Machines):
    # AWS's recorded answer (test_base[BASE_RAISE_FAILURE]): no output, its outputDetails.
    fail = {
        "Type": "Fail",
        "Error": "SomeFailure",
        "Cause": "This state machines raises a 'SomeFailure' failure.",
    }
    machine = create(machines, one_state("FailState", fail))
    answer = machines.sfn.start_sync_execution(stateMachineArn=machine, name="failing")
    assert answer["name"] == "failing"
    assert (answer["status"], answer["error"], answer["cause"]) == (
        "FAILED",
        "SomeFailure",
        "This state machines raises a 'SomeFailure' failure.",
    )
    assert "output" not in answer
    assert answer["outputDetails"] == {"included": True}


def test_a_sync_execution_runs_on_the_emulators_clock(machines: Machines):
    # START_SYNC: status SUCCEEDED, FAILED or TIMED_OUT. The execution runs in the caller's
    # thread: another moves the clock once its waits have begun; the bill counts the clock's
    # time in 100 ms steps, as AWS's recorded bills do.
    wait = {"Type": "Wait", "Seconds": 60, "End": True}
    for definition, seconds, status in (
        (one_state("W", wait), 60, "SUCCEEDED"),
        ({**one_state("W", wait), "TimeoutSeconds": 1}, 1, "TIMED_OUT"),
    ):
        machine = create(machines, definition)
        mover = threading.Thread(target=moved, args=(machines, seconds))
        mover.start()
        answer = machines.sfn.start_sync_execution(stateMachineArn=machine)
        mover.join()
        assert answer["status"] == status
        billed = answer["billingDetails"]["billedDurationInMilliseconds"]
        assert billed >= seconds * 1000 and billed % 100 == 0
    machines.clock.advance(60)  # ends the Wait the timed-out execution left behind


def moved(machines: Machines, seconds: float) -> None:
    machines.until_waiting()
    machines.clock.advance(seconds)


def test_a_standard_machine_refuses_a_sync_execution(machines: Machines):
    # START_SYNC: "StartSyncExecution is not available for STANDARD workflows"; AWS's recorded
    # answer (test_sfn_api's test_start_sync_execution).
    machine = machines.create(PASS_RESULT)
    assert refusal(machines.sfn.start_sync_execution, stateMachineArn=machine) == {
        "Code": "StateMachineTypeNotSupported",
        "Message": "This operation is not supported by this type of state machine",
    }
    assert machines.sfn.list_executions(stateMachineArn=machine)["executions"] == []
