"""What AWS checks in a state machine definition before storing it (its transitions, its
error matching, its query languages), where each JSONata expression sits in its state and
which workflow variables each state reads (pure Python over the definition's JSON).

Refused at CreateStateMachine (and UpdateStateMachine), as AWS words it (docs/jsonata.md):
- a transition to no state of its scope, and a state no transition reaches:
  `MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next`,
  `MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2`;
- `States.ALL` anywhere but alone in the last retrier or catcher:
  `SCHEMA_VALIDATION_FAILED: States.ALL must appear alone and at end of list at ...`;
- an intrinsic function whose string escapes a character the intrinsic functions page does
  not reserve: `SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid
  JSONPath or a valid intrinsic function call at /States/X/Parameters`;
- an ItemReader on an inline Map (ours, in the form of the batcher's);
- a state that asks for JSONPath in a state machine that is JSONata at the top:
  `SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for
  whole state machine at /States/Pass`;
- a JSONPath-only field in a JSONata state (or its ItemReader, ResultWriter, Choice rules,
  catchers): `SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field
  'Parameters' is only supported for the 'JSONPath' QueryLanguage at /States/Pass`; and a
  JSONata-only field in a JSONPath state, in the same words, the languages swapped;
- an expression that does not parse, or reads the context item at the top level:
  `INVALID_JSONATA_EXPRESSION: ...`, `UNSUPPORTED_JSONATA_EXPRESSION: ...` at its field;
- a variable whose name is not a variable name, or is the reserved `states`;
- an `ItemBatcher` that sets no limit, sets a limit twice (`MaxItemsPerBatch` and
  `MaxItemsPerBatchPath`), uses a `...Path` in JSONata, or sits on an inline Map (AWS runs it
  in distributed mode only; these messages are ours, in AWS's form);
- a numeric field given as a value out of AWS's range (numbers.py: a Wait's `Seconds`, a
  Task's timeouts, a retrier's numbers, a Map's concurrency, tolerated failures and
  `MaxItems`): `Minimum value is 0`, `Maximum value is 99999999`, `Expected value of type
  Integer`, at the field, in AWS's words;
- an `ItemReader`'s `ReaderConfig` with an `InputType`, `CSVDelimiter`, `CSVHeaderLocation`
  or `Transformation` that is none of AWS's values (`The field 'InputType' should have one of
  these values: [...]`), a CSV one without its `CSVHeaderLocation`, or `GIVEN` without its
  `CSVHeaders` (`The field 'CSVHeaderLocation' is required but was missing`), `CSVHeaders`
  that are no strings or none, or a field its input type does not read (`CSVDelimiter` outside CSV,
  `ItemsPointer` outside JSON or not a JSON Pointer, `LOAD_AND_FLATTEN` off an
  `s3:listObjectsV2` or without an input type, an `s3:getObject` without an input type:
  messages of ours, in AWS's form);
- a `ResultWriter` on an inline Map, or its `WriterConfig` with a `Transformation` or
  `OutputType` that is none of AWS's values (in the same form); one without its `Resource`
  or its `Parameters`/`Arguments` (`The field 'Resource' is required but was missing`, as
  AWS words a missing field);
- what the engine does not read although AWS does (`PARQUET`, `MANIFEST`, `ManifestType`):
  `UNSUPPORTED_LOCALLY: ...`, so that it is not found out mid-execution.

And in an EXPRESS state machine (express_problems), a Task of an integration pattern Express
workflows lack, or an activity, at any depth: `SCHEMA_VALIDATION_FAILED: Express state machine
does not support '.waitForTaskToken' service integration  at /States/Publish/Resource` (AWS's
two spaces), `... '.sync' service integration at ...`, `... Activity ARN at ...`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

from local.aws.stepfunctions import jsonata, variables
from local.aws.stepfunctions.numbers import RANGES

JSONATA: Final = "JSONata"
JSONPATH_ONLY: Final = (
    "InputPath",
    "OutputPath",
    "ResultPath",
    "ResultSelector",
    "Parameters",
    "Result",
    "ItemsPath",
    "MaxConcurrencyPath",
    "ErrorPath",
    "CausePath",
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
)
# A state's fields in JSONata alone; a Choice rule's Condition and a catcher's Output too.
JSONATA_ONLY: Final = ("Output", "Arguments", "Items")
_NESTED: Final = ("Branches", "ItemProcessor", "Iterator")
ITEM_BATCHER: Final = "ItemBatcher"
_BATCH_LIMITS: Final = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")
# An ItemReader's ReaderConfig as AWS documents it since 2025 (input-output-itemreader.html):
# its input types in the order AWS's message lists them, CSV's delimiters, the transformations.
INPUT_TYPES: Final = ("MANIFEST", "JSON", "CSV", "JSONL", "PARQUET")
CSV_DELIMITERS: Final = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
_CSV_HEADER_LOCATIONS: Final = ("FIRST_ROW", "GIVEN")
LOAD_AND_FLATTEN: Final = "LOAD_AND_FLATTEN"
_TRANSFORMATIONS: Final = ("NONE", LOAD_AND_FLATTEN)
# The ReaderConfig fields moto's grammar lacks, which the engine reads (local/patches/maps.py).
READER_FIELDS: Final = ("CSVDelimiter", "ItemsPointer", "Transformation")
_UNREAD: Final = ("PARQUET", "MANIFEST")
# A ResultWriter's WriterConfig (input-output-resultwriter.html).
_SHAPES: Final = ("NONE", "COMPACT", "FLATTEN")
_OUTPUT_TYPES: Final = ("JSON", "JSONL")


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def _states(
    container: dict[str, Any], path: str, language: str
) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(name, state, its path, its query language) for every state, nested ones included.
    A state's language is its own, or that of the scope it sits in: the state machine's, or
    the Parallel's or Map's that holds it (as moto's interpreter, which runs it, reads it)."""
    states = container.get("States")
    for name, state in (states if isinstance(states, dict) else {}).items():
        if not isinstance(state, dict):
            continue
        state_path = f"{path}/States/{name}"
        own = state.get("QueryLanguage", language)
        yield name, state, state_path, own
        for branch_index, branch in enumerate(_list(state.get("Branches"))):
            if isinstance(branch, dict):
                yield from _states(branch, f"{state_path}/Branches[{branch_index}]", own)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _states(state[key], f"{state_path}/{key}", own)


def _list(value: Any) -> list[Any]:
    """A field that should hold an array, as one (anything else: none; moto's parser refuses
    it in its words)."""
    return value if isinstance(value, list) else []


def map_states(definition: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(state, its query language) for every Map state, nested ones included."""
    top = definition.get("QueryLanguage", "JSONPath")
    for _, state, _, language in _states(definition, "", top):
        if state.get("Type") == "Map":
            yield state, language


def _fields(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path relative to the state, value) for every leaf of a state's own fields: `/` per
    object key, `[i]` per array index, as AWS names a field in a failure."""
    if isinstance(value, dict):
        for key, item in value.items():
            if path == "" and key in _NESTED:
                continue  # the nested states are states of their own
            yield from _fields(item, f"{path}/{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _fields(item, f"{path}[{index}]")
    else:
        yield path, value


def _inner(expression: str) -> str:
    return expression[2:-2].strip()


def expression_locations(definition: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(state name, expression text) -> where it sits in that state, in definition order."""
    locations: dict[tuple[str, str], list[str]] = {}
    top = definition.get("QueryLanguage", "JSONPath")
    for name, state, _, _ in _states(definition, "", top):
        for path, value in _fields(state, ""):
            if is_expression(value):
                locations.setdefault((name, _inner(value)), []).append(path)
    return locations


# A JSONPath state's payload templates: a field in them is a path only when its key ends
# with `.$` (`"Parameters": {"result": "$result"}` is text); a `Result`'s every field is text.
_TEMPLATES: Final = ("Parameters", "ResultSelector", "ItemSelector", "Assign", "Credentials")
_VARIABLE_PATH: Final = re.compile(r"\$([^\W\d]\w*)")  # `$name`, `$name.field`: not `$.`, `$$.`
_INTRINSIC_ARGUMENT: Final = re.compile(r"(?<![\w$])\$([^\W\d]\w*)")
_INTRINSIC_STRING: Final = re.compile(r"'(?:\\.|[^'\\])*'")


def variable_references(definition: dict[str, Any]) -> dict[str, list[str]]:
    """DescribeStateMachine's variableReferences: for each state that reads workflow
    variables (a nested one by its own name), the variables it reads, each once, in the order
    its fields name them: a JSONata state's expressions, a JSONPath state's paths (`$name`,
    its `...Path` fields, a Choice rule's `Variable`, a template's `.$` fields) and their
    intrinsic functions' arguments; never `$states` nor the context object."""
    found: dict[str, list[str]] = {}
    top = definition.get("QueryLanguage", "JSONPath")
    for name, state, _, language in _states(definition, "", top):
        read = found.setdefault(name, [])
        for path, value in _fields(state, ""):
            for variable in _variables_read(path, value, language == JSONATA):
                if variable not in read:
                    read.append(variable)
    return {name: read for name, read in found.items() if read}


def _variables_read(path: str, value: Any, in_jsonata: bool) -> list[str]:
    if not isinstance(value, str):
        return []
    if in_jsonata:
        return jsonata.workflow_variables(_inner(value)) if is_expression(value) else []
    *parents, key = path.split("/")
    if key.endswith(".$"):
        return [] if parents[:1] == ["Result"] else _path_variables(value)
    in_template = any(parent.split("[")[0] in (*_TEMPLATES, "Result") for parent in parents)
    if in_template or not (key == "Variable" or key.endswith("Path")) or key == "ResultPath":
        return []
    return _path_variables(value)


def _path_variables(value: str) -> list[str]:
    """The variables a JSONPath field's path, or its intrinsic function's arguments, read."""
    if value.startswith("States."):
        return _INTRINSIC_ARGUMENT.findall(_INTRINSIC_STRING.sub("''", value))
    head = _VARIABLE_PATH.match(value)
    return [head.group(1)] if head else []


def problems(
    definition: dict[str, Any], transitions: bool = True, reads_s3: bool = True
) -> list[str]:
    """What AWS refuses in this definition, each `CODE: message at path`: its transitions
    (unless told not to: TestState's lone state names states it does not hold), and what its
    query languages allow; and what the engine cannot read from S3 unless the definition
    reads nothing there (TestState's Map is given its reader's data)."""
    found: list[str] = list(_transition_problems(definition, "")) if transitions else []
    top = definition.get("QueryLanguage", "JSONPath")
    for _, state, state_path, language in _states(definition, "", top):
        if top == JSONATA and state.get("QueryLanguage") == "JSONPath":
            found.append(
                "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to "
                f"'JSONata' for whole state machine at {state_path}"
            )
        other = "JSONPath" if language == JSONATA else JSONATA
        found.extend(
            f"SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to '{language}', but field "
            f"'{field}' is only supported for the '{other}' QueryLanguage at {path}"
            for path, fields in _foreign_fields(state, state_path, language)
            for field in fields
        )
        if language == JSONATA:
            for path, value in _fields(state, ""):
                if is_expression(value):
                    try:
                        jsonata.analyse(_inner(value))
                    except jsonata.Refused as refused:
                        found.append(f"{refused.kind}: {refused.message} at {state_path}/{path}")
        found.extend(_ending_problems(state, state_path))
        found.extend(_wildcard_problems(state, state_path))
        if language != JSONATA:
            found.extend(_intrinsic_problems(state, state_path))
        found.extend(_variable_problems(state, state_path))
        found.extend(_batcher_problems(state, state_path, language))
        found.extend(_distributed_only(state, state_path))
        found.extend(_reader_problems(state, state_path))
        found.extend(_number_problems(state, state_path, language))
        if reads_s3:
            found.extend(_unread(state, state_path))
        found.extend(_writer_problems(state, state_path, language))
    return found


def parsed(definition: str) -> dict[str, Any] | None:
    """The definition's JSON object (None when it is none: moto's parser refuses it)."""
    try:
        value = json.loads(definition)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def refusal(problems: list[str]) -> str:
    """InvalidDefinition's message for these problems, as AWS words it."""
    return f"Invalid State Machine Definition: '{', '.join(problems)}'"


# A Task's Resource that Express workflows refuse, and AWS's recorded words for it
# (LocalStack's test_sfn_api_express snapshots, 2024-07-03; connect-supported-services.html:
# "Express Workflows do not support Run a Job (.sync) or Wait for Callback
# (.waitForTaskToken)"). The double space after '.waitForTaskToken' integration is AWS's.
_EXPRESS_REFUSED: Final = (
    (re.compile(r"\.waitForTaskToken$"), "'.waitForTaskToken' service integration "),
    (re.compile(r"\.sync(:\d+)?$"), "'.sync' service integration"),
    (re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:activity:"), "Activity ARN"),
)


def express_problems(definition: dict[str, Any]) -> list[str]:
    """What AWS refuses in an EXPRESS state machine's definition, at any depth (a Parallel's
    branches, a Map's processor): a Task that waits for a job or a callback, or an activity."""
    found = []
    top = definition.get("QueryLanguage", "JSONPath")
    for _, state, state_path, _ in _states(definition, "", top):
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not isinstance(resource, str):
            continue
        for pattern, what in _EXPRESS_REFUSED:
            if pattern.search(resource):
                found.append(
                    f"SCHEMA_VALIDATION_FAILED: Express state machine does not support {what} "
                    f"at {state_path}/Resource"
                )
    return found


def _targets(state: dict[str, Any], state_path: str) -> Iterator[tuple[str, str]]:
    """(the state a transition names, where it is named) for each transition of a state."""
    if isinstance(state.get("Next"), str):
        yield state["Next"], f"{state_path}/Next"
    if isinstance(state.get("Default"), str):
        yield state["Default"], f"{state_path}/Default"
    for field in ("Choices", "Catch"):
        for index, rule in enumerate(_list(state.get(field))):
            if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                yield rule["Next"], f"{state_path}/{field}[{index}]/Next"


def _reached(states: dict[str, Any], start: Any) -> set[str]:
    """The states a scope's transitions reach from its StartAt."""
    reached: set[str] = set()
    waiting = [start]
    while waiting:
        name = waiting.pop()
        if isinstance(name, str) and name in states and name not in reached:
            reached.add(name)
            if isinstance(states[name], dict):
                waiting.extend(target for target, _ in _targets(states[name], ""))
    return reached


def _transition_problems(container: dict[str, Any], path: str) -> Iterator[str]:
    """A transition to no state of its scope (the state machine's, a branch's, a Map's), and
    a state no transition reaches, in AWS's recorded words ("MISSING_TRANSITION_TARGET:
    Missing 'Next' target: pass3 at /States/pass1/Next", "State "pass2" is not reachable.");
    moto failed the execution when it got there. Each nested scope is checked on its own."""
    states = container.get("States")
    if not isinstance(states, dict):
        return
    named = [(container.get("StartAt"), f"{path}/StartAt")]
    for name, state in states.items():
        if isinstance(state, dict):
            named.extend(_targets(state, f"{path}/States/{name}"))
    for target, where in named:
        if isinstance(target, str) and target not in states:
            yield f"MISSING_TRANSITION_TARGET: Missing 'Next' target: {target} at {where}"
    reached = _reached(states, container.get("StartAt"))
    for name, state in states.items():
        if name not in reached:
            where = f"{path}/States/{name}"
            yield f'MISSING_TRANSITION_TARGET: State "{name}" is not reachable. at {where}'
        if not isinstance(state, dict):
            continue
        for index, branch in enumerate(_list(state.get("Branches"))):
            if isinstance(branch, dict):
                yield from _transition_problems(branch, f"{path}/States/{name}/Branches[{index}]")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _transition_problems(state[key], f"{path}/States/{name}/{key}")


# The states that go on to a Next or end their scope (`"End": true`); Choice, Succeed and
# Fail do neither.
_TRANSITIONING: Final = ("Pass", "Task", "Wait", "Parallel", "Map")


def _ending_problems(state: dict[str, Any], state_path: str) -> Iterator[str]:
    """A state with neither a Next nor `"End": true` (the Amazon States Language: "All
    non-terminal states MUST have a Next field"; moto took it and its interpreter failed on
    it with a Python AttributeError). No page or recording gives AWS's words: ours, in its
    form."""
    if state.get("Type") not in _TRANSITIONING or "Next" in state or state.get("End") is True:
        return
    yield (
        "SCHEMA_VALIDATION_FAILED: A state of this type must have either a 'Next' field or "
        f"'End': true at {state_path}"
    )


def _wildcard_problems(state: dict[str, Any], state_path: str) -> Iterator[str]:
    """States.ALL anywhere but alone in the last retrier's or catcher's ErrorEquals, in AWS's
    words as its answer is quoted (CDK issue 10530): "States.ALL must appear alone and at end
    of list at /States/lambdaInvoke/Retry[0]/ErrorEquals[0]"."""
    for field in ("Retry", "Catch"):
        rules = state.get(field)
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            names = rule.get("ErrorEquals") if isinstance(rule, dict) else None
            if not isinstance(names, list):
                continue
            alone_at_end = len(names) == 1 and index == len(rules) - 1
            for position, name in enumerate(names):
                if name == "States.ALL" and not alone_at_end:
                    yield (
                        "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone and at end of "
                        f"list at {state_path}/{field}[{index}]/ErrorEquals[{position}]"
                    )


# What may follow a backslash in an intrinsic function's string literal (the intrinsic
# functions page's reserved characters); AWS refuses a definition with anything else there.
_INTRINSIC_ESCAPES: Final = "'{}\\"


def _intrinsic_problems(state: dict[str, Any], state_path: str) -> Iterator[str]:
    """Each `.$` field of a JSONPath state whose intrinsic function escapes a character the
    intrinsic functions page does not reserve (AWS's recorded refusal of `\\"`)."""
    for path, value in _fields(state, ""):
        parent, _, field = path.rpartition("/")
        if path.split("/")[0] == "Result":
            continue  # a literal: its keys' ".$" is text
        intrinsic = isinstance(value, str) and value.startswith("States.")
        if field.endswith(".$") and intrinsic and not _escapes_reserved_only(value):
            yield (
                f"SCHEMA_VALIDATION_FAILED: The value for the field '{field}' must be a "
                f"valid JSONPath or a valid intrinsic function call at {state_path}/{parent}"
            )


def _escapes_reserved_only(function: str) -> bool:
    """Whether every backslash inside the function's string literals escapes a reserved
    character."""
    inside = False
    position = 0
    while position < len(function):
        character = function[position]
        if inside and character == "\\":
            if function[position + 1 : position + 2] not in tuple(_INTRINSIC_ESCAPES):
                return False
            position += 2
            continue
        if character == "'":
            inside = not inside
        position += 1
    return True


# A Map's fields of its distributed mode alone (input-output-itemreader.html: the items of "a
# Distributed Map state"; the batcher and the writer likewise). Not the tolerated failures:
# AWS's recorded executions run inline Maps with them.
_DISTRIBUTED_ONLY: Final = (ITEM_BATCHER, "ItemReader", "ResultWriter")


def _distributed_only(state: dict[str, Any], state_path: str) -> Iterator[str]:
    """A distributed Map's field on an inline Map (moto took it: an inline Map's ItemReader
    failed the execution with a Python TypeError; the words are ours, in AWS's form)."""
    if state.get("Type") != "Map" or _mode(state) == "DISTRIBUTED":
        return
    for field in _DISTRIBUTED_ONLY:
        if field in state:
            yield (
                f"SCHEMA_VALIDATION_FAILED: The field '{field}' is only supported for a Map in "
                f"'DISTRIBUTED' mode at {state_path}"
            )


def _writer_problems(state: dict[str, Any], state_path: str, language: str) -> Iterator[str]:
    writer = state.get("ResultWriter")
    if not isinstance(writer, dict):
        return
    fields = {"Resource", "Parameters", "Arguments"} & set(writer)
    if fields or "WriterConfig" not in writer:  # a WriterConfig alone shapes the Map's output
        for field in ("Resource", "Arguments" if language == JSONATA else "Parameters"):
            if field not in writer:
                yield _missing(field, f"{state_path}/ResultWriter")
    config = writer.get("WriterConfig")
    if not isinstance(config, dict):
        return
    path = f"{state_path}/ResultWriter/WriterConfig"
    yield from _values(config, path, (("Transformation", _SHAPES), ("OutputType", _OUTPUT_TYPES)))


def _values(
    holder: dict[str, Any], path: str, fields: tuple[tuple[str, tuple[str, ...]], ...]
) -> Iterator[str]:
    """Each of the fields given a value that is none of its values, in AWS's recorded words (a
    state's Type)."""
    for field, allowed in fields:
        if field in holder and holder[field] not in allowed:
            yield (
                f"SCHEMA_VALIDATION_FAILED: The field '{field}' should have one of these "
                f"values: [{', '.join(allowed)}] at {path}/{field}"
            )


def _missing(field: str, path: str) -> str:
    """A required field left out, in AWS's recorded words (for a Task's Credentials without
    its RoleArn)."""
    return f"SCHEMA_VALIDATION_FAILED: The field '{field}' is required but was missing at {path}"


def _foreign_fields(
    state: dict[str, Any], state_path: str, language: str
) -> Iterator[tuple[str, list[str]]]:
    """The fields of a state (its ItemReader and ResultWriter, its Choice rules and catchers
    too) that only the other query language has (moto's preprocessor failed on one
    half-way, with words of its own)."""
    jsonata = language == JSONATA
    only = JSONPATH_ONLY if jsonata else JSONATA_ONLY
    yield state_path, [field for field in only if field in state]
    for part in ("ItemReader", "ResultWriter"):
        if isinstance(state.get(part), dict):
            yield f"{state_path}/{part}", [f for f in only if f in state[part]]
    for index, catcher in enumerate(_list(state.get("Catch"))):
        if isinstance(catcher, dict):
            field = "ResultPath" if jsonata else "Output"
            yield f"{state_path}/Catch[{index}]", [field] if field in catcher else []
    for index, rule in enumerate(_list(state.get("Choices"))):
        if isinstance(rule, dict):
            yield f"{state_path}/Choices[{index}]", sorted(_rule_fields(rule, jsonata))


def _rule_fields(rule: dict[str, Any], jsonata: bool) -> set[str]:
    """A Choice rule's fields of the other query language: in JSONata its Variable and
    comparisons (a `...Path` one too), nested in And, Or and Not; in JSONPath its
    Condition."""
    if not jsonata:
        return {"Condition"} & set(rule)
    found = {key for key in rule if key == "Variable" or key.endswith("Path")}
    for key in ("And", "Or"):
        for nested in _list(rule.get(key)):
            if isinstance(nested, dict):
                found |= _rule_fields(nested, jsonata)
    if isinstance(rule.get("Not"), dict):
        found |= _rule_fields(rule["Not"], jsonata)
    return found


def _reader_problems(state: dict[str, Any], state_path: str) -> Iterator[str]:
    found = _reader(state, state_path)
    if found is None:
        return
    reader, config, path = found
    yield from _values(
        config,
        path,
        (
            ("InputType", INPUT_TYPES),
            ("CSVDelimiter", tuple(CSV_DELIMITERS)),
            ("CSVHeaderLocation", _CSV_HEADER_LOCATIONS),
            ("Transformation", _TRANSFORMATIONS),
        ),
    )
    input_type = config.get("InputType")
    yield from _csv_header_problems(config, path)
    for field, reads in (("CSVDelimiter", "CSV"), ("ItemsPointer", "JSON")):
        if field in config and input_type != reads:
            yield (
                f"SCHEMA_VALIDATION_FAILED: The field '{field}' is only supported for the "
                f"InputType '{reads}' at {path}/{field}"
            )
    pointer = config.get("ItemsPointer", "")
    if not isinstance(pointer, str) or not (pointer == "" or pointer.startswith("/")):
        yield (
            "SCHEMA_VALIDATION_FAILED: The field 'ItemsPointer' must be a JSON Pointer "
            f"(RFC 6901): empty, or starting with '/' at {path}/ItemsPointer"
        )
    if config.get("Transformation") == LOAD_AND_FLATTEN and (
        input_type is None or not str(reader.get("Resource", "")).endswith(":s3:listObjectsV2")
    ):
        yield (
            f"SCHEMA_VALIDATION_FAILED: The Transformation '{LOAD_AND_FLATTEN}' reads the "
            "objects an s3:listObjectsV2 lists, each of the InputType given, at "
            f"{path}/Transformation"
        )


def _reader(
    state: dict[str, Any], state_path: str
) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """A state's ItemReader, its ReaderConfig and where that sits, if it has a reader."""
    reader = state.get("ItemReader")
    if not isinstance(reader, dict):
        return None
    config = reader.get("ReaderConfig")
    config = config if isinstance(config, dict) else {}
    return reader, config, f"{state_path}/ItemReader/ReaderConfig"


def _unread(state: dict[str, Any], state_path: str) -> Iterator[str]:
    """What the engine cannot read from S3 although AWS does."""
    found = _reader(state, state_path)
    if found is None:
        return
    reader, config, path = found
    if str(reader.get("Resource", "")).endswith(":s3:getObject") and "InputType" not in config:
        yield (  # moto iterated the object's text letter by letter
            "SCHEMA_VALIDATION_FAILED: An ItemReader that reads an object with s3:getObject "
            f"must give its ReaderConfig's InputType at {path}"
        )
    for field in ("InputType", "ManifestType"):
        value = config.get(field)
        if value is not None and (field == "ManifestType" or value in _UNREAD):
            yield (
                f"UNSUPPORTED_LOCALLY: AWS reads the {field} '{value}', the local engine does "
                f"not (docs/jsonata.md) at {path}/{field}"
            )


def _csv_header_problems(config: dict[str, Any], path: str) -> Iterator[str]:
    """A CSV reader's headers as the ItemReader page asks for them: a CSVHeaderLocation for
    a CSV file ("You must specify this field only if you use a CSV file as dataset"), and
    CSVHeaders, strings and at least one, for the location GIVEN (moto failed the execution
    with a Python KeyError on either left out). CSVHeaders beside FIRST_ROW are taken and
    the first row read, for want of a page or recording that says AWS refuses them."""
    if config.get("InputType") == "CSV" and "CSVHeaderLocation" not in config:
        yield _missing("CSVHeaderLocation", path)
    if config.get("CSVHeaderLocation") == "GIVEN" and "CSVHeaders" not in config:
        yield _missing("CSVHeaders", path)
    if "CSVHeaders" not in config:
        return
    headers = config["CSVHeaders"]
    if headers == []:  # AWS's recorded words for an empty array (a Parallel's Branches)
        yield f"SCHEMA_VALIDATION_FAILED: Value cannot be empty at {path}/CSVHeaders"
    elif not isinstance(headers, list):
        yield f"SCHEMA_VALIDATION_FAILED: Expected value of type Array at {path}/CSVHeaders"
    for index, header in enumerate(_list(headers)):
        if not isinstance(header, str):
            yield (
                "SCHEMA_VALIDATION_FAILED: Expected value of type String at "
                f"{path}/CSVHeaders[{index}]"
            )


# The numeric fields of RANGES by where they sit: a state's (of these types; in JSONata, each
# may be an expression, checked as it is evaluated), and a retrier's.
_NUMBER_FIELDS: Final = {
    "Wait": ("Seconds",),
    "Task": ("TimeoutSeconds", "HeartbeatSeconds"),
    "Map": ("MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage"),
}
_RETRIER_NUMBERS: Final = ("IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds")
_JITTER: Final = ("FULL", "NONE")  # a retrier's JitterStrategy (concepts-error-handling.html)


def _number_problems(state: dict[str, Any], state_path: str, language: str) -> Iterator[str]:
    """Each numeric field given as a value out of AWS's range (numbers.py), in AWS's words:
    "SCHEMA_VALIDATION_FAILED: Maximum value is 99999999 at /States/Wait/Seconds" (AWS's
    answer as CloudFormation relays it, cfn-lint issue 4075), "Expected value of type Integer
    at /States/WaitTill/Seconds" (serverless-step-functions issue 188), "Minimum value is 0"
    (floci issue 3733, for a Map's numbers); ours in the same form: a heartbeat not below its
    timeout, a Number field given no number. moto's parser refused a negative or fractional
    literal in its own words, a retrier's out of range with a Python ValueError's, and took a
    TimeoutSeconds of 0 and a ToleratedFailurePercentage of 101. A retrier's JitterStrategy
    that is neither FULL nor NONE is refused in AWS's words for a field's values (moto: its
    parser's)."""
    fields = [(state, name, state_path) for name in _NUMBER_FIELDS.get(str(state.get("Type")), ())]
    reader = _reader(state, state_path)
    if state.get("Type") == "Map" and reader is not None:
        fields.append((reader[1], "MaxItems", reader[2]))
    for holder, name, path in fields:
        if name in holder and not (language == JSONATA and is_expression(holder[name])):
            yield from _out_of_range(name, holder[name], f"{path}/{name}")
    timeout = RANGES["TimeoutSeconds"].number(state.get("TimeoutSeconds"))
    heartbeat = RANGES["HeartbeatSeconds"].number(state.get("HeartbeatSeconds"))
    if timeout is not None and heartbeat is not None and heartbeat >= timeout:
        yield (
            "SCHEMA_VALIDATION_FAILED: HeartbeatSeconds must be smaller than TimeoutSeconds "
            f"at {state_path}/HeartbeatSeconds"
        )
    for index, retrier in enumerate(_list(state.get("Retry"))):
        if not isinstance(retrier, dict):
            continue
        path = f"{state_path}/Retry[{index}]"
        for name in _RETRIER_NUMBERS:
            if name in retrier:
                yield from _out_of_range(name, retrier[name], f"{path}/{name}")
        yield from _values(retrier, path, (("JitterStrategy", _JITTER),))


def _out_of_range(name: str, value: Any, path: str) -> Iterator[str]:
    field = RANGES[name]
    if field.number(value) is not None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "Integer" if field.integer else "Number"
        yield f"SCHEMA_VALIDATION_FAILED: Expected value of type {kind} at {path}"
    elif field.integer and value != int(value):
        yield f"SCHEMA_VALIDATION_FAILED: Expected value of type Integer at {path}"
    elif value < field.least:
        yield f"SCHEMA_VALIDATION_FAILED: Minimum value is {field.least:.0f} at {path}"
    else:
        yield f"SCHEMA_VALIDATION_FAILED: Maximum value is {field.most:.0f} at {path}"


def _mode(state: dict[str, Any]) -> str:
    """A Map state's processing mode (INLINE unless its processor says otherwise)."""
    processor = state.get("ItemProcessor") or state.get("Iterator") or {}
    return str((processor.get("ProcessorConfig") or {}).get("Mode", "INLINE"))


def _batcher_problems(state: dict[str, Any], state_path: str, language: str) -> Iterator[str]:
    batcher = state.get(ITEM_BATCHER)
    if not isinstance(batcher, dict):
        return
    path = f"{state_path}/{ITEM_BATCHER}"
    set_limits = [key for key in batcher if key.removesuffix("Path") in _BATCH_LIMITS]
    if not set_limits:
        yield (
            "SCHEMA_VALIDATION_FAILED: The ItemBatcher must set at least one of "
            f"{', '.join(f'{limit}, {limit}Path' for limit in _BATCH_LIMITS)} at {path}"
        )
    for limit in _BATCH_LIMITS:
        if limit in batcher and f"{limit}Path" in batcher:
            yield (
                f"SCHEMA_VALIDATION_FAILED: The fields '{limit}' and '{limit}Path' are mutually "
                f"exclusive at {path}"
            )
        if language == JSONATA and f"{limit}Path" in batcher:
            yield (
                f"SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field "
                f"'{limit}Path' is only supported for the 'JSONPath' QueryLanguage at {path}"
            )


def _variable_problems(state: dict[str, Any], state_path: str) -> Iterator[str]:
    assigns = [("Assign", state.get("Assign"))]
    for key in ("Catch", "Choices"):
        for index, clause in enumerate(_list(state.get(key))):
            if isinstance(clause, dict):
                assigns.append((f"{key}[{index}]/Assign", clause.get("Assign")))
    for path, assign in assigns:
        if not isinstance(assign, dict):
            continue
        for name in assign:
            problem = variables.name_problem(name[:-2] if name.endswith(".$") else name)
            if problem is not None:
                yield f"SCHEMA_VALIDATION_FAILED: {problem} at {state_path}/{path}"
