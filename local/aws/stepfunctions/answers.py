"""How AWS's Step Functions API writes what moto writes its own way (pure Python): a time in
the context object, why an execution's input or a task's output is not JSON, an ARN that is
no ARN, a task token whose task has ended.

The words are AWS's recorded answers (LocalStack's test_sfn_api snapshots, recorded against
AWS): AWS parses input with Jackson, whose messages these are for the mistakes recorded;
another mistake gets Python's description of it, in AWS's frame (docs/stepfunctions-local.md).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Final

# Jackson's words for a token that is no JSON value ("not" in `not some json`).
_UNRECOGNIZED: Final = (
    "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token "
    "'null', 'true' or 'false')"
)
# The characters Jackson reads into a token it does not recognise (Java identifier parts).
_TOKEN: Final = re.compile(r"[\w$]+")


def aws_timestamp(value: datetime) -> str:
    """AWS's form of a time in the context object: UTC, milliseconds, `Z`."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def input_problem(text: str) -> str | None:
    """AWS's InvalidExecutionInput message for an execution's input that is not JSON
    ("Invalid State Machine Execution Input: '<why>'"); None for JSON."""
    why = "Invalid execution input." if text == "" else _json_problem(text)
    return None if why is None else f"Invalid State Machine Execution Input: '{why}'"


def output_problem(text: str) -> str | None:
    """InvalidOutput's message for a task's output (SendTaskSuccess) that is not JSON; None
    for JSON. No recording gives AWS's words: these are ours, in the form of AWS's other
    answers to a task's worker ("Invalid Output: '<why>'", as "Invalid Token: 'Invalid
    token'")."""
    why = _json_problem(text)
    return None if why is None else f"Invalid Output: '{why}'"


def _json_problem(text: str) -> str | None:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return _why(error)
    return None


def _why(error: json.JSONDecodeError) -> str:
    text, position = error.doc, error.pos
    token = _TOKEN.match(text, position)
    if error.msg == "Expecting value" and token is not None:
        return _UNRECOGNIZED.format(token=token.group())
    if error.msg == "Expecting property name enclosed in double quotes":
        found = text[position]
        return (
            f"Unexpected character ('{found}' (code {ord(found)})): was expecting double-quote "
            "to start field name"
        )
    return f"{error.msg} at line {error.lineno}, column {error.colno}"


# AWS's TaskTimedOut message to SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat for a
# token whose task has ended (a late callback, a second one), as AWS answered a user's worker:
# andybalham/blog-source-code, "Handling Step Function Task Token failures with CDK" (2022).
TASK_CLOSED: Final = "Task Timed Out: 'Provided task does not exist anymore'"


def arn_prefix_problem(arn: str) -> str | None:
    """AWS's InvalidArn message for an ARN that does not start as one ("Invalid Arn: 'Invalid
    ARN prefix: not_a_valid_arn'"); None for one that does."""
    if arn.startswith("arn:"):
        return None
    return f"Invalid Arn: 'Invalid ARN prefix: {arn}'"
