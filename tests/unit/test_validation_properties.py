"""Hostile input, generated: validation answers a Problem or a request, never anything else."""

import json
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.users import UserRequest
from chalicelib.http.problems import Problem
from chalicelib.http.validation import (
    MAX_NAME_LENGTH,
    parse_idempotency_key,
    parse_user_request,
)

pytestmark = pytest.mark.unit

JSON_HEADERS = {"content-type": "application/json"}
MAX_BYTES = 4096

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


def _parse(body: bytes, headers: dict[str, str] | None = None) -> UserRequest | Problem:
    try:
        return parse_user_request(headers or JSON_HEADERS, body, MAX_BYTES)
    except Problem as problem:
        return problem


@settings(max_examples=200)
@given(st.binary(max_size=5000))
def test_arbitrary_bytes_never_escape_as_anything_but_a_problem(body):
    outcome = _parse(body)
    if isinstance(outcome, Problem):
        assert 400 <= outcome.status < 500
        assert json.loads(outcome.to_response().body)["status"] == outcome.status


@settings(max_examples=200)
@given(json_values)
def test_arbitrary_json_documents_are_accepted_only_when_valid(document):
    outcome = _parse(json.dumps(document).encode())
    if isinstance(outcome, UserRequest):
        assert set(document) == {"email", "name"}
        assert outcome.email == document["email"].strip()
    else:
        assert outcome.status in (400, 413)


emails = st.from_regex(
    r"[a-z0-9]{1,20}(\.[a-z0-9]{1,10})?@[a-z0-9]{1,20}\.[a-z]{2,10}", fullmatch=True
)
names = st.text(min_size=1, max_size=100).filter(
    lambda n: n.strip() and all(c.isprintable() for c in n)
)


@settings(max_examples=150)
@given(emails, names)
def test_valid_requests_are_accepted(email, name):
    outcome = _parse(json.dumps({"email": email, "name": name}).encode())
    assert isinstance(outcome, UserRequest)
    assert outcome.email == email


@settings(max_examples=100)
@given(st.integers(min_value=1, max_value=3000))
def test_deep_nesting_is_refused_cheaply(depth):
    outcome = _parse(b"[" * depth + b"]" * depth)
    assert isinstance(outcome, Problem) and outcome.status in (400, 413)


@settings(max_examples=150)
@given(st.text(max_size=400))
def test_idempotency_keys_are_printable_ascii_up_to_255(key):
    try:
        assert parse_idempotency_key({"idempotency-key": key}) == key
        assert 1 <= len(key) <= 255 and all(0x21 <= ord(c) <= 0x7E for c in key)
    except Problem as problem:
        assert problem.status == 400


@settings(max_examples=100)
@given(st.text(max_size=60))
def test_content_types_other_than_json_are_415(content_type):
    outcome = _parse(b'{"email": "a@b.co", "name": "A"}', {"content-type": content_type})
    lowered = content_type.split(";")[0].strip().lower()
    if isinstance(outcome, Problem) and outcome.status == 415:
        return
    assert lowered == "application/json" or lowered.endswith("+json")


def _name_is_accepted(name: str) -> bool:
    outcome = _parse(json.dumps({"email": "ada@example.org", "name": name}).encode())
    return isinstance(outcome, UserRequest)


def _refused_in_names(character: str) -> bool:
    category = unicodedata.category(character)
    return category in ("Cc", "Cs", "Zl", "Zp") or (category == "Cf" and ord(character) <= 0xFFFF)


def test_names_refuse_exactly_the_control_format_surrogate_and_separator_characters():
    characters = [chr(code_point) for code_point in range(sys.maxunicode + 1)]
    refused = [c for c in characters if _refused_in_names(c)]
    allowed = [c for c in characters if not _refused_in_names(c)]
    assert not [c for c in refused if _name_is_accepted(f"A{c}a")]
    # Allowed characters go in whole names at a time: over a million one by one is too slow.
    width = MAX_NAME_LENGTH - 1
    names = ["A" + "".join(allowed[i : i + width]) for i in range(0, len(allowed), width)]
    assert all(_name_is_accepted(name) for name in names)


@settings(max_examples=150)
@given(st.text(alphabet=st.characters(categories=["Zs"]) | st.sampled_from(" \u3000"), max_size=5))
def test_blank_names_and_names_over_the_limit_are_refused(blank):
    assert not _name_is_accepted(blank)
    assert not _name_is_accepted(blank + "a" * (MAX_NAME_LENGTH + 1 - len(blank)))
    assert _name_is_accepted(blank + "a" * (MAX_NAME_LENGTH - len(blank)))
