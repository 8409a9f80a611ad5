"""A distributed Map's items as AWS reads and batches them, where moto's differ. Registered in
local/patches/registry.py.

- Over an S3 listing (`ItemReader` on `s3:listObjectsV2`), each item is the object's metadata
  in the shape AWS documents (input-output-itemreader.html, "Input passed to a child workflow
  execution"): `Etag`, `Key`, `LastModified` in epoch seconds, `Size`, `StorageClass`, for
  every object under the prefix, page after page. moto handed on boto3's first page as boto3
  parses it, whose `datetime`s made DescribeExecution and GetExecutionHistory answer 500, and
  failed on an empty listing.
- `ItemBatcher` (input-output-itembatcher.html; the States Language's "Batching Items"): the
  selected items, grouped into batches of at most `MaxItemsPerBatch` items and
  `MaxInputBytesPerBatch` bytes, each child's input `{"BatchInput": ..., "Items": [...]}`.
  moto's grammar has no `ItemBatcher` and refused every definition with one. The batcher's
  fields are read by a Pass state's payload (JSONPath `Parameters`, JSONata `Output`), so
  paths, intrinsic functions, variables, expressions and their failures are moto's and this
  engine's as anywhere else.
- An S3 object's items in the formats AWS added in 2025 (input-output-itemreader.html): JSON
  Lines (`InputType: JSONL`, one item per line), CSV with a `CSVDelimiter`, the array a JSON
  file's `ItemsPointer` points at, and every listed object's items (`s3:listObjectsV2` with
  `Transformation: LOAD_AND_FLATTEN`). moto's grammar knew none and refused them.
- A distributed Map over a JSON object (its items from the state's input, or an S3 JSON file
  whose root or `ItemsPointer` is an object): an iteration per key-value pair, in the
  object's order, its input `{"Key": ..., "Value": ...}`, and `Map.Item.Key` beside
  `Map.Item.Index` and `Map.Item.Value` (the pair's value) in the context object, as the
  ItemsPath, ItemReader and context object pages describe. moto refused any object. An
  inline Map still takes arrays only, as AWS's inline-mode page says.

- A JSONata Map's `ItemSelector` given as an expression (the States Language's Map State: "a
  JSON text, or a JSONata string that evaluates to a JSON text"), evaluated for each item as
  a Pass state's `Output` is. moto's grammar took an object alone and refused the definition.

moto's parser is handed each definition without what its grammar lacks (`fields_moto_lacks`,
a ResultWriter's `WriterConfig` and JSONata `Arguments` too: local/patches/results.py
writes the results); each Map's components are then told theirs.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import re
import types
from collections.abc import Iterator
from typing import Any, Final, cast

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common import parargs
from moto.stepfunctions.parser.asl.component.common.comment import Comment
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
    resource_eval_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_selector import (
    ItemSelector,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    distributed_iteration_component,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import JobPool
from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import (
    DEFAULT_MAX_CONCURRENCY_VALUE,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer import (
    result_writer_decl,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import (
    StateCredentials,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData

from local.aws.stepfunctions import payloads
from local.aws.stepfunctions.definitions import (
    CSV_DELIMITERS,
    ITEM_BATCHER,
    JSONATA,
    LOAD_AND_FLATTEN,
    READER_FIELDS,
    is_expression,
    map_states,
)
from local.aws.stepfunctions.failures import states_failure
from local.patches import branches, results
from local.patches.hooks import Hooks
from local.patches.jsonata import query_evaluation_failure

# The parser is handed each Map with what moto's grammar lacks in its Comment, after this mark:
# the definition's text stays unique to them (parses are cached by text, speed.py).
_MARK: Final = "\x00MotoLacks:"
_JSONL: Final = "JSONL"
# What a Map's ItemsPath or Items give the items of (_tell).
_DISTRIBUTED: Final = "DISTRIBUTED"
_INLINE: Final = "INLINE"
_LIMITS: Final = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")


class _Pair(dict[str, Any]):
    """One key-value pair of an object a distributed Map iterates: {"Key": ..., "Value": ...}."""


def _pairs(value: Any) -> Any:
    """An object's key-value pairs, in its order; anything else as it is."""
    if isinstance(value, dict):
        return [_Pair(Key=key, Value=item) for key, item in value.items()]
    return value


def _plain(item: Any) -> Any:
    """A pair as the plain object a child gets (the mark goes no further); anything else as
    it is."""
    return {"Key": item["Key"], "Value": item["Value"]} if isinstance(item, _Pair) else item


def item_data(index: int, item: Any) -> dict[str, Any]:
    """The context object's Map.Item for one item (an object's pair: its Key, and its Value)."""
    if isinstance(item, _Pair):
        return {"Index": index, "Key": item["Key"], "Value": item["Value"]}
    return dict(ItemData(Index=index, Value=item))


def listed_objects(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces ResourceEvalS3._handle_list_objects_v2(env, resource_runtime_part,
    state_credentials): every object under the prefix, each in AWS's documented shape."""

    def _handle_list_objects_v2(
        env: Environment, resource_runtime_part: Any, state_credentials: Any
    ) -> None:
        s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=state_credentials
        )
        parameters = env.stack.pop()
        pages = s3.get_paginator("list_objects_v2").paginate(**parameters)
        env.stack.append([_listed(found) for page in pages for found in page.get("Contents", [])])

    return _handle_list_objects_v2


def _listed(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "Etag": found["ETag"],
        "Key": found["Key"],
        "LastModified": int(found["LastModified"].timestamp()),
        "Size": found["Size"],
        "StorageClass": found["StorageClass"],
    }


class ItemBatcher:
    """One Map's ItemBatcher: its fields read by a Pass state's payload, in the Map's query
    language, against the Map's input; then the selected items cut into batches."""

    def __init__(self, language: str, config: dict[str, Any], parse: Any) -> None:
        self.config = config
        self.language = language
        fields = dict(config)
        if language == JSONATA:
            state = {"Type": "Pass", "QueryLanguage": JSONATA, "Output": fields, "End": True}
        else:
            for limit in _LIMITS:
                if f"{limit}Path" in fields:
                    fields[f"{limit}.$"] = fields.pop(f"{limit}Path")
            state = {"Type": "Pass", "Parameters": fields, "End": True}
        program, _ = parse(json.dumps({"StartAt": "ItemBatcher", "States": {"ItemBatcher": state}}))
        pass_state = program.states.states["ItemBatcher"]
        self.payload = (
            pass_state.output.jsonata_template_value
            if language == JSONATA
            else pass_state.parameters
        )
        _relocated(self.payload, "Output/", "ItemBatcher/")  # a failure names ItemBatcher/<field>

    def batches(self, env: Environment, map_input: Any, items: list[Any]) -> list[Any]:
        frame = env.open_frame()
        try:
            frame.states.reset(input_value=map_input)
            frame.stack.append(map_input)  # what a JSONPath payload's paths read
            self.payload.eval(env=frame)
            fields = frame.stack.pop()
        finally:
            env.delete_frame(frame)
        most_items, most_bytes = (self._limit(env, fields, limit) for limit in _LIMITS)
        head = {"BatchInput": fields["BatchInput"]} if "BatchInput" in fields else {}
        return [{**head, "Items": batch} for batch in _cut(items, head, most_items, most_bytes)]

    def _limit(self, env: Environment, fields: dict[str, Any], limit: str) -> int | None:
        if limit not in fields:
            return None
        value = fields[limit]
        if f"{limit}Path" in self.config and isinstance(value, str) and value.isdigit():
            value = int(value)  # AWS's recorded execution: a path to "2" batches by two
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        shown = value if isinstance(value, str) else json.dumps(value)
        if self.language == JSONATA:
            cause = f"The value of the field '{limit}' must be a positive integer: {shown}"
            raise query_evaluation_failure(env, cause, f"ItemBatcher/{limit}")
        if f"{limit}Path" in self.config:
            path = self.config[f"{limit}Path"]
            cause = (
                f'The {limit}Path field refers to value "{shown}" which is not a positive '
                f"integer: {path}"
            )
        else:
            cause = f"Expected positive integer for {limit}, got '{shown}' instead."
        raise states_failure(  # a map run's failure, as moto's ItemReader's MaxItems
            env, StatesErrorNameType.StatesRuntime, cause, HistoryEventType.MapRunFailed
        )


def _cut(
    items: list[Any], head: dict[str, Any], most_items: int | None, most_bytes: int | None
) -> Iterator[list[Any]]:
    """Items in order, a batch closed when the next item would pass either limit (a batch's
    bytes: its whole input as JSON, BatchInput included). An item over the byte limit on its
    own goes in a batch of its own."""
    batch: list[Any] = []
    size = payloads.size({**head, "Items": []})
    for item in items:
        grown = size + payloads.size(item) + (1 if batch else 0)  # the comma before it
        full = most_items is not None and len(batch) >= most_items
        if batch and (full or (most_bytes is not None and grown > most_bytes)):
            yield batch
            batch, size = [], payloads.size({**head, "Items": []})
            grown = size + payloads.size(item)
        batch.append(item)
        size = grown
    if batch:
        yield batch


def _components(root: Any) -> Iterator[Any]:
    """root and every component under it, each once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, Component) and id(value) not in seen:
            seen.add(id(value))
            yield value
            stack.extend(vars(value).values())


def _relocated(root: Any, parsed_at: str, sits_at: str) -> None:
    """The JSONata fields under root, parsed as a Pass state's Output, told where they sit
    (their failures name that location)."""
    for component in _components(root):
        location = getattr(component, "aws_location", None)
        if location:
            component.aws_location = location.replace(parsed_at, sits_at, 1)


def fields_moto_lacks(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces AmazonStateLanguageParser.parse(definition): what moto's grammar lacks (a
    Map's ItemBatcher, ReaderConfig fields and input type, WriterConfig) is taken out before
    moto parses the definition; each Map's components are then told theirs (_tell)."""

    @functools.wraps(original)
    def parse(definition: str) -> Any:
        if '"Map"' not in definition:
            return original(definition)
        program, tree = original(_without_what_moto_lacks(definition))
        _tell(program, original)
        return program, tree

    return parse


def _without_what_moto_lacks(definition: str) -> str:
    """The definition with each Map's lacked fields in its Comment, after the mark."""
    lacking = (
        ITEM_BATCHER,
        "InputType",
        "WriterConfig",
        "Arguments",  # a JSONata ResultWriter's
        "ItemSelector",  # a JSONata expression
        "ToleratedFailurePercentage",
        *READER_FIELDS,
    )
    if not any(f'"{word}"' in definition for word in lacking):
        return definition
    try:
        parsed = json.loads(definition)
    except ValueError:
        return definition  # moto's parser says what is wrong with it
    before = json.dumps(parsed)
    for state, language in map_states(parsed):
        lacked = _taken_out(state, language)
        if lacked:
            state["Comment"] = _MARK + json.dumps(lacked)
    after = json.dumps(parsed)
    return after if after != before else definition


def _tell(program: Any, parse: Any) -> None:
    """Each Map of a parsed program told, once: its batcher, reader and writer's config (from
    its Comment), whether its children's records are kept (it writes its results), and
    whether its ItemsPath or Items give the items of an inline or a distributed Map (an
    ItemReader's Map reads its items elsewhere)."""
    if getattr(program, "aws_told", False):
        return  # a parse moto cached
    program.aws_told = True
    distributed = distributed_iteration_component.DistributedIterationComponent
    for component in _components(program):
        if not isinstance(component, StateMap):
            continue
        text = component.comment.comment if isinstance(component.comment, Comment) else ""
        if text.startswith(_MARK):
            _told_lacked(component, json.loads(text[len(_MARK) :]), parse)
        if component.result_writer is not None:  # its children's records are kept
            component.iteration_component.aws_writes = True  # type: ignore[attr-defined]
        if component.item_reader is not None:
            continue
        mode = _DISTRIBUTED if isinstance(component.iteration_component, distributed) else _INLINE
        for items in (component.items_path, component.items):
            if items is not None:
                items.aws_map_items = mode  # type: ignore[union-attr]
        if component.items_path is None and component.items is None:
            component.aws_input_items = mode  # type: ignore[attr-defined]  # JSONata: its input


def _told_lacked(component: Any, lacked: dict[str, Any], parse: Any) -> None:
    """A Map told what its Comment carries for it: its batcher, reader and writer's config,
    its selector expression."""
    if "ItemSelector" in lacked:
        component.item_selector = _expression_selector(lacked["ItemSelector"], parse)
    if "ItemBatcher" in lacked:
        language, batcher = lacked["ItemBatcher"]
        iteration = component.iteration_component
        iteration.aws_item_batcher = ItemBatcher(language, batcher, parse)
    if "ReaderConfig" in lacked:
        component.item_reader.aws_reader = Reader(lacked["ReaderConfig"])
    if "ResultWriter" in lacked:
        component.result_writer = _jsonata_writer(lacked["ResultWriter"], parse)
    if "WriterConfig" in lacked:
        if component.result_writer is None:
            component.result_writer = results.ResultsOnly(lacked["WriterConfig"])
        else:
            component.result_writer.aws_writer_config = lacked["WriterConfig"]


def _jsonata_writer(writer: dict[str, Any], parse: Any) -> result_writer_decl.ResultWriter:
    """A ResultWriter whose Arguments are JSONata (moto's grammar takes Parameters alone): its
    Resource as moto parses one, its Arguments read as a JSONata Pass state's Output is."""
    shell = {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED"},
            "StartAt": "Child",
            "States": {"Child": {"Type": "Pass", "End": True}},
        },
        "ResultWriter": {"Resource": writer["Resource"], "Parameters": {}},
        "End": True,
    }
    arguments = {"Type": "Pass", "QueryLanguage": "JSONata", "Output": writer["Arguments"]}
    states = {"Map": shell, "Arguments": {**arguments, "End": True}}
    program, _ = parse(json.dumps({"StartAt": "Map", "States": states}))
    template = program.states.states["Arguments"].output.jsonata_template_value
    _relocated(template, "Output", "ResultWriter/Arguments")  # ResultWriter/Arguments/<field>
    resource = program.states.states["Map"].result_writer.resource
    return result_writer_decl.ResultWriter(resource, parargs.Arguments(template))


def _expression_selector(selector: str, parse: Any) -> ItemSelector:
    """A JSONata ItemSelector written as an expression, read as a JSONata Pass state's Output
    is; a failure names the ItemSelector."""
    state = {"Type": "Pass", "QueryLanguage": JSONATA, "Output": selector, "End": True}
    program, _ = parse(json.dumps({"StartAt": "ItemSelector", "States": {"ItemSelector": state}}))
    template = program.states.states["ItemSelector"].output.jsonata_template_value
    _relocated(template, "Output", "ItemSelector")
    return ItemSelector(template)


def _taken_out(state: dict[str, Any], language: str) -> dict[str, Any]:
    """What moto's grammar lacks, taken out of one Map state."""
    lacked: dict[str, Any] = {}
    if language == JSONATA and is_expression(state.get("ItemSelector")):
        lacked["ItemSelector"] = state.pop("ItemSelector")
    if isinstance(state.get(ITEM_BATCHER), dict):
        lacked["ItemBatcher"] = [language, state.pop(ITEM_BATCHER)]
    percentage = state.get("ToleratedFailurePercentage")
    if isinstance(percentage, int) and not isinstance(percentage, bool):
        state["ToleratedFailurePercentage"] = float(percentage)  # moto's grammar took 5.0, not 5
    writer = state.get("ResultWriter")
    if language == JSONATA and isinstance(writer, dict) and "Arguments" in writer:
        lacked["ResultWriter"] = writer = state.pop("ResultWriter")  # moto's grammar lacks it
    if isinstance(writer, dict) and isinstance(writer.get("WriterConfig"), dict):
        lacked["WriterConfig"] = writer.pop("WriterConfig")
        if not writer:
            del state["ResultWriter"]  # a WriterConfig alone: nothing for moto to write
    reader = state.get("ItemReader")
    if not isinstance(reader, dict) or not isinstance(reader.get("ReaderConfig"), dict):
        return lacked
    config = reader["ReaderConfig"]
    read = {field: config.pop(field) for field in READER_FIELDS if field in config}
    if read.get("Transformation") == "NONE":
        del read["Transformation"]  # AWS's default: the listing itself
    input_type = config.get("InputType")
    if input_type in (_JSONL, "JSON") or (read and input_type is not None):
        lacked["ReaderConfig"] = {"InputType": input_type, **read}  # JSON: an object is read too
    if input_type == _JSONL:
        config["InputType"] = "JSON"  # a type moto's grammar takes; the Reader reads it
    if not config:
        del reader["ReaderConfig"]  # moto's grammar takes no empty one
    return lacked


def item_batcher(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces DistributedIterationComponent._map_run(self, env, eval_input): with a batcher,
    each item is selected first (ItemSelector, with its own index and value in the context),
    then the selected items are batched and each batch is a child's input as it is."""

    @functools.wraps(original)
    def map_run(self: Any, env: Environment, eval_input: Any) -> None:
        batcher: ItemBatcher | None = getattr(self, "aws_item_batcher", None)
        if batcher is None:
            return original(self, env, eval_input)
        items = env.stack.pop()
        map_input = env.stack[-1]  # as moto's workers read it
        selector = eval_input.item_selector or eval_input.parameters
        if selector is not None:
            items = [_selected(env, selector, map_input, i, item) for i, item in enumerate(items)]
        items = [_plain(item) for item in items]
        env.stack.append(batcher.batches(env, map_input, items))
        as_is = copy.copy(eval_input)
        as_is.item_selector = as_is.parameters = None
        return original(self, env, as_is)

    return map_run


def _selected(env: Environment, selector: Any, map_input: Any, index: int, item: Any) -> Any:
    frame = env.open_frame()
    try:
        frame.states.context_object.context_object_data["Map"] = MapData(
            Item=cast(ItemData, item_data(index, item))
        )
        frame.states.reset(input_value=map_input)
        frame.stack.append(map_input)
        selector.eval(frame)
        return frame.stack.pop()
    finally:
        env.delete_frame(frame)


class Reader:
    """One ItemReader's items in the formats moto's grammar lacks, as AWS documents them."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.input_type: str = config["InputType"]
        self.delimiter = CSV_DELIMITERS[config.get("CSVDelimiter", "COMMA")]
        self.pointer: str | None = config.get("ItemsPointer")
        self.flatten = config.get("Transformation") == LOAD_AND_FLATTEN

    def items(
        self, env: Environment, text: str, config: dict[str, Any], moto_csv: Any
    ) -> list[Any]:
        """The items of one object's text. CSV is read by moto's reader (moto_csv: headers,
        duplicates and missing fields as moto reads them), given commas for the delimiter."""
        text = text.removeprefix("\ufeff")  # a byte order mark is no part of the data
        if self.input_type == "CSV":
            if not text:
                return []  # no header row: no items
            if self.delimiter != ",":
                rows = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
                as_commas = io.StringIO()
                csv.writer(as_commas, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
                text = as_commas.getvalue()
            env.stack.append(text)
            env.stack.append(config)
            moto_csv.eval(env=env)
            return cast(list[Any], env.stack.pop())
        if self.input_type == _JSONL:
            lines = (line.rstrip("\r") for line in text.split("\n"))  # JSON may hold U+2028
            return [
                _parsed(env, line, f"Line {number} of the JSON Lines object is no JSON.")
                for number, line in enumerate(lines, start=1)
                if line.strip()
            ]
        value = _parsed(env, text, "The object is no JSON.")
        if self.pointer:
            value = _pointed(env, value, self.pointer)
        if not isinstance(value, list | dict):
            raise _reader_failure(env, "Attempting to map over non-iterable node.")
        return cast(list[Any], _pairs(value))


def _parsed(env: Environment, text: str, cause: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise _reader_failure(env, cause) from None


_INDEX: Final = re.compile(r"0|[1-9][0-9]*")  # RFC 6901's array index: no leading zero


def _pointed(env: Environment, value: Any, pointer: str) -> Any:
    """The value a JSON Pointer (RFC 6901; its form is checked at creation) points at."""
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and _INDEX.fullmatch(key) and int(key) < len(value):
            value = value[int(key)]
        else:
            raise _reader_failure(
                env,
                "The provided ReaderConfig.ItemsPointer does not match any valid path in the "
                "JSON structure.",
            )
    return value


def _reader_failure(env: Environment, cause: str) -> FailureEventException:
    """States.ItemReaderFailed, ending the Map run (as moto's own readers fail)."""
    return states_failure(
        env,
        StatesErrorNameType.StatesItemReaderFailed,
        cause,
        HistoryEventType.TaskFailed,
        "mapRunFailedEventDetails",
    )


def reader_formats(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces ItemReader._eval_body(self, env): an ItemReader told a Reader reads its
    object's text (or, with LOAD_AND_FLATTEN, every listed object's) in its format; MaxItems
    counts the items of all of them. An item source S3 refuses (no such bucket or key, no
    access) is States.ItemReaderFailed, the error-handling page's name for an ItemReader that
    "couldn't read from the item source" (moto: States.Runtime, which no catcher takes)."""

    @functools.wraps(original)
    def _eval_body(self: Any, env: Environment) -> None:
        reader: Reader | None = getattr(self, "aws_reader", None)
        try:
            if reader is None:
                original(self, env)
            else:
                _read(self, env, reader)
        except ClientError as refused:
            error = refused.response.get("Error", {})
            cause = f"{error.get('Code', 'S3')}: {error.get('Message', refused)}"
            raise _reader_failure(env, cause) from refused

    return _eval_body


def _read(item_reader: Any, env: Environment, reader: Reader) -> None:
    item_reader.reader_config.eval(env=env)
    config = env.stack.pop()
    most = config["MaxItemsValue"]
    if item_reader.parargs:
        item_reader.parargs.eval(env=env)
    else:
        env.stack.append({})
    bucket = env.stack[-1].get("Bucket")
    item_reader.resource_eval.eval_resource(env=env)  # the object's text, or the listing
    found = env.stack.pop()
    if not isinstance(found, str) and not reader.flatten:
        env.stack.append(found[:most])  # a listing's objects themselves
        return
    moto_csv = item_reader.resource_output_transformer  # moto's, for the InputType given
    if not reader.flatten:
        env.stack.append(reader.items(env, found, config, moto_csv)[:most])
        return
    item_reader.resource_eval.resource.eval(env=env)
    s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(
        resource_runtime_part=env.stack.pop(),
        state_credentials=StateCredentials(role_arn=env.aws_execution_details.role_arn),
    )
    items: list[Any] = []
    for listed in found:
        if len(items) >= most:
            break
        body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
        if body:  # a folder's empty placeholder object holds no items
            items.extend(reader.items(env, body.decode(), config, moto_csv))
    env.stack.append(items[:most])


def object_items(original: Any, hooks: Hooks, name: str) -> Any:
    """The Map's items, as _tell told its components: StateMap._eval_execution(self, env) (a
    JSONata Map's input), ItemsPath._eval_body(self, env) and ItemsJSONata._eval_body(self,
    env) give a distributed Map an object's pairs, and an inline Map's ItemsPath to no array
    AWS's error; the workers' _eval_input(self, env_frame) give a pair's child the pair as a
    plain object, and Map.Item its Key and Value."""
    return {
        "StateMap": _map_over_objects,
        "ItemsPath": _path_pairs,
        "ItemsJSONata": _expression_pairs,
        "InlineItemProcessorWorker": _item_with_key,
        "InlineIteratorWorker": _item_with_key,
    }[original.__qualname__.split(".")[0]](original)


def _map_over_objects(original: Any) -> Any:
    @functools.wraps(original)
    def eval_execution(self: Any, env: Environment) -> None:
        if getattr(self, "aws_input_items", None) == _DISTRIBUTED:
            env.stack.append(_pairs(env.stack.pop()))
        original(self, env)

    return eval_execution


def _path_pairs(original: Any) -> Any:
    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        original(self, env)
        mode = getattr(self, "aws_map_items", None)
        if mode == _DISTRIBUTED:
            env.stack.append(_pairs(env.stack.pop()))
        if mode is not None and not isinstance(env.stack[-1], list):
            # AWS's answer (a recorded TestState of December 2025) names the path as a
            # reference path, a context path with one $; moto's named a Python type
            path = self.string_sampler.literal_value.replace("$$", "$", 1)
            raise states_failure(
                env,
                StatesErrorNameType.StatesRuntime,
                f'Reference path "{path}" must point to array.',
                HistoryEventType.ExecutionFailed,
            )

    return eval_body


class _Evaluated:
    """An expression already evaluated: its text, and what it gave."""

    def __init__(self, expression: Any, value: Any) -> None:
        self.literal_value = expression.literal_value
        self.value = value

    def eval(self, env: Environment) -> None:
        env.stack.append(self.value)


def _expression_pairs(original: Any) -> Any:
    @functools.wraps(original)
    def eval_body(self: Any, env: Environment) -> None:
        if getattr(self, "aws_map_items", None) != _DISTRIBUTED:
            return original(self, env)
        self.string_jsonata.eval(env=env)
        value = env.stack.pop()
        if isinstance(value, list | dict):
            env.stack.append(_pairs(value))
            return None
        # moto's failure for what is neither, of the value the expression gave
        evaluated = types.SimpleNamespace(string_jsonata=_Evaluated(self.string_jsonata, value))
        return original(evaluated, env)

    return eval_body


def _item_with_key(original: Any) -> Any:
    @functools.wraps(original)
    def eval_input(self: Any, env_frame: Environment) -> None:
        mapped = env_frame.states.context_object.context_object_data.get("Map")
        if mapped is not None and isinstance(mapped["Item"]["Value"], _Pair):
            pair = mapped["Item"]["Value"]
            mapped["Item"] = cast(ItemData, item_data(mapped["Item"]["Index"], pair))
            env_frame.states.reset(input_value=_plain(pair))
            env_frame.stack[-1] = env_frame.states.get_input()
        original(self, env_frame)

    return eval_input


def worker_loop(original: Any, hooks: Hooks, name: str) -> Any:
    """Wraps a Map worker's _eval_pool(self, job, worker_frame): the worker runs its jobs one
    after another. moto's _eval_pool ends by calling itself for the next job, a frame per
    item: a worker given about a thousand items (an inline Map of 1,500 at MaxConcurrency 1)
    passed Python's recursion limit, and the execution stayed RUNNING for ever. Here that
    last call, made from inside, is queued and run once the one before has returned (the
    queue is the worker's own: each worker runs in a thread of its own)."""

    @functools.wraps(original)
    def eval_pool(self: Any, job: Any, worker_frame: Any) -> None:
        queued: list[tuple[Any, Any]] | None = vars(self).get("aws_next_jobs")
        if queued is not None:  # moto's call for the next job, from inside: its last act
            queued.append((job, worker_frame))
            return
        queued = self.aws_next_jobs = [(job, worker_frame)]
        try:
            while queued:
                original(self, *queued.pop())
        finally:
            del self.aws_next_jobs

    return eval_pool


def aborted_iterations(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces InlineIterationComponent._eval_body(self, env) and wraps
    IterationWorker._eval_job(self, env, job): an inline Map's iterations run behind gates
    (local/patches/branches.py); the first to fail aborts the others, no item starts after
    it, and the Map fails with its error."""
    if original.__qualname__.startswith("IterationWorker"):
        return _gated_job(original)
    clock = hooks.clock

    def _eval_body(self: Any, env: Environment) -> None:
        eval_input = env.stack.pop()
        items = eval_input.input_items
        pool = JobPool(job_program=self._get_iteration_program(), job_inputs=items)
        children = pool.aws_children = branches.Children(env.event_manager)  # type: ignore[attr-defined]
        workers = eval_input.max_concurrency
        for _ in range(len(items) if workers == DEFAULT_MAX_CONCURRENCY_VALUE else workers):
            self._launch_worker(env=env, eval_input=eval_input, job_pool=pool)
        pool.await_jobs()
        failure = pool.get_worker_exception()
        failed = children.failed
        if failed is not None:
            failed.done.wait()  # its job's output set: the iteration's failure
            failure = failed.job.job_output
            children.close(env, clock, eval_input.state_name)
        if failure is not None:
            raise failure
        env.stack.append([closed.job_output for closed in pool.get_closed_jobs()])

    return _eval_body


def _gated_job(original: Any) -> Any:
    @functools.wraps(original)
    def _eval_job(self: Any, env: Environment, job: Any) -> None:
        children: branches.Children | None = getattr(self._job_pool, "aws_children", None)
        if children is None:
            return original(self, env, job)
        gate = children.gate(job.job_index, env)
        gate.job = job
        try:
            if gate.started:
                original(self, env, job)
            else:  # the Map has failed: the item does not start
                job.job_output = RuntimeError(f"Item {job.job_index} not started: the Map failed.")
        finally:
            gate.done.set()
        return None

    return _eval_job
