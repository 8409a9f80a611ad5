"""A distributed Map's results as AWS writes them (local/patches/results.py).

AWS's page: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
(the objects under `<Prefix>/<MapRunId>/`, the `WriterConfig`'s `Transformation` and
`OutputType`, a `WriterConfig` alone giving the Map its results). The records' fields, the
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

# Each child passes [its item, {"x": its item}] on; the child of 2 fails.
CHILD = {
    "ProcessorConfig": DISTRIBUTED,
    "StartAt": "Two?",
    "States": {
        "Two?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Fail"}],
            "Default": "Pass",
        },
        "Pass": {
            "Type": "Pass",
            "Parameters": {"pair.$": "States.Array($, $)"},
            "OutputPath": "$.pair",
            "End": True,
        },
        "Fail": {"Type": "Fail", "Error": "Two", "Cause": "it is two"},
    },
}
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def s3(machines: Machines) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket="results")
    return client


def written(s3: Any, items: list[int], config: dict[str, str] | None = None) -> Any:
    def run(machines: Machines) -> tuple[dict[str, Any], dict[str, bytes]]:
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

    return run


def test_each_childs_record_is_written_by_its_status_beside_the_manifest(
    machines: Machines, s3: Any
):
    answer, bodies = written(s3, [1, 2, 3])(machines)
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
    _, bodies = written(s3, [1])(machines)
    assert sorted(bodies) == ["SUCCEEDED_0.json", "manifest.json"]


def test_json_lines_of_flattened_outputs(machines: Machines, s3: Any):
    config = {"Transformation": "FLATTEN", "OutputType": "JSONL"}
    _, bodies = written(s3, [1, 2, 3], config)(machines)
    assert bodies["SUCCEEDED_0.jsonl"] == b"1\n1\n3\n3\n"
    (failed,) = bodies["FAILED_0.jsonl"].decode().splitlines()  # a failed child's record, whole
    assert json.loads(failed)["Error"] == "Two"


def test_compact_outputs_in_one_array(machines: Machines, s3: Any):
    config = {"Transformation": "COMPACT", "OutputType": "JSON"}
    _, bodies = written(s3, [1, 3], config)(machines)
    assert bodies["SUCCEEDED_0.json"] == b"[[1,1],[3,3]]"


def test_a_writer_config_alone_gives_the_map_its_shaped_results(machines: Machines):
    writer = {"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}
    definition = mapped({"ItemsPath": "$.xs", "ItemProcessor": CHILD, "ResultWriter": writer})
    assert output(machines.run(definition, {"xs": [1, 3]})) == [1, 1, 3, 3]


@pytest.mark.parametrize(
    ("state", "problem"),
    [
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
