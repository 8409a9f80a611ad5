"""A distributed Map's items as AWS reads and batches them (local/patches/maps.py).

AWS's pages: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
("A list of Amazon S3 objects": the input a child gets) and
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html (each
child's input is `{"Items": [...]}`, with `BatchInput` beside it); the States Language's
"Batching Items" (the selected items are batched); and AWS's recorded executions where
docs/jsonata.md says so. The ItemReader page's ReaderConfig for the formats AWS added in 2025:
`InputType: JSONL`, `CSVDelimiter`, `ItemsPointer`, `Transformation: LOAD_AND_FLATTEN`.
A distributed Map over an object: input-output-itemspath.html ("If the input to the Map state
is a JSON object, it runs an iteration for each key-value pair"), input-output-itemreader.html
("The JSON file must contain an array or JSON object"), transforming-data.html (`Items`
accepts an object) and input-output-contextobject.html (`Map.Item.Key`, "Only valid for JSON
objects"); the pair's shape `{"Key", "Value"}` as a report of AWS's behaviour gives it
(docs/jsonata.md). An inline Map takes arrays only (state-map-inline.html).
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


def read(bucket: str, key: str, config: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": config,
            "Parameters": {"Bucket": bucket, "Key": key},
        },
        **fields,
    }


@pytest.fixture(scope="module")
def objects(machines: Machines) -> str:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="formats")
    bodies = {
        "lines.jsonl": '{"id": 1}\n\n{"id": 2, "tags": ["a"]}\n"three"\n',
        "broken.jsonl": '{"id": 1}\n{"id": \n',
        "semicolons.csv": 'name;note\nAda;"likes; semicolons"\nBob;\n',
        "tabs.csv": "name\tage\nAda\t36\n",
        "nested.json": '{"data": {"rows": [{"n": 1}, {"n": 2}], "count": 2}}',
        "servers.json": '{"web": {"port": 80}, "db": {"port": 5432}}',
        "daily/1.jsonl": '{"day": 1}\n{"day": 2}\n',
        "daily/2.jsonl": '{"day": 3}\n',
        "daily/empty/": "",  # a folder's placeholder, as the console makes one
        "bom.jsonl": '\ufeff{"id": 1}\n{"text": "a\u2028b"}\n',
        "quoted.csv": 'name|note\r\nAda|"one|two\r\nlines"\r\nBob|"say ""hi"""\r\nCy|"x\ry"\r\n',
        "tilde.json": '{"a/b": {"c~d": [10, [20, 21]]}}',
    }
    for key, body in bodies.items():
        s3.put_object(Bucket="formats", Key=key, Body=body.encode())
    return "formats"


def test_json_lines_give_an_item_per_line(machines: Machines, objects: str):
    definition = mapped(read(objects, "lines.jsonl", {"InputType": "JSONL"}))
    assert output(machines.run(definition)) == [{"id": 1}, {"id": 2, "tags": ["a"]}, "three"]


def test_json_lines_are_read_in_jsonata_and_counted_by_max_items(machines: Machines, objects: str):
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSONL", "MaxItems": "{% $states.input.most %}"},
        "Arguments": {"Bucket": objects, "Key": "{% $states.input.key %}"},
    }
    definition = mapped({"ItemReader": reader}, "JSONata")
    items = output(machines.run(definition, {"key": "lines.jsonl", "most": 2}))
    assert items == [{"id": 1}, {"id": 2, "tags": ["a"]}]


def test_a_line_that_is_no_json_fails_the_map_run_with_item_reader_failed(
    machines: Machines, objects: str
):
    described = machines.run(mapped(read(objects, "broken.jsonl", {"InputType": "JSONL"})))
    assert (described["status"], described["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert "Line 2" in described["cause"]
    kinds = [event["type"] for event in machines.history(described["executionArn"])]
    assert kinds[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


@pytest.mark.parametrize(
    ("key", "delimiter", "rows"),
    [
        (
            "semicolons.csv",
            "SEMICOLON",
            [{"name": "Ada", "note": "likes; semicolons"}, {"name": "Bob", "note": ""}],
        ),
        ("tabs.csv", "TAB", [{"age": "36", "name": "Ada"}]),  # values are strings, as AWS's
    ],
)
def test_a_csv_delimiter_separates_the_fields(
    machines: Machines, objects: str, key: str, delimiter: str, rows: list[dict[str, str]]
):
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": delimiter}
    assert output(machines.run(mapped(read(objects, key, config)))) == rows


def test_an_items_pointer_picks_the_array_inside_a_json_object(machines: Machines, objects: str):
    config = {"InputType": "JSON", "ItemsPointer": "/data/rows"}
    assert output(machines.run(mapped(read(objects, "nested.json", config)))) == [
        {"n": 1},
        {"n": 2},
    ]


@pytest.mark.parametrize(
    ("pointer", "cause"),
    [
        ("/data/columns", "ItemsPointer does not match any valid path"),
        ("/data/count", "Attempting to map over non-iterable node."),
    ],
)
def test_an_items_pointer_to_no_array_fails_with_item_reader_failed(
    machines: Machines, objects: str, pointer: str, cause: str
):
    config = {"InputType": "JSON", "ItemsPointer": pointer}
    described = machines.run(mapped(read(objects, "nested.json", config)))
    assert (described["status"], described["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert cause in described["cause"]
    kinds = [event["type"] for event in machines.history(described["executionArn"])]
    assert kinds[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


def test_a_pointers_escapes_are_read_as_rfc_6901_writes_them(machines: Machines, objects: str):
    config = {"InputType": "JSON", "ItemsPointer": "/a~1b/c~0d"}  # the keys "a/b", "c~d"
    assert output(machines.run(mapped(read(objects, "tilde.json", config)))) == [10, [20, 21]]
    config["ItemsPointer"] = "/a~1b/c~0d/1"
    assert output(machines.run(mapped(read(objects, "tilde.json", config)))) == [20, 21]
    config["ItemsPointer"] = "/a~1b/c~0d/01"  # no leading zero in an index
    described = machines.run(mapped(read(objects, "tilde.json", config)))
    assert "does not match any valid path" in described["cause"]


def test_quoted_fields_keep_their_delimiters_line_breaks_and_quotes(
    machines: Machines, objects: str
):
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": "PIPE"}
    assert output(machines.run(mapped(read(objects, "quoted.csv", config)))) == [
        {"name": "Ada", "note": "one|two\r\nlines"},
        {"name": "Bob", "note": 'say "hi"'},
        {"name": "Cy", "note": "x\ry"},
    ]


def test_a_json_line_may_hold_unicode_line_separators_after_a_byte_order_mark(
    machines: Machines, objects: str
):
    definition = mapped(read(objects, "bom.jsonl", {"InputType": "JSONL"}))
    assert output(machines.run(definition)) == [{"id": 1}, {"text": "a\u2028b"}]


def test_load_and_flatten_reads_every_listed_objects_items(machines: Machines, objects: str):
    def listed(**config: Any) -> dict[str, Any]:
        reader = {
            "Resource": "arn:aws:states:::s3:listObjectsV2",
            "ReaderConfig": {"InputType": "JSONL", "Transformation": "LOAD_AND_FLATTEN", **config},
            "Parameters": {"Bucket": objects, "Prefix": "daily/"},
        }
        return mapped({"ItemReader": reader})

    # the folder's empty placeholder holds no items
    assert output(machines.run(listed())) == [{"day": 1}, {"day": 2}, {"day": 3}]
    # MaxItems counts the items of all the objects
    assert output(machines.run(listed(MaxItems=2))) == [{"day": 1}, {"day": 2}]


def test_transformation_none_maps_the_listing_itself(machines: Machines, objects: str):
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "ReaderConfig": {"Transformation": "NONE"},  # AWS's default (moto's grammar refused it)
        "Parameters": {"Bucket": objects, "Prefix": "daily/"},
    }
    keys = [item["Key"] for item in output(machines.run(mapped({"ItemReader": reader})))]
    assert keys == ["daily/1.jsonl", "daily/2.jsonl", "daily/empty/"]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (
            {"InputType": "XML"},
            "SCHEMA_VALIDATION_FAILED: The field 'InputType' should have one of these values: "
            "[MANIFEST, JSON, CSV, JSONL, PARQUET] at /States/Map/ItemReader/ReaderConfig/"
            "InputType",
        ),
        (
            {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": "COLON"},
            "The field 'CSVDelimiter' should have one of these values: [COMMA, PIPE, SEMICOLON, "
            "SPACE, TAB]",
        ),
        (
            {"InputType": "JSON", "CSVDelimiter": "TAB"},
            "The field 'CSVDelimiter' is only supported for the InputType 'CSV'",
        ),
        (
            {"InputType": "JSONL", "ItemsPointer": "/rows"},
            "The field 'ItemsPointer' is only supported for the InputType 'JSON'",
        ),
        (
            {"InputType": "JSON", "Transformation": "LOAD_AND_FLATTEN"},
            "The Transformation 'LOAD_AND_FLATTEN' reads the objects an s3:listObjectsV2 lists",
        ),
        (
            {"InputType": "JSON", "ItemsPointer": "rows"},
            "The field 'ItemsPointer' must be a JSON Pointer (RFC 6901)",
        ),
        (
            {"CSVHeaderLocation": "FIRST_ROW"},
            "An ItemReader that reads an object with s3:getObject must give its ReaderConfig's "
            "InputType",
        ),
        ({"InputType": "PARQUET"}, "UNSUPPORTED_LOCALLY: AWS reads the InputType 'PARQUET'"),
        # CSVHeaderLocation: "You must specify this field only if you use a CSV file as
        # dataset", FIRST_ROW or GIVEN, GIVEN with the headers in CSVHeaders (the ItemReader
        # page). moto took a CSV reader without either and failed the execution with a Python
        # KeyError (States.Runtime: 'CSVHeaderLocation').
        (
            {"InputType": "CSV"},
            "SCHEMA_VALIDATION_FAILED: The field 'CSVHeaderLocation' is required but was missing "
            "at /States/Map/ItemReader/ReaderConfig",
        ),
        (
            {"InputType": "CSV", "CSVHeaderLocation": "GIVEN"},
            "The field 'CSVHeaders' is required but was missing at /States/Map/ItemReader/"
            "ReaderConfig",
        ),
        (
            {"InputType": "CSV", "CSVHeaderLocation": "LAST_ROW"},
            "The field 'CSVHeaderLocation' should have one of these values: [FIRST_ROW, GIVEN]",
        ),
        (
            {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": []},
            "Value cannot be empty at /States/Map/ItemReader/ReaderConfig/CSVHeaders",
        ),
        (
            {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", 2]},
            "Expected value of type String at /States/Map/ItemReader/ReaderConfig/CSVHeaders[1]",
        ),
    ],
)
def test_a_reader_config_the_engine_cannot_run_is_refused_at_creation(
    machines: Machines, config: dict[str, Any], problem: str
):
    with pytest.raises(ClientError) as refused:
        machines.create(mapped(read("formats", "any", config)))
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert problem in refused.value.response["Error"]["Message"]


def test_given_csv_headers_name_every_row_and_first_row_headers_read_the_first(
    machines: Machines, objects: str
):
    given: dict[str, Any] = {"InputType": "CSV", "CSVHeaderLocation": "GIVEN"}
    given |= {"CSVHeaders": ["who", "age"], "CSVDelimiter": "TAB"}
    assert output(machines.run(mapped(read(objects, "tabs.csv", given)))) == [
        {"age": "age", "who": "name"},
        {"age": "36", "who": "Ada"},
    ]
    first_row = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": "TAB"}
    assert output(machines.run(mapped(read(objects, "tabs.csv", first_row)))) == [
        {"age": "36", "name": "Ada"}
    ]


def test_a_jsonata_item_selector_may_be_one_expression(machines: Machines):
    # The States Language's Map State (https://states-language.net/spec.html#map-state): "A
    # JSONata Map State MAY have an "ItemSelector" field, whose value MUST be a JSON text, or a
    # JSONata string that evaluates to a JSON text"; aws-cdk issue 34538 runs one on AWS. moto's
    # parser refused the definition ("mismatched input ... expecting '{'").
    selector = "{% $merge([$states.input.base, {'item': $states.context.Map.Item.Value}]) %}"
    inline = {**AS_IS, "ProcessorConfig": {"Mode": "INLINE"}}
    definition = mapped(
        {"Items": "{% $states.input.xs %}", "ItemSelector": selector, "ItemProcessor": inline},
        "JSONata",
    )
    data = {"xs": ["a", "b"], "base": {"tag": 7}}
    assert output(machines.run(definition, data)) == [
        {"tag": 7, "item": "a"},
        {"tag": 7, "item": "b"},
    ]
    batched = mapped(
        {
            "Items": "{% $states.input.xs %}",
            "ItemSelector": "{% $uppercase($states.context.Map.Item.Value) %}",
            "ItemBatcher": {"MaxItemsPerBatch": 5},
        },
        "JSONata",
    )
    assert output(machines.run(batched, data)) == [{"Items": ["A", "B"]}]


def test_a_jsonata_item_selector_that_fails_names_the_item_selector(machines: Machines):
    inline = {**AS_IS, "ProcessorConfig": {"Mode": "INLINE"}}
    definition = mapped(
        {"Items": [1], "ItemSelector": "{% $error('no') %}", "ItemProcessor": inline}, "JSONata"
    )
    described = machines.run(definition)
    assert described["error"] == "States.QueryEvaluationError"
    assert "specified for the field 'ItemSelector'" in described["cause"]


def test_jsonata_reader_writer_and_batch_input_may_be_expressions(machines: Machines, objects: str):
    # input-output-itemreader.html and input-output-resultwriter.html: a JSONata ItemReader's and
    # ResultWriter's Arguments; input-output-itembatcher.html: BatchInput. AWS's own States
    # Language schema (aws/amazon-states-language-service) types each as an object or an expression.
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSONL"},
        "Arguments": "{% {'Bucket': $states.input.bucket, 'Key': 'lines.jsonl'} %}",
    }
    definition = mapped(
        {
            "ItemReader": reader,
            "ItemBatcher": {
                "MaxItemsPerBatch": 3,
                "BatchInput": "{% {'from': $states.input.bucket} %}",
            },
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Arguments": "{% {'Bucket': $states.input.bucket, 'Prefix': 'written'} %}",
            },
        },
        "JSONata",
    )
    written = output(machines.run(definition, {"bucket": objects}))["ResultWriterDetails"]
    assert written["Bucket"] == objects
    manifest = json.loads(
        boto3.client("s3").get_object(Bucket=objects, Key=written["Key"])["Body"].read()
    )
    key = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
    records = json.loads(boto3.client("s3").get_object(Bucket=objects, Key=key)["Body"].read())
    assert [json.loads(record["Input"]) for record in records] == [
        {"BatchInput": {"from": objects}, "Items": [{"id": 1}, {"id": 2, "tags": ["a"]}, "three"]}
    ]


SERVERS = {"server1": {"port": 80, "status": "active"}, "server2": {"port": 8080}}
PAIRS = [{"Key": name, "Value": value} for name, value in SERVERS.items()]


def test_a_distributed_map_over_an_object_iterates_its_key_value_pairs(machines: Machines):
    items = output(machines.run(mapped({"ItemsPath": "$.web"}), {"web": SERVERS}))
    assert items == PAIRS
    selector = {
        "name.$": "$$.Map.Item.Key",
        "at.$": "$$.Map.Item.Index",
        "port.$": "$$.Map.Item.Value.port",
    }
    selected = output(
        machines.run(mapped({"ItemsPath": "$.web", "ItemSelector": selector}), {"web": SERVERS})
    )
    assert selected == [
        {"name": "server1", "at": 0, "port": 80},
        {"name": "server2", "at": 1, "port": 8080},
    ]


def test_jsonata_items_and_a_jsonata_maps_input_may_be_objects(machines: Machines):
    selector = {"name": "{% $states.context.Map.Item.Key %}"}
    definition = mapped({"Items": "{% $states.input.web %}", "ItemSelector": selector}, "JSONata")
    assert output(machines.run(definition, {"web": SERVERS})) == [
        {"name": "server1"},
        {"name": "server2"},
    ]
    assert output(machines.run(mapped({}, "JSONata"), SERVERS)) == PAIRS


def test_a_json_files_object_is_iterated_by_its_pairs(machines: Machines, objects: str):
    read_all = mapped(read(objects, "servers.json", {"InputType": "JSON"}))
    assert output(machines.run(read_all)) == [
        {"Key": "web", "Value": {"port": 80}},
        {"Key": "db", "Value": {"port": 5432}},
    ]
    pointed = mapped(read(objects, "servers.json", {"InputType": "JSON", "ItemsPointer": "/web"}))
    assert output(machines.run(pointed)) == [{"Key": "port", "Value": 80}]


def test_pairs_given_on_are_plain_objects_to_a_later_inline_map(machines: Machines):
    # the pairs a distributed Map gave its children are data like any other afterwards
    inline = {
        "Type": "Map",
        "ItemSelector": {"item.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }

    def then(second: dict[str, Any]) -> dict[str, Any]:
        first = {"Type": "Map", "ItemProcessor": AS_IS, "Next": "I"}
        return {"StartAt": "Map", "States": {"Map": first, "I": second}}

    assert output(machines.run(then(inline), SERVERS)) == [{"item": pair} for pair in PAIRS]
    with_key = {**inline, "ItemSelector": {"key.$": "$$.Map.Item.Key"}}
    described = machines.run(then(with_key), SERVERS)
    assert described["error"] == "States.Runtime"  # an array's items have no key
    assert "$$.Map.Item.Key" in described["cause"]


def test_an_objects_pairs_are_batched_as_plain_objects(machines: Machines):
    definition = mapped({"ItemBatcher": {"MaxItemsPerBatch": 5}})
    assert output(machines.run(definition, SERVERS)) == [{"Items": PAIRS}]
    # a batch's pairs are data to a Map over them: an array's items, without a key
    inline = {
        "Type": "Map",
        "ItemsPath": "$.Items",
        "ItemSelector": {"key.$": "$$.Map.Item.Key"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    child = {"ProcessorConfig": DISTRIBUTED, "StartAt": "I", "States": {"I": inline}}
    batched = mapped({"ItemBatcher": {"MaxItemsPerBatch": 5}, "ItemProcessor": child})
    # the child fails (no key), so the run fails; a pair still marked would have passed
    assert machines.run(batched, SERVERS)["error"] == "States.ExceedToleratedFailureThreshold"


@pytest.mark.parametrize("mode", ["INLINE", "DISTRIBUTED"])
def test_items_that_are_no_array_fail_with_awss_reference_path_error(machines: Machines, mode: str):
    # AWS's recorded TestState of an inline Map (December 2025): States.Runtime, 'Reference
    # path "$" must point to array.'; moto named a Python type (<class 'dict'>).
    definition = mapped(
        {"ItemsPath": "$.web", "ItemProcessor": {**AS_IS, "ProcessorConfig": {"Mode": mode}}}
    )
    web = SERVERS if mode == "INLINE" else 3  # a distributed Map takes an object too
    described = machines.run(definition, {"web": web})
    assert described["error"] == "States.Runtime"
    assert described["cause"].endswith('Reference path "$.web" must point to array.')


@pytest.mark.parametrize(
    "config", [{"InputType": "JSON"}, {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}]
)
def test_an_item_source_s3_refuses_is_an_item_reader_failure(
    machines: Machines, bucket: str, config: dict[str, str]
):
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html names
    # States.ItemReaderFailed for a Map that "couldn't read from the item source"; moto failed
    # with States.Runtime and boto's words, which no catcher takes.
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": config,
        "Parameters": {"Bucket": bucket, "Key": "in/missing.json"},
    }
    state = {"ItemReader": reader, "ItemProcessor": AS_IS}
    described = machines.run(mapped(state), {})
    assert (described["status"], described["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert described["cause"] == "NoSuchKey: The specified key does not exist."
    catcher = {"ErrorEquals": ["States.ItemReaderFailed"], "Next": "Caught"}
    caught = mapped({**state, "Catch": [catcher]})
    caught["States"]["Caught"] = {"Type": "Succeed"}
    assert machines.run(caught, {})["status"] == "SUCCEEDED"


def test_an_item_reader_on_an_inline_map_is_refused(machines: Machines):
    # https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html: the
    # ItemReader reads the items of "a Distributed Map state"; moto took one on an inline Map,
    # whose execution then failed with a Python TypeError. The words are ours, as for the
    # batcher and the writer. (AWS's recorded executions run inline Maps with tolerated
    # failures: those stay.)
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b"}}
    inline = {**AS_IS, "ProcessorConfig": {"Mode": "INLINE"}}
    with pytest.raises(ClientError) as refused:
        machines.create(mapped({"ItemProcessor": inline, "ItemReader": reader}))
    assert (
        "SCHEMA_VALIDATION_FAILED: The field 'ItemReader' is only supported for a Map in "
        "'DISTRIBUTED' mode at /States/Map" in refused.value.response["Error"]["Message"]
    )


def test_a_worker_with_a_thousand_items_and_more_finishes(machines: Machines):
    # moto's worker called itself for each next item: past Python's recursion limit (about a
    # thousand items for one worker) the execution stayed RUNNING for ever.
    inline = {**AS_IS, "ProcessorConfig": {"Mode": "INLINE"}}
    state = {"ItemProcessor": inline, "MaxConcurrency": 1}
    described = machines.run(mapped(state), list(range(1200)))
    assert described["status"] == "SUCCEEDED"
    assert len(output(described)) == 1200
