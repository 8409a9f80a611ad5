"""The HTTP contract, end to end, black box: what any client of any running system sees
(docs/clients.md; the contract is DESIGN's "HTTP contract"). Each test makes its own users,
with unique emails, so the suite runs against a shared stage; the API has no way to delete a
user or an operation, so what it creates stays (ids and emails name the suite: blackbox-*).
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.deployed.api import JSON, unique_email
from tests.deployed.conftest import Target

PROBLEM = "application/problem+json"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith(PROBLEM), response.headers
    problem = response.json()
    assert problem["status"] == status and problem["type"] and problem["title"], problem
    return dict(problem)


def test_a_user_is_created_and_its_operation_polled_to_done(target: Target):
    api = target.api
    email = unique_email()
    accepted = api.create_user(email, "Ada Lovelace")
    assert accepted.status_code == 202, accepted.text
    operation = accepted.json()
    assert operation["status"] == "PENDING" and operation["done"] is False
    assert operation["type"] == "user.create"
    assert int(accepted.headers["Retry-After"]) >= 1
    # Location, resolved as a client resolves it, is this operation.
    followed = api.follow(accepted)
    assert followed.status_code == 200 and followed.json()["id"] == operation["id"]

    done = api.done(operation["id"])
    assert done["status"] == "SUCCEEDED" and "error" not in done
    user = done["result"]["user"]
    assert user["email"] == email and user["name"] == "Ada Lovelace"
    fetched = api.user(user["id"])
    assert fetched.status_code == 200
    assert fetched.json() == {**user, "status": fetched.json()["status"]}


def test_a_reserved_domain_is_rejected(target: Target):
    api = target.api
    accepted = api.create_user(unique_email("example.test"))
    assert accepted.status_code == 202
    done = api.done(accepted.json()["id"])
    assert done["status"] == "FAILED" and done["error"]["code"] == "USER_REJECTED"
    assert "result" not in done


def test_a_deny_listed_domain_is_rejected(target: Target):
    if target.denied_domain is None:
        pytest.skip(f"stage {target.stage} denies no domain (DENIED_EMAIL_DOMAINS is empty)")
    api = target.api
    done = api.done(api.create_user(unique_email(target.denied_domain)).json()["id"])
    assert done["error"]["code"] == "USER_REJECTED"


def test_a_registered_email_is_refused_whatever_its_case(target: Target):
    api = target.api
    email = unique_email()
    first = api.done(api.create_user(email).json()["id"])
    assert first["status"] == "SUCCEEDED"
    again = api.done(api.create_user(email.upper()).json()["id"])
    assert again["status"] == "FAILED"
    assert again["error"]["code"] == "EMAIL_ALREADY_REGISTERED"


def test_a_repeated_request_with_one_idempotency_key_is_one_operation(target: Target):
    api = target.api
    email, key = unique_email(), f"blackbox-{uuid.uuid4()}"
    first = api.create_user(email, key=key)
    second = api.create_user(email, key=key)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert api.done(first.json()["id"])["status"] == "SUCCEEDED"
    # The same key with another body is refused, and changes nothing.
    _problem(api.create_user(unique_email(), key=key), 422)
    assert api.create_user(email, key=key).json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("case", "headers", "body", "status"),
    [
        ("malformed JSON", JSON, '{"email": "a@example.org", "name": ', 400),
        ("unknown field", JSON, '{"email": "a@example.org", "name": "A", "admin": true}', 400),
        ("invalid email", JSON, '{"email": "ada.example.org", "name": "Ada"}', 400),
        ("missing name", JSON, '{"email": "ada@example.org"}', 400),
        ("not JSON", {"Content-Type": "text/plain"}, "email=a", 415),
        ("oversized", JSON, json.dumps({"email": "a@example.org", "name": "A" * 10_000}), 413),
    ],
)
def test_bad_requests_get_a_problem(target: Target, case, headers, body, status):
    _problem(target.api.send("POST", "users", body=body, headers=headers), status)


def test_unknown_operations_users_and_paths_are_404(target: Target):
    api = target.api
    _problem(api.operation(str(uuid.uuid4())), 404)
    _problem(api.user(str(uuid.uuid4())), 404)
    _problem(api.send("GET", f"nothing-here-{uuid.uuid4().hex}"), 404)


def test_a_method_a_resource_lacks_is_405_with_allow(target: Target):
    response = target.api.send("DELETE", "users")
    _problem(response, 405)
    assert response.headers["Allow"] == "POST"


# Human review: a user at one of the stage's review domains waits for a person.


@pytest.fixture
def awaiting(target: Target) -> str:
    """An operation that waits for a reviewer."""
    if target.review_domain is None:
        pytest.skip(f"stage {target.stage} leaves no email to a person (REVIEW_EMAIL_DOMAINS)")
    api = target.api
    accepted = api.create_user(unique_email(target.review_domain))
    assert accepted.status_code == 202
    operation_id = str(accepted.json()["id"])
    waiting = api.wait_until(operation_id, lambda o: o.get("step") == "AWAITING_REVIEW")
    assert waiting["status"] == "RUNNING" and waiting["done"] is False
    return operation_id


def test_an_approved_review_creates_the_user(target: Target, awaiting: str):
    api = target.api
    review = api.pending_review(awaiting)
    assert review["requestedAt"] < review["expiresAt"]
    decided = api.decide(awaiting, "approve")
    assert decided.status_code == 200, decided.text
    assert api.done(awaiting)["status"] == "SUCCEEDED"
    # A second decision on the same review is refused, and changes nothing.
    _problem(api.decide(awaiting, "reject", "too late"), 409)
    assert api.operation(awaiting).json()["status"] == "SUCCEEDED"


def test_a_rejected_review_fails_the_operation_with_the_reason(target: Target, awaiting: str):
    api = target.api
    api.pending_review(awaiting)
    assert api.decide(awaiting, "reject", "not a real person").status_code == 200
    done = api.done(awaiting)
    assert done["status"] == "FAILED" and done["error"]["code"] == "USER_REJECTED"
    assert "not a real person" in done["error"]["message"]


def test_a_decision_on_no_pending_review_is_404(target: Target):
    if target.review_domain is None:
        pytest.skip(f"stage {target.stage} leaves no email to a person (REVIEW_EMAIL_DOMAINS)")
    _problem(target.api.decide(str(uuid.uuid4()), "approve"), 404)
