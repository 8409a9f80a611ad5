"""Request validation for the API, with the standard library only.

pydantic would do this in a model, but it adds ~70 ms of import plus model building to the
API's cold start for two string fields (see docs/contributors.md, "Dependencies").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib import codecs
from chalicelib.domain.reviews import Decision, ReviewDecision
from chalicelib.domain.users import UserRequest
from chalicelib.http.problems import (
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    Problem,
    bad_request,
)

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_REASON_LENGTH = 500
DEFAULT_REVIEWS_LIMIT = 20
MAX_REVIEWS_LIMIT = 100
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TOP_LEVEL = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")
_IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_IDEMPOTENCY_KEY_LENGTH}}}")
_JSON_TYPES = re.compile(r"application/(.+\+)?json")
# The code points of the Unicode categories Cc, Cf, Zl and Zp in the BMP: controls, invisible
# format characters, line and paragraph separators; nothing a name needs, and the stuff of log
# injection and look-alike names. Written out, not computed, because openapi.json carries the
# same pattern; tests/unit/test_validation_properties.py checks it against unicodedata. A
# portable JSON Schema pattern (ECMA-262 without its u flag) cannot name a character beyond
# the BMP, so the rare format characters there (tags, hieroglyph and musical format controls)
# pass. Lone surrogates (Cs), which no JSON document should hold, are refused apart.
_NOT_IN_NAMES = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    r"\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
# A name is not blank: at least one character that is not white space.
NAME_PATTERN = rf"^[^{_NOT_IN_NAMES}]*[^{_NOT_IN_NAMES}\s][^{_NOT_IN_NAMES}]*$"
_NAME = re.compile(NAME_PATTERN)


def parse_user_request(headers: Mapping[str, str], body: bytes, max_bytes: int) -> UserRequest:
    """`{"email", "name", ...}`: the fields of a request (codecs.request_fields), each text
    that its rule (FIELD_RULES) accepts; an optional one may be left out."""
    document = _json_object(headers, body, max_bytes)
    fields = codecs.request_fields()
    errors = [
        {"pointer": f"/{name}", "detail": "unknown field"}
        for name in sorted(set(document) - {field.name for field in fields})
    ]
    for field in fields:
        if field.name not in document:
            if field.required:
                errors.append({"pointer": f"/{field.name}", "detail": "required field is missing"})
        elif not isinstance(document[field.name], str):
            errors.append({"pointer": f"/{field.name}", "detail": "must be a string"})
    if not errors:
        for field in fields:
            if field.name in document:
                errors += FIELD_RULES[field.name](document[field.name])
    if errors:
        raise bad_request("the request body is not valid", errors)
    return codecs.decode_request({name: value.strip() for name, value in document.items()})


def parse_review_decision(
    headers: Mapping[str, str], body: bytes, max_bytes: int
) -> ReviewDecision:
    """`{"decision": "approve" | "reject", "reason"?: "..."}`; the reason follows the name's
    character rules (one line, not blank), up to MAX_REASON_LENGTH characters."""
    document = _json_object(headers, body, max_bytes)
    errors = [
        {"pointer": f"/{name}", "detail": "unknown field"}
        for name in sorted(set(document) - {"decision", "reason"})
    ]
    decision = document.get("decision")
    if "decision" not in document:
        errors.append({"pointer": "/decision", "detail": "required field is missing"})
    elif not isinstance(decision, str) or decision not in {d.value for d in Decision}:
        errors.append({"pointer": "/decision", "detail": 'must be "approve" or "reject"'})
    reason = document.get("reason")
    if "reason" in document:
        if not isinstance(reason, str):
            errors.append({"pointer": "/reason", "detail": "must be a string"})
        elif not 1 <= len(reason) <= MAX_REASON_LENGTH:
            errors.append(
                {"pointer": "/reason", "detail": f"must be 1 to {MAX_REASON_LENGTH} characters"}
            )
        elif not _NAME.fullmatch(reason) or _has_lone_surrogate(reason):
            errors.append(
                {"pointer": "/reason", "detail": "must not be blank or contain control characters"}
            )
    if errors:
        raise bad_request("the request body is not valid", errors)
    return ReviewDecision(
        Decision(str(decision)), reason.strip() if isinstance(reason, str) else None
    )


def parse_limit(values: list[str]) -> int:
    """`?limit=`: 1 to MAX_REVIEWS_LIMIT, DEFAULT_REVIEWS_LIMIT when absent."""
    if not values:
        return DEFAULT_REVIEWS_LIMIT
    if len(values) == 1 and values[0].isascii() and values[0].isdigit():
        limit = int(values[0])
        if 1 <= limit <= MAX_REVIEWS_LIMIT:
            return limit
    raise bad_request(
        "the query is not valid",
        [{"parameter": "limit", "detail": f"must be one integer from 1 to {MAX_REVIEWS_LIMIT}"}],
    )


def check_query(query: Mapping[str, list[str]], allowed: set[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise bad_request(
            "the query is not valid",
            [{"parameter": name, "detail": "unknown query parameter"} for name in unknown],
        )


def parse_idempotency_key(headers: Mapping[str, str]) -> str | None:
    key = headers.get("idempotency-key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise bad_request(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters"
        )
    return key


def _json_object(headers: Mapping[str, str], body: bytes, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object: JSON content type (415), size (413), syntax (400)."""
    _check_content_type(headers.get("content-type"))
    if len(body) > max_bytes:
        raise Problem.of(PAYLOAD_TOO_LARGE, f"the body must be at most {max_bytes} bytes")
    document = _parse_json(body)
    if not isinstance(document, dict):
        raise bad_request("the body must be a JSON object")
    return document


def _check_content_type(content_type: str | None) -> None:
    media_type, _, parameters = (content_type or "").partition(";")
    if not _JSON_TYPES.fullmatch(media_type.strip().lower()):
        raise Problem.of(
            UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON, sent as Content-Type: application/json",
        )
    charset = re.search(r"charset\s*=\s*\"?([^\s;\"]+)", parameters, re.IGNORECASE)
    if charset and charset.group(1).lower() not in ("utf-8", "utf8"):
        raise Problem.of(
            UNSUPPORTED_MEDIA_TYPE,
            f"the charset {charset.group(1)[:40]!r} is not accepted: the body must be UTF-8 "
            "(Content-Type: application/json, or application/json; charset=utf-8)",
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("duplicate keys")
    return document


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_reject_constant,
        )
    except UnicodeDecodeError:
        raise bad_request("the body is not valid UTF-8") from None
    except RecursionError:
        raise bad_request("the body is nested too deeply") from None
    except ValueError as error:
        raise bad_request(f"the body is not valid JSON: {error}") from None


def _email_errors(email: str) -> list[dict[str, str]]:
    candidate = email.strip()
    local, at, domain = candidate.rpartition("@")
    labels = domain.split(".")
    valid = (
        at == "@"
        and len(email) <= MAX_EMAIL_LENGTH
        and len(local) <= 64
        and _LOCAL_PART.fullmatch(local) is not None
        and len(labels) >= 2
        and all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        and _TOP_LEVEL.fullmatch(labels[-1]) is not None
    )
    if valid:
        return []
    return [{"pointer": "/email", "detail": "must be a valid email address (name@domain.tld)"}]


def _name_errors(name: str) -> list[dict[str, str]]:
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        return [{"pointer": "/name", "detail": f"must be 1 to {MAX_NAME_LENGTH} characters"}]
    if not _NAME.fullmatch(name) or _has_lone_surrogate(name):
        return [{"pointer": "/name", "detail": "must not be blank or contain control characters"}]
    return []


# What each field of a request must be (its errors; none when it is valid): one rule per field
# of chalicelib/domain/users.py's UserRequest.
FIELD_RULES: dict[str, Callable[[str], list[dict[str, str]]]] = {
    "email": _email_errors,
    "name": _name_errors,
}


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
