"""A JSONata expression in a numeric field gives a number in the field's range, or the state
fails with States.QueryEvaluationError (local/patches/numeric_fields.py).

WAIT: https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html ("You must specify
time as an integer value from 0 to 99999999. In JSONata states, you can alternatively
specify a JSONata expression which must evaluate to an integer in the stated range.")
DISTRIBUTED: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
(ToleratedFailurePercentage: "a number between 0 and 100")
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.stepfunctions.conftest import Machines, query_evaluation_cause

JSONATA = "JSONata"


def run(machines: Machines, state: dict[str, Any], data: Any) -> dict[str, Any]:
    definition = {"QueryLanguage": JSONATA, "StartAt": "S", "States": {"S": state}}
    return machines.run(definition, data)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(1.5, "1.5"), (-1, "-1"), ("5", '"5"'), (100_000_000, "100000000"), (True, "true")],
)
def test_a_wait_of_no_whole_number_of_seconds_in_range_fails(
    machines: Machines, seconds: Any, shown: str
):
    # moto waited int(1.5) = 1 second, and 0 for -1 (the state succeeded); "5" failed with a
    # Python ValueError as States.Runtime.
    state = {"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True}
    described = run(machines, state, {"s": seconds})
    assert query_evaluation_cause(described).endswith(
        f"The value of the field 'Seconds' must be an integer from 0 to 99999999: {shown}"
    )
    (failed,) = [
        e
        for e in machines.history(described["executionArn"])
        if "evaluationFailedEventDetails" in e
    ]
    assert failed["evaluationFailedEventDetails"]["location"] == "Seconds"


def test_a_whole_number_computed_as_a_double_is_that_integer(machines: Machines):
    state = {"Type": "Wait", "Seconds": "{% $states.input.s / 2 %}", "End": True}
    assert run(machines, state, {"s": 0.0})["status"] == "SUCCEEDED"


def test_an_inline_map_with_a_negative_max_concurrency_fails_rather_than_hangs(
    machines: Machines,
):
    item = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    state = {"Type": "Map", "Items": [1, 2], "ItemProcessor": item, "End": True}
    described = run(machines, {**state, "MaxConcurrency": "{% -1 %}"}, {})
    assert query_evaluation_cause(described).endswith(
        "The value of the field 'MaxConcurrency' must be an integer from 0 to 2147483647: -1"
    )


def test_a_tolerated_failure_percentage_may_be_a_fraction(machines: Machines):
    # One child of eight fails: 12.5%. moto truncated 12.5 to 12, which that exceeds.
    one_fails = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED"},
        "StartAt": "Eight?",
        "States": {
            "Eight?": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input = 8 %}", "Next": "Fail"}],
                "Default": "Done",
            },
            "Fail": {"Type": "Fail", "Error": "Eight"},
            "Done": {"Type": "Succeed"},
        },
    }
    state = {"Type": "Map", "Items": list(range(1, 9)), "ItemProcessor": one_fails, "End": True}
    tolerated = {**state, "ToleratedFailurePercentage": "{% $states.input.p %}"}
    assert run(machines, tolerated, {"p": 12.5})["status"] == "SUCCEEDED"
    assert run(machines, tolerated, {"p": 12})["error"] == "States.ExceedToleratedFailureThreshold"
    described = run(machines, tolerated, {"p": 100.5})
    assert query_evaluation_cause(described).endswith(
        "The value of the field 'ToleratedFailurePercentage' must be a number from 0 to 100: 100.5"
    )


@pytest.mark.parametrize("language", [JSONATA, "JSONPath"])
@pytest.mark.parametrize(
    ("seconds", "problem"),
    [
        (-1, "Minimum value is 0"),
        (100_000_000, "Maximum value is 99999999"),
        (1.5, "Expected value of type Integer"),
        ("5", "Expected value of type Integer"),
    ],
)
def test_a_wait_of_literal_seconds_out_of_range_is_refused_in_awss_words(
    machines: Machines, language: str, seconds: Any, problem: str
):
    # WAIT's range; AWS's words as CloudFormation relays them ("SCHEMA_VALIDATION_FAILED:
    # Maximum value is 99999999 at /States/Wait/Seconds", cfn-lint issue 4075; "Expected
    # value of type Integer at /States/WaitTill/Seconds", serverless-step-functions issue
    # 188), and "Minimum value is 0" as AWS answers for a Map's numbers (floci issue 3733).
    # moto's parser refused -1 and 1.5 in its own words, and took 100000000.
    state = {"Type": "Wait", "Seconds": seconds, "End": True}
    definition = {"QueryLanguage": language, "StartAt": "S", "States": {"S": state}}
    with pytest.raises(ClientError) as refused:
        machines.create(definition)
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert refused.value.response["Error"]["Message"] == (
        f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {problem} at "
        "/States/S/Seconds'"
    )


@pytest.mark.parametrize("seconds", [0, 99_999_999])
def test_a_wait_of_zero_to_99999999_literal_seconds_is_taken(machines: Machines, seconds: int):
    # statelint issue 16: AWS runs a Wait of "Seconds": 0.
    state = {"Type": "Wait", "Seconds": seconds, "End": True}
    machines.create({"StartAt": "S", "States": {"S": state}})


TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
PROCESSOR = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
DISTRIBUTED_MAP = {
    "Type": "Map",
    "ItemProcessor": {
        **PROCESSOR,
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    },
    "End": True,
}
READER = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"}}


def retrier(**fields: Any) -> dict[str, Any]:
    return {**TASK, "Retry": [{"ErrorEquals": ["States.ALL"], **fields}]}


# TASK_PAGE: https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html (TimeoutSeconds
# and HeartbeatSeconds "must be positive, non-zero integers", the heartbeat "less than the
# number of seconds specified in the TimeoutSeconds field"); ERRORS: .../concepts-error-handling
# .html (IntervalSeconds "A positive integer", MaxAttempts 0 to 99999999, BackoffRate at least
# 1.0, MaxDelaySeconds, JitterStrategy FULL or NONE); AWS's States Language schema gives the
# same bounds (aws/amazon-states-language-service, src/json-schema/bundled.json: MaxDelaySeconds
# at most 31622400, MaxConcurrency, ToleratedFailureCount and MaxItems at least 0).
# local/aws/stepfunctions/numbers.py holds the ranges.
@pytest.mark.parametrize("language", [JSONATA, "JSONPath"])
@pytest.mark.parametrize(
    ("state", "path", "problem"),
    [
        ({**TASK, "TimeoutSeconds": 0}, "TimeoutSeconds", "Minimum value is 1"),
        ({**TASK, "TimeoutSeconds": 1.5}, "TimeoutSeconds", "Expected value of type Integer"),
        ({**TASK, "HeartbeatSeconds": -1}, "HeartbeatSeconds", "Minimum value is 1"),
        (
            {**TASK, "TimeoutSeconds": 5, "HeartbeatSeconds": 5},
            "HeartbeatSeconds",
            "HeartbeatSeconds must be smaller than TimeoutSeconds",
        ),
        (retrier(IntervalSeconds=0), "Retry[0]/IntervalSeconds", "Minimum value is 1"),
        (retrier(MaxAttempts=-1), "Retry[0]/MaxAttempts", "Minimum value is 0"),
        (retrier(MaxAttempts=100_000_000), "Retry[0]/MaxAttempts", "Maximum value is 99999999"),
        (retrier(BackoffRate=0.5), "Retry[0]/BackoffRate", "Minimum value is 1"),
        (retrier(BackoffRate="2"), "Retry[0]/BackoffRate", "Expected value of type Number"),
        (
            retrier(MaxDelaySeconds=31_622_401),
            "Retry[0]/MaxDelaySeconds",
            "Maximum value is 31622400",
        ),
        (
            retrier(JitterStrategy="full"),
            "Retry[0]/JitterStrategy",
            "The field 'JitterStrategy' should have one of these values: [FULL, NONE]",
        ),
        ({**DISTRIBUTED_MAP, "MaxConcurrency": -1}, "MaxConcurrency", "Minimum value is 0"),
        (
            {**DISTRIBUTED_MAP, "ToleratedFailureCount": -1},
            "ToleratedFailureCount",
            "Minimum value is 0",
        ),
        (
            {**DISTRIBUTED_MAP, "ToleratedFailurePercentage": 101},
            "ToleratedFailurePercentage",
            "Maximum value is 100",
        ),
        (
            {
                **DISTRIBUTED_MAP,
                "ItemReader": {**READER, "ReaderConfig": {"InputType": "JSON", "MaxItems": -1}},
            },
            "ItemReader/ReaderConfig/MaxItems",
            "Minimum value is 0",
        ),
    ],
)
def test_a_numeric_field_out_of_awss_range_is_refused_at_creation(
    machines: Machines, language: str, state: dict[str, Any], path: str, problem: str
):
    # moto took a TimeoutSeconds of 0 and a ToleratedFailurePercentage of 101, and refused the
    # others in its parser's words or a Python ValueError's.
    with pytest.raises(ClientError) as refused:
        machines.create(with_arguments(state, language))
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert refused.value.response["Error"]["Message"] == (
        f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {problem} at "
        f"/States/S/{path}'"
    )


@pytest.mark.parametrize(
    "state",
    [
        {**TASK, "TimeoutSeconds": 99_999_999, "HeartbeatSeconds": 99_999_998},
        retrier(IntervalSeconds=1, MaxAttempts=0, BackoffRate=1, MaxDelaySeconds=31_622_400),
        retrier(JitterStrategy="FULL", BackoffRate=1.5),
        {**DISTRIBUTED_MAP, "MaxConcurrency": 0, "ToleratedFailurePercentage": 2.5},
    ],
)
def test_a_numeric_field_at_the_ends_of_its_range_is_taken(
    machines: Machines, state: dict[str, Any]
):
    machines.create(with_arguments(state, JSONATA))


def with_arguments(state: dict[str, Any], language: str) -> dict[str, Any]:
    """A one-state machine of the state in the language (a Task given its function)."""
    if state["Type"] == "Task":
        field = "Arguments" if language == JSONATA else "Parameters"
        state = {**state, field: {"FunctionName": "f"}}
    if "ItemReader" in state:
        field = "Arguments" if language == JSONATA else "Parameters"
        state = {**state, "ItemReader": {**state["ItemReader"], field: {"Bucket": "b", "Key": "k"}}}
    return {"QueryLanguage": language, "StartAt": "S", "States": {"S": state}}
