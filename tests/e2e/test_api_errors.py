"""Every bad request gets the right 4xx as RFC 9457 problem+json; nothing yields a 5xx."""

import json
import os

import boto3
import pytest

from tests.helpers import JSON, body

VALID = json.dumps({"email": "ada@example.org", "name": "Ada"})

BAD_REQUESTS = [
    # (case, headers, body, status, pointer expected in errors)
    ("malformed JSON", JSON, '{"email": "ada@example.org", "name": ', 400, None),
    ("empty body", JSON, "", 400, None),
    ("not an object", JSON, '["ada@example.org", "Ada"]', 400, None),
    ("null", JSON, "null", 400, None),
    ("NaN literal", JSON, '{"email": "ada@example.org", "name": NaN}', 400, None),
    ("duplicate keys", JSON, '{"email": "a@b.co", "email": "c@d.co", "name": "A"}', 400, None),
    ("invalid UTF-8", JSON, b'{"email": "\xff@example.org", "name": "A"}', 400, None),
    ("deeply nested", JSON, "[" * 2000 + "]" * 2000, 400, None),
    ("email is a number", JSON, '{"email": 42, "name": "Ada"}', 400, "/email"),
    ("name is null", JSON, '{"email": "ada@example.org", "name": null}', 400, "/name"),
    ("name is a list", JSON, '{"email": "ada@example.org", "name": ["Ada"]}', 400, "/name"),
    ("email missing", JSON, '{"name": "Ada"}', 400, "/email"),
    ("name missing", JSON, '{"email": "ada@example.org"}', 400, "/name"),
    ("unknown field", JSON, '{"email": "a@b.co", "name": "A", "admin": true}', 400, "/admin"),
    ("no at sign", JSON, '{"email": "ada.example.org", "name": "Ada"}', 400, "/email"),
    ("two at signs", JSON, '{"email": "ada@@example.org", "name": "Ada"}', 400, "/email"),
    ("no domain dot", JSON, '{"email": "ada@localhost", "name": "Ada"}', 400, "/email"),
    ("space in email", JSON, '{"email": "a da@example.org", "name": "Ada"}', 400, "/email"),
    (
        "email too long",
        JSON,
        json.dumps({"email": "a" * 250 + "@b.co", "name": "A"}),
        400,
        "/email",
    ),
    ("empty name", JSON, '{"email": "ada@example.org", "name": "   "}', 400, "/name"),
    ("name too long", JSON, json.dumps({"email": "a@b.co", "name": "A" * 101}), 400, "/name"),
    ("control char", JSON, '{"email": "ada@example.org", "name": "A\\u0000da"}', 400, "/name"),
    ("zero-width space", JSON, '{"email": "ada@example.org", "name": "A\\u200bda"}', 400, "/name"),
    ("lone surrogate", JSON, '{"email": "ada@example.org", "name": "A\\ud800da"}', 400, "/name"),
    (
        "padded long name",
        JSON,
        json.dumps({"email": "a@b.co", "name": " " + "A" * 100}),
        400,
        "/name",
    ),
    ("oversized body", JSON, json.dumps({"email": "a@b.co", "name": "A" * 5000}), 413, None),
    ("text/plain", {"Content-Type": "text/plain"}, VALID, 415, None),
    ("form encoded", {"Content-Type": "application/x-www-form-urlencoded"}, "email=a", 415, None),
    ("no content type", {}, VALID, 415, None),
    ("latin-1 charset", {"Content-Type": "application/json; charset=latin-1"}, VALID, 415, None),
    ("bad idempotency key", {**JSON, "Idempotency-Key": "x" * 300}, VALID, 400, None),
    ("key with spaces", {**JSON, "Idempotency-Key": "a b"}, VALID, 400, None),
]


def _stored_operations() -> int:
    return boto3.client("dynamodb").scan(TableName=os.environ["OPERATIONS_TABLE"])["Count"]


def _assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = body(response)
    assert problem["status"] == status
    assert problem["type"].startswith("/problems/")
    assert problem["title"] and problem["detail"]
    assert "Traceback" not in response.body.decode()
    return problem


@pytest.mark.parametrize(
    ("headers", "payload", "status", "pointer"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_are_refused_with_a_problem(shared_stack, headers, payload, status, pointer):
    before = _stored_operations()
    response = shared_stack.client.http.post("/users", headers=headers, body=payload)
    problem = _assert_problem(response, status)
    if pointer:
        assert pointer in {error["pointer"] for error in problem["errors"]}
    assert _stored_operations() == before


@pytest.mark.parametrize(
    ("content_type", "says"),
    [
        ("application/json; charset=latin-1", "the charset 'latin-1' is not accepted"),
        ('application/json; charset="ISO-8859-1"', "the charset 'ISO-8859-1' is not accepted"),
        ("text/plain; charset=utf-8", "the body must be JSON"),
    ],
)
def test_a_415_says_whether_the_type_or_the_charset_is_refused(shared_stack, content_type, says):
    response = shared_stack.client.http.post(
        "/users", headers={"Content-Type": content_type}, body=VALID
    )
    detail = _assert_problem(response, 415)["detail"]
    assert detail.startswith(says)
    assert ("UTF-8" in detail) == ("charset" in says)


def test_all_field_errors_are_reported_at_once(shared_stack):
    response = shared_stack.client.http.post(
        "/users", headers=JSON, body='{"email": 1, "admin": true}'
    )
    problem = _assert_problem(response, 400)
    assert {e["pointer"] for e in problem["errors"]} == {"/email", "/name", "/admin"}


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge+json"],
)
def test_json_content_types_are_accepted(shared_stack, content_type):
    response = shared_stack.client.http.post(
        "/users", headers={"Content-Type": content_type}, body=VALID
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "path",
    [
        "/operations/0b6f5bc8-8a0c-4bdb-9b3a-7f4c2f3c1d2e",
        "/operations/not-an-id",
        "/operations/" + "a" * 3000,
        "/users/0b6f5bc8-8a0c-4bdb-9b3a-7f4c2f3c1d2e",
        "/users/%27%3B%20DROP",
    ],
)
def test_unknown_ids_are_not_found(shared_stack, path):
    problem = _assert_problem(shared_stack.client.http.get(path), 404)
    assert problem["type"] == "/problems/not-found"


def test_a_get_with_any_content_type_is_answered_by_the_app(shared_stack):
    response = shared_stack.client.http.get(
        "/operations/not-an-id", headers={"Content-Type": "multipart/form-data"}
    )
    _assert_problem(response, 404)


# The reviewers' routes.

SOME_REVIEW = "/reviews/0b6f5bc8-8a0c-4bdb-9b3a-7f4c2f3c1d2e"
APPROVE = json.dumps({"decision": "approve"})

BAD_DECISIONS = [
    # (case, headers, body, status, pointer expected in errors)
    ("malformed JSON", JSON, '{"decision": ', 400, None),
    ("empty body", JSON, "", 400, None),
    ("not an object", JSON, '["approve"]', 400, None),
    ("duplicate keys", JSON, '{"decision": "approve", "decision": "reject"}', 400, None),
    ("decision missing", JSON, '{"reason": "why"}', 400, "/decision"),
    ("decision unknown", JSON, '{"decision": "maybe"}', 400, "/decision"),
    ("decision upper case", JSON, '{"decision": "APPROVE"}', 400, "/decision"),
    ("decision not a string", JSON, '{"decision": true}', 400, "/decision"),
    ("decision an object", JSON, '{"decision": {}}', 400, "/decision"),
    ("decision a list", JSON, '{"decision": ["approve"]}', 400, "/decision"),
    ("reason not a string", JSON, '{"decision": "reject", "reason": 1}', 400, "/reason"),
    ("reason empty", JSON, '{"decision": "reject", "reason": ""}', 400, "/reason"),
    ("reason blank", JSON, '{"decision": "reject", "reason": "  "}', 400, "/reason"),
    ("reason control char", JSON, '{"decision": "reject", "reason": "a\\nb"}', 400, "/reason"),
    (
        "reason too long",
        JSON,
        json.dumps({"decision": "reject", "reason": "x" * 501}),
        400,
        "/reason",
    ),
    ("unknown field", JSON, '{"decision": "approve", "taskToken": "x"}', 400, "/taskToken"),
    ("oversized body", JSON, json.dumps({"decision": "reject", "reason": "x" * 5000}), 413, None),
    ("text/plain", {"Content-Type": "text/plain"}, APPROVE, 415, None),
    ("no content type", {}, APPROVE, 415, None),
]


@pytest.mark.parametrize(
    ("headers", "payload", "status", "pointer"),
    [case[1:] for case in BAD_DECISIONS],
    ids=[case[0] for case in BAD_DECISIONS],
)
def test_bad_decisions_are_refused_with_a_problem(shared_stack, headers, payload, status, pointer):
    response = shared_stack.client.http.post(SOME_REVIEW, headers=headers, body=payload)
    problem = _assert_problem(response, status)
    if pointer:
        assert pointer in {error["pointer"] for error in problem["errors"]}


@pytest.mark.parametrize(
    "path",
    [SOME_REVIEW, "/reviews/not-an-id", "/reviews/" + "a" * 3000, "/reviews/%27%3B%20DROP"],
)
def test_a_decision_on_no_review_is_not_found(shared_stack, path):
    problem = _assert_problem(shared_stack.client.http.post(path, headers=JSON, body=APPROVE), 404)
    assert problem["type"] == "/problems/not-found"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=-1", "limit"),
        ("?limit=ten", "limit"),
        ("?limit=1.5", "limit"),
        ("?limit=", "limit"),
        ("?limit=1&limit=2", "limit"),
        ("?nextToken=not-a-token", "nextToken"),
        ("?nextToken=", "nextToken"),
        ("?nextToken=" + "A" * 300, "nextToken"),
        ("?next_token=abc", "next_token"),
        ("?status=DECIDED", "status"),
    ],
)
def test_bad_review_queries_are_refused_with_a_problem(shared_stack, query, parameter):
    problem = _assert_problem(shared_stack.client.http.get(f"/reviews{query}"), 400)
    assert parameter in {error["parameter"] for error in problem["errors"]}


def test_an_empty_review_list_is_a_list(shared_stack):
    response = shared_stack.client.http.get("/reviews", headers={"Content-Type": "text/csv"})
    assert response.status_code == 200
    assert body(response) == {"reviews": []}
