"""`nextToken`: where a page of pending reviews ended, opaque to clients.

It is base64url of `[requestedAt, operationId]` (the review it ended with), nothing more: no
task token, no table key format. A token that does not decode to exactly that is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from chalicelib.domain.operations import is_valid_id
from chalicelib.domain.reviews import ReviewPosition
from chalicelib.http.problems import bad_request

MAX_TOKEN_LENGTH = 200
# domain.operations.to_iso's format: what requestedAt holds.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def encode(position: ReviewPosition) -> str:
    document = json.dumps([position.requested_at, position.operation_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def decode(values: list[str]) -> ReviewPosition | None:
    """`?nextToken=` as given by a previous page, or None when absent."""
    if not values:
        return None
    if len(values) == 1 and 0 < len(values[0]) <= MAX_TOKEN_LENGTH:
        token = values[0]
        try:
            document = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError):
            document = None
        if (
            isinstance(document, list)
            and len(document) == 2
            and all(isinstance(part, str) for part in document)
            and _TIMESTAMP.fullmatch(document[0])
            and is_valid_id(document[1])
        ):
            return ReviewPosition(requested_at=document[0], operation_id=document[1])
    raise bad_request(
        "the query is not valid",
        [{"parameter": "nextToken", "detail": "must be a nextToken from a previous page"}],
    )
