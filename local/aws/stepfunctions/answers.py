"""How AWS's Step Functions API writes what moto writes its own way (pure Python): a time in
the context object, why an execution's input is not JSON, an ARN that is no ARN.

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
    if text == "":
        why = "Invalid execution input."
    else:
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            why = _why(error)
        else:
            return None
    return f"Invalid State Machine Execution Input: '{why}'"


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


def arn_prefix_problem(arn: str) -> str | None:
    """AWS's InvalidArn message for an ARN that does not start as one ("Invalid Arn: 'Invalid
    ARN prefix: not_a_valid_arn'"); None for one that does."""
    if arn.startswith("arn:"):
        return None
    return f"Invalid Arn: 'Invalid ARN prefix: {arn}'"
