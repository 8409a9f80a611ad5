"""What the Step Functions API answers around the interpreter: definitions refused at
creation, unnamed executions, outputs that hold the context object."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.parse import asl_parser

from tests.conformance.stepfunctions.conftest import Machines, output, query_evaluation_cause
from tests.helpers import until

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.type_defs import TagTypeDef

START = "https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html"
DESCRIBE = (
    "https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html"
)
FOR_EXECUTION = (
    "https://docs.aws.amazon.com/step-functions/latest/apireference/"
    "API_DescribeStateMachineForExecution.html"
)
CONTEXT = "https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html"
TRANSFORMING = "https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html"
QUOTAS = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
EXITED = "https://docs.aws.amazon.com/step-functions/latest/apireference/API_StateExitedEventDetails.html"
PASS = {"Type": "Pass", "End": True}
REDRIVE_FIELDS = ("inputDetails", "redriveCount", "redriveStatus", "redriveStatusReason")


def test_an_execution_started_without_a_name_is_named_with_a_uuid(machines: Machines):
    # START: "If you don't provide a name for the execution, Step Functions automatically
    # generates a universally unique identifier (UUID) as the execution name."
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    first = machines.sfn.start_execution(stateMachineArn=machine)["executionArn"]
    second = machines.sfn.start_execution(stateMachineArn=machine)["executionArn"]
    names = [machines.finished(arn)["name"] for arn in (first, second)]
    assert names[0] != names[1]
    assert all(uuid.UUID(name) for name in names)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("bad name", "InvalidName"),
        ("a?b", "InvalidName"),
        ("x" * 81, "ValidationException"),
    ],
)
def test_an_execution_name_aws_refuses_is_refused(machines: Machines, name: str, code: str):
    # START: the name "must not contain: white space, brackets < > { } [ ], wildcard
    # characters ? *, special characters " # % \ ^ | ~ ` $ & , ; : /"; length 1 to 80.
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    with pytest.raises(ClientError) as refused:
        machines.sfn.start_execution(stateMachineArn=machine, name=name)
    assert refused.value.response["Error"]["Code"] == code
    assert machines.sfn.list_executions(stateMachineArn=machine)["executions"] == []


def test_an_input_over_256_kib_is_refused(machines: Machines):
    # START: input "Length Constraints: Maximum length of 262144"; a payload's size is that
    # of its UTF-8 bytes (the quotas page). AWS does not repeat a sensitive field's value.
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    most = json.dumps({"s": "x" * (262_144 - 9)})
    assert len(most.encode()) == 262_144
    assert machines.sfn.start_execution(stateMachineArn=machine, input=most)["executionArn"]
    with pytest.raises(ClientError) as refused:
        machines.sfn.start_execution(
            stateMachineArn=machine, input=json.dumps({"s": "x" * (262_144 - 8)})
        )
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ValidationException",
        "1 validation error detected: Value at 'input' failed to satisfy constraint: Member "
        "must have length less than or equal to 262144",
    )


def test_a_described_execution_says_whether_it_can_be_redriven(machines: Machines):
    # DESCRIBE: inputDetails, redriveCount ("If you have not yet redriven an execution, the
    # redriveCount is 0"), redriveStatus and redriveStatusReason; the values as AWS's recorded
    # answers show them (LocalStack's snapshots: "Execution is SUCCEEDED and cannot be
    # redriven"; a failed or timed-out one REDRIVABLE, without a reason). moto left them out.
    succeeded = machines.run({"StartAt": "P", "States": {"P": PASS}})
    assert {key: succeeded[key] for key in REDRIVE_FIELDS} == {
        "inputDetails": {"included": True},
        "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
    }
    failed = machines.run({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})
    assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE")
    assert "redriveStatusReason" not in failed


def test_an_output_holding_the_context_object_is_described(machines: Machines):
    # CONTEXT: the context object's Execution.StartTime is an ISO 8601 time; an output that
    # holds it is JSON like any other (moto answered DescribeExecution with an HTML 500).
    states = {"P": {"Type": "Pass", "Parameters": {"context.$": "$$"}, "End": True}}
    found = output(machines.run({"StartAt": "P", "States": states}))
    execution = found["context"]["Execution"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", execution["StartTime"])
    assert found["context"]["State"]["Name"] == "P"


def test_a_string_output_is_json_text(machines: Machines):
    states = {"P": {"Type": "Pass", "Result": "done", "End": True}}
    described = machines.run({"StartAt": "P", "States": states})
    assert described["output"] == '"done"'


def _started_with_text(machines: Machines, definition: dict[str, Any], data: Any) -> str:
    """An execution whose input is sent as UTF-8 text, its characters unescaped."""
    machine = machines.create(definition)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return str(machines.sfn.start_execution(stateMachineArn=machine, input=text)["executionArn"])


def test_text_keeps_its_characters_in_outputs_and_the_history(machines: Machines):
    # QUOTAS: a state's input or output is "256 KiB of data as a UTF-8 encoded string"; the
    # history's texts are measured "as bytes in UTF-8 encoding" (EXITED). No recording shows
    # non-ASCII data: that AWS writes the characters themselves, as the execution's input
    # keeps them, is our reading. moto escaped them: "Jos\u00e9 \ud83d\ude00".
    kept = '{"s":"José 😀"}'
    jsonpath = {"StartAt": "P", "States": {"P": PASS}}
    arn = _started_with_text(machines, jsonpath, {"s": "José 😀"})
    assert machines.finished(arn)["output"] == kept
    outputs = {
        event["type"]: details["output"]
        for event in machines.history(arn)
        for key, details in event.items()
        if key.endswith("EventDetails") and "output" in details
    }
    assert outputs == {"PassStateExited": kept, "ExecutionSucceeded": kept}
    map_state = {"Type": "Map", "ItemsPath": "$.names", "Iterator": jsonpath, "Next": "J"}
    jsonata_state = {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Assign": {"v": "{% $states.input[0] & 'ü' %}"},
        "Output": {"kept": "{% $states.input %}", "literal": "ñ"},
        "End": True,
    }
    states = {"M": map_state, "J": jsonata_state}
    arn = _started_with_text(machines, {"StartAt": "M", "States": states}, {"names": ["Zoë"]})
    assert machines.finished(arn)["output"] == '{"kept":["Zoë"],"literal":"ñ"}'
    exited = [e for e in machines.history(arn) if e["type"] == "PassStateExited"][-1]
    assert exited["stateExitedEventDetails"]["assignedVariables"] == {"v": '"Zoëü"'}


def test_the_payload_quota_counts_utf8_bytes(machines: Machines):
    # QUOTAS: 256 KiB "as a UTF-8 encoded string". 100,000 é are 200,009 bytes of input: the
    # Pass succeeds (moto counted 600,009, each é escaped, and failed it with
    # States.DataLimitExceeded); doubled by Parameters they are over the quota.
    data = {"s": "é" * 100_000}
    arn = _started_with_text(machines, {"StartAt": "P", "States": {"P": PASS}}, data)
    assert output(machines.finished(arn)) == data
    doubled = {**PASS, "Parameters": {"a.$": "$.s", "b.$": "$.s"}}
    arn = _started_with_text(machines, {"StartAt": "P", "States": {"P": doubled}}, data)
    described = machines.finished(arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")


@pytest.mark.parametrize("text", ['"\\ud83d"', '{"s": "a\\ud83d"}'])
def test_a_lone_surrogate_in_the_data_is_measured_escaped(machines: Machines, text: str):
    # JSON may hold half of a surrogate pair (RFC 8259, 8.2); it has no UTF-8 form, so the
    # quota measures it escaped, as the text writes it. moto's measure of a string data
    # raised Python's UnicodeEncodeError, and the state failed with States.Runtime.
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    arn = machines.sfn.start_execution(stateMachineArn=machine, input=text)["executionArn"]
    described = machines.finished(arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == json.loads(text)


@pytest.mark.parametrize(
    ("language", "state"),
    [
        ("JSONata", {"Type": "Pass", "Output": "{% null %}", "End": True}),
        ("JSONPath", {"Type": "Pass", "Result": None, "End": True}),
    ],
)
def test_a_null_output_is_described_as_null(
    machines: Machines, language: str, state: dict[str, Any]
):
    # DESCRIBE: output is "The JSON output data of the execution", given once it SUCCEEDED;
    # the history's ExecutionSucceeded carries the text null, as AWS's recorded executions of
    # a null output do (outputdecl/test_output[NULL]). moto left output out for a null one.
    described = machines.run({"QueryLanguage": language, "StartAt": "P", "States": {"P": state}})
    assert described["status"] == "SUCCEEDED"
    assert (described["output"], described["outputDetails"]) == ("null", {"included": True})


@pytest.mark.parametrize(
    ("states", "message"),
    [
        (
            {"P": {"Type": "Pass", "Output": "{% 1 + %}", "End": True}},
            "INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/P/Output",
        ),
        (
            {"P": {"Type": "Pass", "Output": {"v": "{% phone %}"}, "End": True}},
            "UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not "
            "supported. at /States/P/Output/v",
        ),
        (
            {"P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
            "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to "
            "'JSONata' for whole state machine at /States/P",
        ),
        (
            {"P": {"Type": "Pass", "Parameters": {"a": 1}, "End": True}},
            "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field "
            "'Parameters' is only supported for the 'JSONPath' QueryLanguage at /States/P",
        ),
        (  # the States Language: "All non-terminal states MUST have a Next field" (our words)
            {"P": {"Type": "Pass"}},
            "SCHEMA_VALIDATION_FAILED: A state of this type must have either a 'Next' field or "
            "'End': true at /States/P",
        ),
    ],
)
def test_a_definition_aws_refuses_is_refused_at_creation(machines: Machines, states, message):
    # TRANSFORMING: JSONata states have no JSONPath fields, a JSONata state machine no
    # JSONPath state, and expressions are parsed when the definition is created.
    before = machines.sfn.list_state_machines()["stateMachines"]
    with pytest.raises(ClientError) as refused:
        machines.create({"QueryLanguage": "JSONata", "StartAt": "P", "States": states})
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidDefinition"
    assert error["Message"] == f"Invalid State Machine Definition: '{message}'"
    assert machines.sfn.list_state_machines()["stateMachines"] == before


FAIL = {"Type": "Fail"}


@pytest.mark.parametrize(
    ("language", "state", "at", "field"),
    [
        ("JSONata", {"Type": "Fail", "ErrorPath": "$.e"}, "/States/S", "ErrorPath"),
        (
            "JSONata",
            {"Type": "Wait", "SecondsPath": "$.s", "End": True},
            "/States/S",
            "SecondsPath",
        ),
        (
            "JSONata",
            {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "F"}]},
            "/States/S/Choices[0]",
            "Variable",
        ),
        (
            "JSONata",
            {
                "Type": "Parallel",
                "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "F"}],
                "End": True,
            },
            "/States/S/Catch[0]",
            "ResultPath",
        ),
        ("JSONPath", {"Type": "Pass", "Output": {"a": 1}, "End": True}, "/States/S", "Output"),
        (
            "JSONPath",
            {"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "F"}]},
            "/States/S/Choices[0]",
            "Condition",
        ),
    ],
)
def test_a_field_of_the_other_query_language_is_refused_in_awss_words(
    machines: Machines, language: str, state: dict[str, Any], at: str, field: str
):
    # TRANSFORMING: each query language has fields of its own (ErrorPath, SecondsPath, a
    # rule's Variable, a catcher's ResultPath are JSONPath's; Output, a rule's Condition
    # JSONata's). moto's preprocessor failed on the first kind half-way, in words of its own.
    other = "JSONPath" if language == "JSONata" else "JSONata"
    states = {"S": state, "F": FAIL} if '"F"' in json.dumps(state) else {"S": state}
    definition = {"QueryLanguage": language, "StartAt": "S", "States": states}
    with pytest.raises(ClientError) as refused:
        machines.create(definition)
    assert refused.value.response["Error"]["Message"] == (
        f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The QueryLanguage is "
        f"set to '{language}', but field '{field}' is only supported for the '{other}' "
        f"QueryLanguage at {at}'"
    )


def test_a_definition_refused_half_way_through_its_parse_leaves_the_next_one_alone(
    machines: Machines,
):
    # moto kept the query languages' scopes on its preprocessor's class: a JSONata parse that
    # failed half-way left them holding JSONata, and the next JSONPath definition of the
    # process was read as JSONata (its SecondsPath refused).
    fail = {"Type": "Fail", "CausePath": "$.c"}
    refused = {"QueryLanguage": "JSONata", "StartAt": "F", "States": {"F": fail}}
    with pytest.raises(ValueError, match="Unsupported declaration"):  # as moto's parser saw it
        asl_parser.AmazonStateLanguageParser.parse(json.dumps(refused))
    waits = {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}
    assert machines.run({"StartAt": "W", "States": waits}, {"s": 0})["status"] == "SUCCEEDED"


def test_a_transition_to_no_state_and_a_state_none_reaches_are_refused(machines: Machines):
    # AWS's words, as its answers are quoted (LocalStack pull request 12487; CDK issue
    # 25798): "MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next,
    # MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2". moto
    # accepted both and failed the execution with "No such state None" when it got there.
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "Nowhere"}}}
    catcher = {"ErrorEquals": ["States.ALL"], "Next": "Gone"}
    states = {
        "pass1": {"Type": "Parallel", "Branches": [branch], "Catch": [catcher], "Next": "pass3"},
        "pass2": PASS,
    }
    with pytest.raises(ClientError) as refused:
        machines.create({"StartAt": "pass1", "States": states})
    assert refused.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: '"
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, "
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone at /States/pass1/Catch[0]/Next, "
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at "
        "/States/pass1/Branches[0]/States/B/Next, "
        'MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2\''
    )


def test_a_states_language_is_that_of_the_map_or_parallel_that_holds_it(machines: Machines):
    # A JSONata Map in a JSONPath state machine: its children are JSONata, as the engine (and
    # moto's interpreter) runs them; a JSONPath field there is refused in AWS's words (it
    # passed, and moto refused the definition in its own).
    child = {"StartAt": "C", "States": {"C": {**PASS, "Output": {"a": "{% 1 %}"}}}}
    jsonata_map = {"Type": "Map", "QueryLanguage": "JSONata", "Items": [1], "End": True}
    ran = machines.run({"StartAt": "M", "States": {"M": {**jsonata_map, "ItemProcessor": child}}})
    assert output(ran) == [{"a": 1}]
    child = {"StartAt": "C", "States": {"C": {**PASS, "Parameters": {"a": 1}}}}
    with pytest.raises(ClientError) as refused:
        machines.create({"StartAt": "M", "States": {"M": {**jsonata_map, "ItemProcessor": child}}})
    assert refused.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The QueryLanguage is set "
        "to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' "
        "QueryLanguage at /States/M/ItemProcessor/States/C'"
    )


@pytest.mark.parametrize("field", ["Branches", "Catch", "Choices"])
def test_a_field_that_is_no_array_is_refused_not_a_server_error(machines: Machines, field: str):
    state = {"Type": "Choice" if field == "Choices" else "Parallel", field: 3}
    with pytest.raises(ClientError) as refused:
        machines.create({"StartAt": "S", "States": {"S": state}})
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"


def test_a_function_that_does_not_exist_fails_when_it_runs(machines: Machines):
    # AWS parses expressions at creation but resolves functions when they run: calling one
    # that does not exist is T1006, like $eval (recorded AWS executions; see docs/jsonata.md).
    states = {"P": {"Type": "Pass", "Output": "{% $noSuchFunction(1) %}", "End": True}}
    described = machines.run({"QueryLanguage": "JSONata", "StartAt": "P", "States": states})
    assert query_evaluation_cause(described).endswith(
        "threw an error during evaluation. T1006: Attempted to invoke a non-function"
    )
    assert "Traceback" not in described["cause"]


def test_a_version_arn_starts_an_execution_of_that_version(machines: Machines):
    # START: "If you provide a qualified state machine ARN that refers to a version ARN or an
    # alias ARN, the request starts execution for that version or alias." DESCRIBE:
    # stateMachineVersionArn is "the ARN of the state machine version associated with the
    # execution". FOR_EXECUTION: the definition of "a state machine that was used to start an
    # execution" -- the version's, though the state machine has changed since.
    published = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "v1", "End": True}}}
    created = machines.sfn.create_state_machine(
        name="versioned", definition=json.dumps(published), roleArn=machines.role, publish=True
    )
    machine, version = created["stateMachineArn"], created["stateMachineVersionArn"]
    changed = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "v2", "End": True}}}
    machines.sfn.update_state_machine(stateMachineArn=machine, definition=json.dumps(changed))
    arn = machines.sfn.start_execution(stateMachineArn=version, name="run-1")["executionArn"]
    described = machines.finished(arn)
    assert output(described) == "v1"
    assert (described["stateMachineArn"], described["stateMachineVersionArn"]) == (machine, version)
    ran = machines.sfn.describe_state_machine_for_execution(executionArn=arn)
    assert (json.loads(ran["definition"]), ran["stateMachineArn"]) == (published, machine)
    for listed_by in (machine, version):
        listed = machines.sfn.list_executions(stateMachineArn=listed_by)["executions"]
        assert [e["executionArn"] for e in listed] == [arn]
    with pytest.raises(ClientError) as taken:  # the name is the state machine's
        machines.sfn.start_execution(stateMachineArn=machine, name="run-1")
    assert taken.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_a_status_filter_that_is_no_status_is_refused(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html:
    # statusFilter is one of the execution statuses; AWS's recorded answer to "succeeded".
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    with pytest.raises(ClientError) as refused:
        machines.sfn.list_executions(
            stateMachineArn=machine,
            statusFilter="succeeded",  # type: ignore[arg-type]  # what AWS refuses
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, "
        "PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
    )


def test_a_stopped_execution_records_no_empty_error_or_cause(machines: Machines):
    # StopExecution without an error or a cause: AWS's recorded ExecutionAborted has neither.
    arn = machines.start(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    )
    machines.until_waiting()
    machines.sfn.stop_execution(executionArn=arn)
    assert machines.finished(arn)["status"] == "ABORTED"
    (aborted,) = [e for e in machines.history(arn) if e["type"] == "ExecutionAborted"]
    assert aborted["executionAbortedEventDetails"] == {}


def test_a_stopped_execution_records_the_error_and_cause_it_was_stopped_with(
    machines: Machines,
):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html
    # and API_ExecutionAbortedEventDetails.html: the abort carries StopExecution's error and
    # cause (moto dropped both).
    arn = machines.start(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    )
    machines.until_waiting()
    machines.sfn.stop_execution(executionArn=arn, error="Operator.Stop", cause="replaced")
    assert machines.finished(arn)["status"] == "ABORTED"
    (aborted,) = [e for e in machines.history(arn) if e["type"] == "ExecutionAborted"]
    details = aborted["executionAbortedEventDetails"]
    assert details == {"error": "Operator.Stop", "cause": "replaced"}


def test_an_execution_longer_than_the_state_machines_timeout_times_out_on_the_clock(
    machines: Machines,
):
    # https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html
    # (TimeoutSeconds: an execution that runs longer fails with States.Timeout). moto joined
    # the execution's thread for that many real seconds, whatever the emulator's clock said
    # (and `make run --speed 20` let the minute's wait below end first).
    before = machines.clock.waiting()  # any other test's waits still on this module's clock
    arn = machines.start(
        {
            "TimeoutSeconds": 5,
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
        }
    )
    until(lambda: machines.clock.waiting() >= before + 2, "the execution's and the state's waits")
    machines.clock.advance(4)
    assert machines.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    machines.clock.advance(1)
    assert machines.finished(arn)["status"] == "TIMED_OUT"
    assert machines.history(arn)[-1]["type"] == "ExecutionTimedOut"


def test_a_state_machines_versions_are_listed_newest_first(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListStateMachineVersions.html
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    first, second = (
        machines.sfn.update_state_machine(
            stateMachineArn=machine,
            definition=json.dumps({"StartAt": name, "States": {name: PASS}}),
            publish=True,
        )
        for name in ("Q", "R")
    )
    listed = machines.sfn.list_state_machine_versions(stateMachineArn=machine)
    arns = [v["stateMachineVersionArn"] for v in listed["stateMachineVersions"]]
    assert arns == [second["stateMachineVersionArn"], first["stateMachineVersionArn"]]
    page = machines.sfn.list_state_machine_versions(stateMachineArn=machine, maxResults=1)
    rest = machines.sfn.list_state_machine_versions(
        stateMachineArn=machine, maxResults=1, nextToken=page["nextToken"]
    )
    assert [
        v["stateMachineVersionArn"]
        for v in page["stateMachineVersions"] + rest["stateMachineVersions"]
    ] == arns
    assert "nextToken" not in rest


def test_a_versions_page_token_not_answered_is_refused(machines: Machines):
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    with pytest.raises(ClientError) as refused:
        machines.sfn.list_state_machine_versions(stateMachineArn=machine, nextToken="nope")
    assert refused.value.response["Error"]["Code"] == "InvalidToken"


def test_a_history_is_answered_a_page_at_a_time(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html:
    # maxResults "The maximum number of results that are returned per call ... the default
    # is 100"; nextToken to "obtain further pages"; InvalidToken "The provided token is not
    # valid"; includeExecutionData "whether execution data (input or output of a history
    # event) is returned". moto answered every event at once, data included.
    passes: dict[str, Any] = {f"P{i}": {"Type": "Pass", "Next": f"P{i + 1}"} for i in range(60)}
    passes["P60"] = PASS
    arn = machines.start({"StartAt": "P0", "States": passes}, {"a": 1})
    assert machines.finished(arn)["status"] == "SUCCEEDED"
    every = machines.history(arn)  # through the paginator
    assert len(every) == 124 and [e["id"] for e in every] == list(range(1, 125))
    first = machines.sfn.get_execution_history(executionArn=arn)
    assert len(first["events"]) == 100
    rest = machines.sfn.get_execution_history(executionArn=arn, nextToken=first["nextToken"])
    assert [e["id"] for e in rest["events"]] == list(range(101, 125))
    assert "nextToken" not in rest
    newest = machines.sfn.get_execution_history(executionArn=arn, maxResults=2, reverseOrder=True)
    assert [e["type"] for e in newest["events"]] == ["ExecutionSucceeded", "PassStateExited"]
    bare = machines.sfn.get_execution_history(executionArn=arn, includeExecutionData=False)
    started = bare["events"][0]["executionStartedEventDetails"]
    assert "input" not in started and started["inputDetails"] == {"truncated": False}
    with pytest.raises(ClientError) as refused:
        machines.sfn.get_execution_history(executionArn=arn, nextToken="garbage")
    assert refused.value.response["Error"]["Code"] == "InvalidToken"
    with pytest.raises(ClientError) as refused:  # maxResults: "Maximum value of 1000"
        machines.sfn.get_execution_history(executionArn=arn, maxResults=1001)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize(
    ("retriers", "at"),
    [
        ([{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}], "Retry[0]/ErrorEquals[0]"),
        ([{"ErrorEquals": ["X", "States.ALL"]}], "Retry[0]/ErrorEquals[1]"),
    ],
)
def test_states_all_not_alone_at_the_end_is_refused(
    machines: Machines, retriers: list[dict[str, Any]], at: str
):
    # AWS's words as its answer is quoted (CDK issue 10530): "SCHEMA_VALIDATION_FAILED:
    # States.ALL must appear alone and at end of list at /States/lambdaInvoke/Retry[0]/
    # ErrorEquals[0]". moto took the first and refused the second in words of its own.
    branch = {"StartAt": "B", "States": {"B": PASS}}
    parallel = {"Type": "Parallel", "Branches": [branch], "Retry": retriers, "End": True}
    with pytest.raises(ClientError) as refused:
        machines.create({"StartAt": "P", "States": {"P": parallel}})
    assert refused.value.response["Error"]["Message"] == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: States.ALL must appear "
        f"alone and at end of list at /States/P/{at}'"
    )


RECORDED = "LocalStack snapshot v2/test_sfn_api.snapshot.json"


def _refusal(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**request)
    error = refused.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            "not some json",
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or "
            "token 'null', 'true' or 'false')",
        ),
        (
            "{'not': 'json'",
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name",
        ),
        ("", "Invalid execution input."),
    ],
)
def test_an_input_that_is_not_json_is_refused_in_awss_words(
    machines: Machines, text: str, why: str
):
    # AWS's recorded answers (RECORDED, test_invalid_start_execution_input, 2024).
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    assert _refusal(machines.sfn.start_execution, stateMachineArn=machine, input=text) == (
        "InvalidExecutionInput",
        f"Invalid State Machine Execution Input: '{why}'",
    )


def test_list_requests_over_the_models_limits_are_refused(machines: Machines):
    # AWS's recorded answers (RECORDED, test_list_sms_pagination,
    # test_list_executions_pagination, July 2024): maxResults over 1000, a nextToken longer
    # than its member allows (botocore's model: 1024 for ListStateMachines, 3096 for
    # ListExecutions).
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    sfn = machines.sfn
    expected = (
        "ValidationException",
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000",
    )
    assert _refusal(sfn.list_state_machines, maxResults=1001) == expected
    assert _refusal(sfn.list_executions, stateMachineArn=machine, maxResults=1001) == expected
    for call, extra, most in (
        (sfn.list_state_machines, {}, 1024),
        (sfn.list_executions, {"stateMachineArn": machine}, 3096),
    ):
        token = "x" * (most + 1)
        assert _refusal(call, nextToken=token, **extra) == (
            "ValidationException",
            f"1 validation error detected: Value '{token}' at 'nextToken' failed to satisfy "
            f"constraint: Member must have length less than or equal to {most}",
        )


def test_a_call_the_engine_answers_itself_is_checked_against_the_model_first(
    machines: Machines,
):
    # StartSyncExecution and ListStateMachineVersions are answered by the engine's own
    # patches; a request breaking the model gets the same ValidationException as any other
    # (boto3 without its own checks, as a client in another language sends it). They failed
    # with a Python TypeError (a 500 over HTTP), and took a maxResults of 5000.
    unchecked = boto3.client("stepfunctions", config=Config(parameter_validation=False))
    code, message = _refusal(unchecked.start_sync_execution)
    assert code == "ValidationException"
    assert "'stateMachineArn' failed to satisfy constraint: Member must not be null" in message
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    code, message = _refusal(
        unchecked.list_state_machine_versions, stateMachineArn=machine, maxResults=5000
    )
    assert (code, message) == (
        "ValidationException",
        "1 validation error detected: Value '5000' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000",
    )


def test_an_arn_that_does_not_start_as_one_is_an_invalid_arn(machines: Machines):
    # AWS's recorded answers (RECORDED, test_describe_execution_invalid_arn,
    # test_describe_invalid_arn_sm, test_list_execution_invalid_arn, March 2024).
    sfn = machines.sfn
    for call, member in (
        (sfn.describe_execution, "executionArn"),
        (sfn.get_execution_history, "executionArn"),
        (sfn.describe_state_machine, "stateMachineArn"),
        (sfn.list_executions, "stateMachineArn"),
    ):
        assert _refusal(call, **{member: "garbage"}) == (
            "InvalidArn",
            "Invalid Arn: 'Invalid ARN prefix: garbage'",
        )


def test_only_a_state_machine_or_an_activity_is_tagged(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_TagResource.html:
    # ResourceNotFound, "Only state machine and activity ARNs are supported", in AWS's words
    # for a version's ARN (LocalStack snapshot v2/test_sfn_api_tagging.snapshot.json,
    # test_tag_state_machine_version, 2023).
    sfn = machines.sfn
    machine = machines.create({"StartAt": "P", "States": {"P": PASS}})
    execution = sfn.start_execution(stateMachineArn=machine, name="tagged")["executionArn"]
    tags: list[TagTypeDef] = [{"key": "k", "value": "v"}]
    for arn in (f"{machine}x", execution):
        not_found = ("ResourceNotFound", f"Resource not found: '{arn}'")
        assert _refusal(sfn.tag_resource, resourceArn=arn, tags=tags) == not_found
        assert _refusal(sfn.untag_resource, resourceArn=arn, tagKeys=["k"]) == not_found
        assert _refusal(sfn.list_tags_for_resource, resourceArn=arn) == not_found
    assert _refusal(sfn.tag_resource, resourceArn="garbage", tags=tags) == (
        "InvalidArn",
        "Invalid Arn: 'Invalid ARN prefix: garbage'",
    )
    sfn.tag_resource(resourceArn=machine, tags=tags)
    assert sfn.list_tags_for_resource(resourceArn=machine)["tags"] == tags


# AWS's recorded answers: LocalStack snapshot v2/test_sfn_api_variable_references, 2024-11-20
# (its recorder sorts each state's list, so AWS's order is not recorded).
VARIABLE_REFERENCES = (
    "https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachine.html"
)
_GUESS = {"Type": "Pass", "Assign": {"guess": "g", "answer": "a"}, "Next": "CheckAnswer"}
_CHECK = {
    "Type": "Choice",
    "Choices": [{"Variable": "$guess", "StringEqualsPath": "$answer", "Next": "Right"}],
    "Default": "Wrong",
}
_WRONG = {"Type": "Pass", "Assign": {"guess.$": "$answer"}, "Result": {"x.$": "$guess"}}
_INNER_MAP = {
    "Type": "Map",
    "ItemSelector": {"announced.$": "States.Format($template, $$.Map.Item.Value)"},
    "ItemProcessor": {
        "StartAt": "Inner",
        "States": {"Inner": {**PASS, "Parameters": {"q.$": "$question", "literal": "$no"}}},
    },
    "ItemsPath": "$list",
    "End": True,
}


@pytest.mark.parametrize(
    ("states", "references"),
    [
        (  # BASE_REFERENCE_IN_CHOICE: a rule's Variable and ...Path, an Assign's .$ path
            {
                "Setup": _GUESS,
                "CheckAnswer": _CHECK,
                "Right": PASS,
                "Wrong": {**_WRONG, "Next": "CheckAnswer"},
            },
            {"CheckAnswer": ["answer", "guess"], "Wrong": ["answer"]},
        ),
        (  # BASE_REFERENCE_IN_INTRINSIC_FUNCTION, BASE_EVALUATION_ORDER_PASS_STATE: intrinsic
            # arguments (not a string literal's $), InputPath and OutputPath, each name once
            {
                "Setup": {**_GUESS, "Next": "Read"},
                "Read": {
                    **PASS,
                    "InputPath": "$guess",
                    "OutputPath": "$guess",
                    "Parameters": {"s.$": "States.Format('{} $x', $answer)", "t": "$text"},
                },
            },
            {"Read": ["answer", "guess"]},
        ),
        (  # MAP_STATE_REFERENCE_IN_INTRINSIC_FUNCTION, _ITEMS_PATH: a nested state by its name
            {"Setup": {**_GUESS, "Next": "M"}, "M": _INNER_MAP},
            {"M": ["list", "template"], "Inner": ["question"]},
        ),
        (  # BASE_ASSIGN_FROM_RESULT, MAP_STATE_REFERENCE_IN_ITEM_SELECTOR: no variable read
            {"Setup": {**PASS, "Result": {"a": 1}, "Assign": {"a.$": "$.a", "b": "$b"}}},
            None,
        ),
    ],
)
def test_a_described_state_machine_lists_the_variables_each_state_reads(
    machines: Machines, states: dict[str, Any], references: dict[str, list[str]] | None
):
    # VARIABLE_REFERENCES: "A map of state name to a list of variables referenced by that
    # state. States that do not use variable references will not be shown in the response";
    # DescribeStateMachineForExecution answers the same (the recording above). moto gave none.
    arn = machines.create({"StartAt": next(iter(states)), "States": states})
    described = machines.sfn.describe_state_machine(stateMachineArn=arn)
    found = described.get("variableReferences")
    assert (found and {k: sorted(v) for k, v in found.items()}) == references
    execution = machines.sfn.start_execution(stateMachineArn=arn)["executionArn"]
    machines.finished(execution)
    ran = machines.sfn.describe_state_machine_for_execution(executionArn=execution)
    assert ran.get("variableReferences") == found


def test_a_jsonata_states_variable_references_are_the_variables_its_expressions_read(
    machines: Machines,
):
    # The recording's JSONata states read $states alone and list nothing; the variables a
    # JSONata expression reads are "variables referenced by that state" (VARIABLE_REFERENCES):
    # ours, no recording shows one. Not `$states`, a function called, or a name the expression
    # binds itself.
    states = {
        "Setup": {"Type": "Pass", "Assign": {"n": 2, "items": [1]}, "Next": "Use"},
        "Use": {
            "Type": "Pass",
            "Output": "{% ($local := $n; $count($items) + $local + $states.input.x) %}",
            "Assign": {"doubled": "{% $map($items, function($v) { $v * $n }) %}"},
            "End": True,
        },
    }
    arn = machines.create({"QueryLanguage": "JSONata", "StartAt": "Setup", "States": states})
    described = machines.sfn.describe_state_machine(stateMachineArn=arn)
    assert described["variableReferences"] == {"Use": ["n", "items"]}


def test_an_update_that_changes_a_state_machine_gives_it_a_new_revision(machines: Machines):
    # VARIABLE_REFERENCES: revisionId, "The revision identifier for the state machine"; AWS's
    # recorded answers (LocalStack snapshot v2/test_sfn_api, test_create_update_state_machine_*,
    # 2023): none at creation, a UUID in UpdateStateMachine's and later DescribeStateMachine's
    # answers, the same one after an update that changes nothing; DescribeStateMachineFor
    # Execution carries it and updateDate (test_describe_state_machine_for_execution*).
    arn = machines.create({"StartAt": "P", "States": {"P": PASS}})
    assert "revisionId" not in machines.sfn.describe_state_machine(stateMachineArn=arn)
    first = machines.sfn.start_execution(stateMachineArn=arn)["executionArn"]
    machines.finished(first)
    ran = machines.sfn.describe_state_machine_for_execution(executionArn=first)
    assert "revisionId" not in ran and ran["updateDate"]
    waits = json.dumps(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": True}}}
    )
    updated = machines.sfn.update_state_machine(stateMachineArn=arn, definition=waits)
    revision = updated["revisionId"]
    assert uuid.UUID(revision)
    assert machines.sfn.describe_state_machine(stateMachineArn=arn)["revisionId"] == revision
    again = machines.sfn.update_state_machine(stateMachineArn=arn, definition=waits)
    assert again["revisionId"] == revision
    later = machines.sfn.start_execution(stateMachineArn=arn)["executionArn"]
    machines.finished(later)
    ran = machines.sfn.describe_state_machine_for_execution(executionArn=later)
    assert (ran["revisionId"], ran["updateDate"]) == (revision, again["updateDate"])


def test_publishing_a_revision_again_answers_its_version(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_PublishStateMachineVersion.html
    # (idempotent for a revision); AWS's recorded answers (LocalStack snapshot
    # v2/test_sfn_api_versioning, test_empty_revision_with_publish_*, test_publish_state_
    # machine_version, 2023): an unchanged update with publish answers version 1 again and
    # no revisionId; a changed one a new version, described with the revision's ID.
    definition = json.dumps({"StartAt": "P", "States": {"P": PASS}})
    created = machines.sfn.create_state_machine(
        name="revised", definition=definition, roleArn=machines.role, publish=True
    )
    arn, first = created["stateMachineArn"], created["stateMachineVersionArn"]
    same = machines.sfn.update_state_machine(
        stateMachineArn=arn, definition=definition, publish=True
    )
    assert (same["stateMachineVersionArn"], "revisionId" in same) == (first, False)
    changed = json.dumps({"StartAt": "Q", "States": {"Q": PASS}})
    update = machines.sfn.update_state_machine(
        stateMachineArn=arn, definition=changed, publish=True
    )
    assert update["stateMachineVersionArn"] == f"{arn}:2"
    version = machines.sfn.describe_state_machine(stateMachineArn=update["stateMachineVersionArn"])
    assert version["revisionId"] == update["revisionId"]


def test_listed_executions_carry_their_redrive_count_and_version(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_ExecutionListItem.html;
    # AWS's recorded answers (LocalStack snapshots v2/test_sfn_api test_start_execution,
    # test_list_executions_versions_pagination, 2024; test_sfn_api_aliasing, 2025): every item
    # has redriveCount 0, one of a version's execution its stateMachineVersionArn and the state
    # machine's ARN, listed by either. moto left both out and named the version as the machine.
    created = machines.sfn.create_state_machine(
        name="listed",
        definition=json.dumps({"StartAt": "P", "States": {"P": PASS}}),
        roleArn=machines.role,
        publish=True,
    )
    machine, version = created["stateMachineArn"], created["stateMachineVersionArn"]
    of_version = machines.sfn.start_execution(stateMachineArn=version)["executionArn"]
    of_machine = machines.sfn.start_execution(stateMachineArn=machine)["executionArn"]
    machines.finished(of_version), machines.finished(of_machine)
    items = {
        item["executionArn"]: item
        for item in machines.sfn.list_executions(stateMachineArn=machine)["executions"]
    }
    assert {arn: item["redriveCount"] for arn, item in items.items()} == {
        of_version: 0,
        of_machine: 0,
    }
    assert "stateMachineVersionArn" not in items[of_machine]
    (listed,) = machines.sfn.list_executions(stateMachineArn=version)["executions"]
    for item in (items[of_version], listed):
        assert (item["stateMachineArn"], item["stateMachineVersionArn"]) == (machine, version)


def test_stopping_a_running_execution_answers_when_it_stopped(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html:
    # the answer's stopDate is required; AWS's recorded answer (LocalStack snapshot
    # v2/test_sfn_api test_stop_execution, 2024) has it. moto answered {} for a running one.
    arn = machines.start(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    )
    machines.until_waiting()
    stopped = machines.sfn.stop_execution(executionArn=arn)
    assert stopped["stopDate"] >= machines.sfn.describe_execution(executionArn=arn)["startDate"]
