"""A distributed Map's run as AWS ends and writes it (local/patches/results.py).

AWS's pages: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
(the objects under `<Prefix>/<MapRunId>/`, the `WriterConfig`'s `Transformation` and
`OutputType`, a `WriterConfig` alone giving the Map its results) and
https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
(`ToleratedFailureCount`, `ToleratedFailurePercentage`: beyond them the run fails with
`States.ExceedToleratedFailureThreshold`). The records' fields, the
compact JSON, the `.jsonl` names and no file for a status without children: as a capture of
AWS's objects shows them (docs/jsonata.md).
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conformance.stepfunctions.conftest import Machines, output
from tests.conformance.stepfunctions.test_maps import DISTRIBUTED, mapped

# Each child passes [its item, its item] on; the child of 2 fails.
PASS_ON = {
    "Type": "Pass",
    "Parameters": {"pair.$": "States.Array($, $)"},
    "OutputPath": "$.pair",
    "End": True,
}
CHILD = {
    "ProcessorConfig": DISTRIBUTED,
    "StartAt": "Two?",
    "States": {
        "Two?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Fail"}],
            "Default": "Pass",
        },
        "Pass": PASS_ON,
        "Fail": {"Type": "Fail", "Error": "Two", "Cause": "it is two"},
    },
}
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PUT_OBJECT = "arn:aws:states:::s3:putObject"


@pytest.fixture(scope="module")
def s3(machines: Machines) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket="results")
    return client


def written(
    machines: Machines, s3: Any, items: list[int], config: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The Map's output, and the objects its ResultWriter wrote, by name."""
    writer: dict[str, Any] = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "results", "Prefix": "out"},
    }
    if config:
        writer["WriterConfig"] = config
    state = {"ItemsPath": "$.xs", "ItemProcessor": CHILD, "ToleratedFailureCount": 1}
    answer = output(machines.run(mapped({**state, "ResultWriter": writer}), {"xs": items}))
    prefix = answer["ResultWriterDetails"]["Key"].rsplit("/", 1)[0]
    objects = s3.list_objects_v2(Bucket="results", Prefix=prefix)["Contents"]
    bodies = {
        o["Key"].rsplit("/", 1)[1]: s3.get_object(Bucket="results", Key=o["Key"])["Body"].read()
        for o in objects
    }
    return answer, bodies


def test_each_childs_record_is_written_by_its_status_beside_the_manifest(
    machines: Machines, s3: Any
):
    answer, bodies = written(machines, s3, [1, 2, 3])
    run_id = answer["MapRunArn"].rsplit(":", 1)[1]
    assert answer["ResultWriterDetails"] == {
        "Bucket": "results",
        "Key": f"out/{run_id}/manifest.json",
    }
    assert sorted(bodies) == ["FAILED_0.json", "SUCCEEDED_0.json", "manifest.json"]
    manifest = json.loads(bodies["manifest.json"])
    assert bodies["manifest.json"] == json.dumps(manifest, separators=(",", ":")).encode()
    assert manifest == {
        "DestinationBucket": "results",
        "MapRunArn": answer["MapRunArn"],
        "ResultFiles": {
            status: [
                {"Key": f"out/{run_id}/{status}_0.json", "Size": len(bodies[f"{status}_0.json"])}
            ]
            if status != "PENDING"
            else []
            for status in ("FAILED", "PENDING", "SUCCEEDED")
        },
    }
    succeeded = json.loads(bodies["SUCCEEDED_0.json"])
    assert [(r["Input"], r["Output"]) for r in succeeded] == [("1", "[1,1]"), ("3", "[3,3]")]
    first = succeeded[0]
    assert list(first) == sorted(first)  # AWS writes the fields in this order
    assert set(first) == {
        "ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails",
        "RedriveCount", "RedriveStatus", "RedriveStatusReason", "StartDate",
        "StateMachineArn", "Status", "StopDate",
    }  # fmt: skip
    run_machine = answer["MapRunArn"].rsplit(":", 1)[0]  # mapRun:<machine>/<label>
    assert first["StateMachineArn"] == run_machine.replace(":mapRun:", ":stateMachine:")
    assert first["ExecutionArn"] == (
        first["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{first['Name']}"
    )
    assert DATE.fullmatch(first["StartDate"]) and DATE.fullmatch(first["StopDate"])
    assert (first["Status"], first["RedriveStatus"]) == ("SUCCEEDED", "NOT_REDRIVABLE")
    (failed,) = json.loads(bodies["FAILED_0.json"])
    assert (failed["Status"], failed["Error"], failed["Cause"]) == ("FAILED", "Two", "it is two")
    assert "Output" not in failed and failed["RedriveStatus"] == "REDRIVABLE_BY_MAP_RUN"


def test_no_file_is_written_for_a_status_without_children(machines: Machines, s3: Any):
    _, bodies = written(machines, s3, [1])
    assert sorted(bodies) == ["SUCCEEDED_0.json", "manifest.json"]


def test_json_lines_of_flattened_outputs(machines: Machines, s3: Any):
    config = {"Transformation": "FLATTEN", "OutputType": "JSONL"}
    _, bodies = written(machines, s3, [1, 2, 3], config)
    assert bodies["SUCCEEDED_0.jsonl"] == b"1\n1\n3\n3\n"
    (failed,) = bodies["FAILED_0.jsonl"].decode().splitlines()  # a failed child's record, whole
    assert json.loads(failed)["Error"] == "Two"


def test_compact_outputs_in_one_array(machines: Machines, s3: Any):
    config = {"Transformation": "COMPACT", "OutputType": "JSON"}
    _, bodies = written(machines, s3, [1, 3], config)
    assert bodies["SUCCEEDED_0.json"] == b"[[1,1],[3,3]]"


def test_a_writer_config_alone_gives_the_map_its_shaped_results(machines: Machines):
    writer = {"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}
    definition = mapped({"ItemsPath": "$.xs", "ItemProcessor": CHILD, "ResultWriter": writer})
    assert output(machines.run(definition, {"xs": [1, 3]})) == [1, 1, 3, 3]


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        (
            {
                "QueryLanguage": "JSONata",
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "results"},
                },
            },
            "field 'Parameters' is only supported for the 'JSONPath' QueryLanguage at "
            "/States/Map/ResultWriter",
        ),
        (
            {"QueryLanguage": "JSONata", "ResultWriter": {"Resource": PUT_OBJECT}},
            "SCHEMA_VALIDATION_FAILED: The field 'Arguments' is required but was missing at "
            "/States/Map/ResultWriter",
        ),
        (  # input-output-resultwriter.html, "Required field combinations": not empty;
            # WriterConfig, or Resource with Parameters (Arguments), or all three
            {"ResultWriter": {}},  # moto's parser answered "Expected a Resource declaration"
            "SCHEMA_VALIDATION_FAILED: The field 'Resource' is required but was missing at "
            "/States/Map/ResultWriter",
        ),
        (
            {"ResultWriter": {"WriterConfig": {"Transformation": "SMALL", "OutputType": "JSON"}}},
            "The field 'Transformation' should have one of these values: [NONE, COMPACT, "
            "FLATTEN] at /States/Map/ResultWriter/WriterConfig/Transformation",
        ),
        (
            {
                "ResultWriter": {"WriterConfig": {"Transformation": "NONE"}},
                "ItemProcessor": {**CHILD, "ProcessorConfig": {"Mode": "INLINE"}},
            },
            "The field 'ResultWriter' is only supported for a Map in 'DISTRIBUTED' mode",
        ),
    ],
)
def test_a_writer_the_engine_cannot_run_is_refused_at_creation(
    machines: Machines, state: dict[str, Any], problem: str
):
    with pytest.raises(ClientError) as refused:
        machines.create(mapped(state))
    assert problem in refused.value.response["Error"]["Message"]
    # moto, given Parameters in JSONata, read every later definition as JSONata
    assert machines.run(mapped({"ItemsPath": "$.xs"}), {"xs": [1]})["status"] == "SUCCEEDED"


def test_failures_beyond_the_tolerance_fail_the_run(machines: Machines):
    def run(**tolerance: Any) -> dict[str, Any]:
        state = {"ItemsPath": "$.xs", "ItemProcessor": CHILD, **tolerance}
        return machines.run(mapped(state), {"xs": [1, 2, 3, 4]})  # one child of four fails

    # none tolerated by default; a percentage may be an integer (moto's grammar refused one)
    for tolerated in ({}, {"ToleratedFailurePercentage": 20}):
        described = run(**tolerated)
        assert (described["status"], described["error"]) == (
            "FAILED",
            "States.ExceedToleratedFailureThreshold",
        )
        assert described["cause"].endswith("The specified tolerated failure threshold was exceeded")
        kinds = [e["type"] for e in machines.history(described["executionArn"])]
        assert kinds[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    for within in ({"ToleratedFailureCount": 1}, {"ToleratedFailurePercentage": 25.0}):
        assert run(**within)["status"] == "SUCCEEDED"


def test_each_map_writes_its_own_run_side_by_side_and_nested(machines: Machines, s3: Any):
    # moto wrote the execution's newest run: another Map's, when Maps nest or run side by side
    def writer(prefix: str) -> dict[str, Any]:
        return {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "results", "Prefix": prefix},
        }

    branches = [
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": CHILD,
                    "ResultWriter": writer(prefix),
                    "End": True,
                }
            },
        }
        for prefix in ("left", "right")
    ]
    side_by_side = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}},
    }
    answers = output(machines.run(side_by_side, [1, 3]))
    assert len({answer["MapRunArn"] for answer in answers}) == 2
    for answer in answers:
        key = answer["ResultWriterDetails"]["Key"]
        manifest = json.loads(s3.get_object(Bucket="results", Key=key)["Body"].read())
        assert manifest["MapRunArn"] == answer["MapRunArn"]
    inner = {
        "Type": "Map",
        "ItemsPath": "$.ys",
        "ItemProcessor": {**CHILD, "StartAt": "Pass", "States": {"Pass": PASS_ON}},
        "End": True,
    }
    outer_child = {"ProcessorConfig": DISTRIBUTED, "StartAt": "Inner", "States": {"Inner": inner}}
    alone = {"WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSON"}}
    nested = mapped({"ItemsPath": "$.xs", "ItemProcessor": outer_child, "ResultWriter": alone})
    xs = [{"ys": [1, 3]}, {"ys": [4]}]
    assert output(machines.run(nested, {"xs": xs})) == [[[1, 1], [3, 3]], [[4, 4]]]


def test_a_writers_parameters_read_the_maps_input(machines: Machines, s3: Any):
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "results", "Prefix.$": "$.run"},
    }
    definition = mapped({"ItemsPath": "$.xs", "ItemProcessor": CHILD, "ResultWriter": writer})
    answer = output(machines.run(definition, {"xs": [1], "run": "nightly"}))
    assert answer["ResultWriterDetails"]["Key"].startswith("nightly/")


def test_a_child_that_never_started_is_recorded_as_failed(machines: Machines, s3: Any):
    selector = {"v.$": "$$.Map.Item.Value.v"}  # the item 1 has no v
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "results", "Prefix": "sel"},
    }
    state = {
        "ItemsPath": "$.xs",
        "ItemSelector": selector,
        "ItemProcessor": CHILD,
        "ResultWriter": writer,
        "ToleratedFailureCount": 1,
    }
    answer = output(machines.run(mapped(state), {"xs": [1, {"v": 3}]}))
    folder = answer["ResultWriterDetails"]["Key"].rsplit("/", 1)[0]
    (failed,) = json.loads(
        s3.get_object(Bucket="results", Key=f"{folder}/FAILED_0.json")["Body"].read()
    )
    assert (failed["Status"], failed["Error"], failed["Input"]) == ("FAILED", "States.Runtime", "1")
    (succeeded,) = json.loads(
        s3.get_object(Bucket="results", Key=f"{folder}/SUCCEEDED_0.json")["Body"].read()
    )
    assert succeeded["Input"] == '{"v":3}'  # the child's input, as selected


def test_a_jsonata_writers_arguments_are_evaluated_against_the_maps_input(
    machines: Machines, s3: Any
):
    # input-output-resultwriter.html: in JSONata the writer takes Arguments (moto's grammar
    # took Parameters alone, so the engine refused them)
    child = {
        "ProcessorConfig": DISTRIBUTED,
        "StartAt": "Double",
        "States": {"Double": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": True}},
    }
    writer = {
        "Resource": PUT_OBJECT,
        "Arguments": {"Bucket": "{% $states.input.bucket %}", "Prefix": "{% 'n' & 'ightly' %}"},
        "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSON"},
    }
    state = {"Items": "{% $states.input.xs %}", "ItemProcessor": child, "ResultWriter": writer}
    definition = mapped(state, "JSONata")
    answer = output(machines.run(definition, {"xs": [1, 3], "bucket": "results"}))
    key = answer["ResultWriterDetails"]["Key"]
    assert key.startswith("nightly/") and key.endswith("/manifest.json")
    folder = key.rsplit("/", 1)[0]
    body = s3.get_object(Bucket="results", Key=f"{folder}/SUCCEEDED_0.json")["Body"].read()
    assert body == b"[2,6]"
    writer["Arguments"] = {"Bucket": "{% $states.input.nowhere %}"}
    described = machines.run(definition, {"xs": [1]})
    assert (described["status"], described["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert "specified for the field 'ResultWriter/Arguments/Bucket'" in described["cause"]
    writer["Arguments"] = "{% {'Prefix': 'p'} %}"  # a whole expression; no Bucket in it
    described = machines.run(definition, {"xs": [1]})
    assert (described["status"], described["error"]) == ("FAILED", "States.ResultWriterFailed")
    assert described["cause"] == "The results could not be written: the Bucket is no string"
