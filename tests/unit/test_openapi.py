"""openapi.json describes exactly the routes app.py serves."""

import json
from pathlib import Path

import pytest

from app import app
from chalicelib.http.edges import METHOD_NOT_ALLOWED_VIEW
from chalicelib.http.problems import PROBLEM_TYPES
from chalicelib.http.validation import (
    MAX_EMAIL_LENGTH,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_NAME_LENGTH,
    NAME_PATTERN,
)

pytestmark = pytest.mark.unit

SPEC = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text())


def test_the_spec_lists_every_route_and_method_and_no_other():
    served = {
        (path, method.lower())
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if entry.view_name != METHOD_NOT_ALLOWED_VIEW  # 405s for the methods a path lacks
    }
    described = {(path, method) for path, methods in SPEC["paths"].items() for method in methods}
    assert described == served


def test_every_operation_documents_its_problem_responses():
    for methods in SPEC["paths"].values():
        for operation in methods.values():
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert errors
            for code in errors:
                content = operation["responses"][code]["content"]
                assert list(content) == ["application/problem+json"]


def test_the_request_schema_states_the_limits_the_validator_enforces():
    fields = SPEC["components"]["schemas"]["UserRequest"]["properties"]
    assert fields["name"]["pattern"] == NAME_PATTERN
    assert fields["name"]["maxLength"] == MAX_NAME_LENGTH
    assert fields["email"]["maxLength"] == MAX_EMAIL_LENGTH
    (key,) = SPEC["paths"]["/users"]["post"]["parameters"]
    assert key["schema"]["maxLength"] == MAX_IDEMPOTENCY_KEY_LENGTH


def test_the_review_schemas_state_the_limits_the_validator_enforces():
    from chalicelib.http.pagination import MAX_TOKEN_LENGTH
    from chalicelib.http.validation import MAX_REASON_LENGTH, MAX_REVIEWS_LIMIT

    reason = SPEC["components"]["schemas"]["ReviewDecision"]["properties"]["reason"]
    assert reason["pattern"] == NAME_PATTERN
    assert reason["maxLength"] == MAX_REASON_LENGTH
    limit, token = SPEC["paths"]["/reviews"]["get"]["parameters"]
    assert limit["schema"]["maximum"] == MAX_REVIEWS_LIMIT
    assert token["schema"]["maxLength"] == MAX_TOKEN_LENGTH


def test_the_problem_type_pages_are_the_catalogue():
    (parameter,) = SPEC["paths"]["/problems/{problem_type}"]["get"]["parameters"]
    assert parameter["schema"]["enum"] == sorted(PROBLEM_TYPES)
