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
  moto's grammar has no `ItemBatcher` and refused every definition with one. The parser is
  handed the definition without it; the batcher's fields are read by a Pass state's payload
  (JSONPath `Parameters`, JSONata `Output`), so paths, intrinsic functions, variables,
  expressions and their failures are moto's and this engine's as anywhere else.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from typing import Any, Final, cast

from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.comment import Comment
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
    resource_eval_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData

from local.aws.stepfunctions.definitions import ITEM_BATCHER, JSONATA, map_states
from local.patches.hooks import Hooks
from local.patches.jsonata import query_evaluation_failure

# The parser is handed each batched Map with its batcher in its Comment, after this mark: the
# definition's text stays unique to its batcher (parses are cached by text, speed.py).
_MARK: Final = "\x00ItemBatcher:"
_LIMITS: Final = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")


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
        for component in _components(self.payload):  # a failure names ItemBatcher/<field>
            location = getattr(component, "aws_location", None)
            if location:
                component.aws_location = location.replace("Output/", "ItemBatcher/", 1)

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
        runtime = StatesErrorNameType.StatesRuntime
        details = ExecutionFailedEventDetails(error=runtime.to_name(), cause=cause)
        raise FailureEventException(
            FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=runtime),
                event_type=HistoryEventType.MapRunFailed,  # as moto's ItemReader's MaxItems
                event_details=cast(EventDetails, {"executionFailedEventDetails": details}),
            )
        )


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _cut(
    items: list[Any], head: dict[str, Any], most_items: int | None, most_bytes: int | None
) -> Iterator[list[Any]]:
    """Items in order, a batch closed when the next item would pass either limit (a batch's
    bytes: its whole input as JSON, BatchInput included). An item over the byte limit on its
    own goes in a batch of its own."""
    batch: list[Any] = []
    size = _size({**head, "Items": []})
    for item in items:
        grown = size + _size(item) + (1 if batch else 0)  # the comma before it
        full = most_items is not None and len(batch) >= most_items
        if batch and (full or (most_bytes is not None and grown > most_bytes)):
            yield batch
            batch, size = [], _size({**head, "Items": []})
            grown = size + _size(item)
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


def item_batcher(original: Any, hooks: Hooks, name: str) -> Any:
    """The parser (parse) and the distributed Map's run (_map_run) for ItemBatcher."""
    return (_parse if name == "parse" else _map_run)(original)


def _parse(original: Any) -> Any:
    """Replaces AmazonStateLanguageParser.parse(definition): a definition with an ItemBatcher
    is parsed without it, each batched Map's iteration told its batcher."""

    @functools.wraps(original)
    def parse(definition: str) -> Any:
        if f'"{ITEM_BATCHER}"' not in definition:
            return original(definition)
        try:
            parsed = json.loads(definition)
        except ValueError:
            return original(definition)
        found = False
        for state, language in map_states(parsed):
            if isinstance(state.get(ITEM_BATCHER), dict):
                batcher = state.pop(ITEM_BATCHER)
                state["Comment"] = _MARK + json.dumps([language, batcher])
                found = True
        if not found:
            return original(definition)
        program, tree = original(json.dumps(parsed))
        for component in _components(program):
            if isinstance(component, StateMap) and isinstance(component.comment, Comment):
                text = component.comment.comment
                iteration = component.iteration_component
                if text.startswith(_MARK) and not hasattr(iteration, "aws_item_batcher"):
                    language, batcher = json.loads(text[len(_MARK) :])
                    iteration.aws_item_batcher = ItemBatcher(language, batcher, original)  # type: ignore[attr-defined]
        return program, tree

    return parse


def _map_run(original: Any) -> Any:
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
        env.stack.append(batcher.batches(env, map_input, items))
        as_is = copy.copy(eval_input)
        as_is.item_selector = as_is.parameters = None
        return original(self, env, as_is)

    return map_run


def _selected(env: Environment, selector: Any, map_input: Any, index: int, item: Any) -> Any:
    frame = env.open_frame()
    try:
        frame.states.context_object.context_object_data["Map"] = MapData(
            Item=ItemData(Index=index, Value=item)
        )
        frame.states.reset(input_value=map_input)
        frame.stack.append(map_input)
        selector.eval(frame)
        return frame.stack.pop()
    finally:
        env.delete_frame(frame)
