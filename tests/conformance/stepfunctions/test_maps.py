"""A distributed Map's items as AWS reads and batches them (local/patches/maps.py).

AWS's pages: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
("A list of Amazon S3 objects": the input a child gets) and
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html (each
child's input is `{"Items": [...]}`, with `BatchInput` beside it); the States Language's
"Batching Items" (the selected items are batched); and AWS's recorded executions where
docs/jsonata.md says so.
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conformance.stepfunctions.conftest import Machines, output

DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
AS_IS = {
    "ProcessorConfig": DISTRIBUTED,
    "StartAt": "Each",
    "States": {"Each": {"Type": "Pass", "End": True}},
}


def mapped(map_state: dict[str, Any], language: str = "JSONPath") -> dict[str, Any]:
    state = {"Type": "Map", "ItemProcessor": AS_IS, "End": True, **map_state}
    return {"QueryLanguage": language, "StartAt": "Map", "States": {"Map": state}}


@pytest.fixture(scope="module")
def bucket(machines: Machines) -> str:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="listed")
    for index in range(3):
        s3.put_object(Bucket="listed", Key=f"in/file_{index}.txt", Body=f"{index}HelloWorld!")
    return "listed"


def test_a_listing_gives_each_objects_metadata_in_awss_shape_page_after_page(
    machines: Machines, bucket: str
):
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": bucket, "Prefix": "in/", "MaxKeys": 2},  # two pages
    }
    described = machines.run(mapped({"ItemReader": reader}))
    items = output(described)
    assert [item["Key"] for item in items] == [f"in/file_{i}.txt" for i in range(3)]
    for item in items:
        assert list(item) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', item["Etag"])
        assert isinstance(item["LastModified"], int)  # epoch seconds, as the page shows
        assert (item["Size"], item["StorageClass"]) == (12, "STANDARD")
    history = machines.history(described["executionArn"])  # moto answered 500 here
    assert history[-1]["type"] == "ExecutionSucceeded"


def test_an_empty_listing_maps_nothing(machines: Machines, bucket: str):
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": bucket, "Prefix": "nothing/"},
    }
    assert output(machines.run(mapped({"ItemReader": reader}))) == []


def test_jsonata_batches_by_an_expressions_count_with_a_batch_input(machines: Machines):
    # As AWS's recorded execution (docs/jsonata.md): {"BatchInput": ..., "Items": [...]}.
    batcher = {
        "MaxItemsPerBatch": "{% $states.input.most %}",
        "BatchInput": {"Entered": "{% $states.context.State.EnteredTime %}"},
    }
    definition = mapped({"Items": "{% $states.input.xs %}", "ItemBatcher": batcher}, "JSONata")
    batches = output(machines.run(definition, {"xs": [1, 2, 3, 4, 5], "most": 2}))
    assert [batch["Items"] for batch in batches] == [[1, 2], [3, 4], [5]]
    for batch in batches:
        assert list(batch) == ["BatchInput", "Items"]
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", batch["BatchInput"]["Entered"]
        )


def test_a_path_to_a_variable_holding_digits_batches_by_that_many(machines: Machines):
    # AWS's recorded execution (docs/jsonata.md): MaxItemsPerBatchPath "$maxItemsPerBatch"
    # with the variable "2" gives batches of two, each {"Items": [...]} alone.
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": {"Type": "Pass", "Assign": {"most": "2"}, "Next": "Map"},
            "Map": mapped({"ItemBatcher": {"MaxItemsPerBatchPath": "$most"}})["States"]["Map"],
        },
    }
    batches = output(machines.run(definition, [1, 2, 3]))
    assert batches == [{"Items": [1, 2]}, {"Items": [3]}]


def test_items_are_selected_then_batched(machines: Machines):
    selector = {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "tag.$": "$.tag"}
    definition = mapped(
        {"ItemsPath": "$.xs", "ItemSelector": selector, "ItemBatcher": {"MaxItemsPerBatch": 2}}
    )
    batches = output(machines.run(definition, {"xs": ["a", "b", "c"], "tag": "t"}))
    assert batches == [
        {"Items": [{"value": "a", "index": 0, "tag": "t"}, {"value": "b", "index": 1, "tag": "t"}]},
        {"Items": [{"value": "c", "index": 2, "tag": "t"}]},
    ]


def test_a_batch_holds_no_more_bytes_than_its_limit(machines: Machines):
    items = ["x" * 10] * 5  # 12 bytes of JSON each
    limit = len(json.dumps({"Items": ["x" * 10] * 2}, separators=(",", ":")))
    definition = mapped({"ItemBatcher": {"MaxInputBytesPerBatch": limit}})
    batches = output(machines.run(definition, items))
    assert [len(batch["Items"]) for batch in batches] == [2, 2, 1]


def test_a_path_to_no_positive_integer_fails_the_state(machines: Machines):
    definition = mapped({"ItemBatcher": {"MaxItemsPerBatchPath": "$.most"}})
    definition["States"]["Map"]["ItemsPath"] = "$.xs"
    described = machines.run(definition, {"xs": [1], "most": "two"})
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"].endswith(
        'The MaxItemsPerBatchPath field refers to value "two" which is not a positive '
        "integer: $.most"
    )
    kinds = [event["type"] for event in machines.history(described["executionArn"])]
    assert kinds[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]  # as AWS's
    # recorded ItemReader failures (a bad MaxItems) end a Map run


@pytest.mark.parametrize(
    ("map_state", "language", "problem"),
    [
        (
            {
                "ItemBatcher": {"MaxItemsPerBatch": 2},
                "ItemProcessor": {**AS_IS, "ProcessorConfig": {}},
            },
            "JSONPath",
            "The field 'ItemBatcher' is only supported for a Map in 'DISTRIBUTED' mode at "
            "/States/Map",
        ),
        (
            {"ItemBatcher": {"MaxItemsPerBatchPath": "$.most"}},
            "JSONata",
            "field 'MaxItemsPerBatchPath' is only supported for the 'JSONPath' QueryLanguage at "
            "/States/Map/ItemBatcher",
        ),
        ({"ItemBatcher": {"BatchInput": {}}}, "JSONPath", "must set at least one of"),
        (
            {"ItemBatcher": {"MaxItemsPerBatch": 2, "MaxItemsPerBatchPath": "$.most"}},
            "JSONPath",
            "'MaxItemsPerBatch' and 'MaxItemsPerBatchPath' are mutually exclusive",
        ),
    ],
)
def test_a_batcher_the_engine_cannot_run_is_refused_at_creation(
    machines: Machines, map_state: dict[str, Any], language: str, problem: str
):
    with pytest.raises(ClientError) as refused:
        machines.create(mapped(map_state, language))
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert problem in refused.value.response["Error"]["Message"]
