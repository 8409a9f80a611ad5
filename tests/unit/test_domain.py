import dataclasses

import pytest

from chalicelib.domain.events import MalformedEvent, OperationRequested
from chalicelib.domain.operations import (
    OperationError,
    OperationStatus,
    UserRequest,
    is_valid_id,
    new_operation,
    normalize_timestamp,
)
from chalicelib.domain.users import approve, normalize_email, user_id_for_operation


@pytest.mark.parametrize(
    "email",
    [
        "ada@example.org",
        "ada@sub.example.com",
        "ada@mailinator.company",
        "ada@testing.org",
        "ada@example.museum",
    ],
)
def test_ordinary_domains_are_approved(email):
    assert approve(email, ["mailinator.com"]).approved


@pytest.mark.parametrize(
    "email",
    ["a@x.invalid", "a@x.test", "a@x.example", "a@x.localhost", "a@X.TEST", "a@deep.sub.test."],
)
def test_reserved_top_level_domains_are_rejected(email):
    decision = approve(email, [])
    assert not decision.approved
    assert "reserved" in decision.reason


@pytest.mark.parametrize("email", ["a@mailinator.com", "a@MAILINATOR.com", "a@eu.mailinator.com"])
def test_deny_list_matches_domain_and_subdomains_case_insensitively(email):
    assert not approve(email, [" Mailinator.com", ""]).approved


def test_deny_list_does_not_match_a_mere_suffix():
    assert approve("a@notmailinator.com", ["mailinator.com"]).approved


def test_emails_compare_case_insensitively():
    assert normalize_email(" Ada@Example.ORG ") == normalize_email("ada@example.org")


def test_user_id_is_derived_from_the_operation():
    assert user_id_for_operation("op-1") == user_id_for_operation("op-1")
    assert user_id_for_operation("op-1") != user_id_for_operation("op-2")


def test_operation_resource_shows_result_or_error_only_when_done():
    operation = new_operation(UserRequest("ada@example.org", "Ada"))
    pending = operation.to_resource()
    assert pending["status"] == "PENDING" and pending["done"] is False
    assert "result" not in pending and "error" not in pending
    assert "request" not in pending  # the email is not echoed in the operation
    failed = dataclasses.replace(
        operation, status=OperationStatus.FAILED, error=OperationError("USER_REJECTED", "no")
    ).to_resource()
    assert failed["done"] is True
    assert failed["error"] == {"code": "USER_REJECTED", "message": "no"}
    assert "result" not in failed


def test_fingerprint_tells_requests_apart():
    assert UserRequest("a@b.co", "A").fingerprint() == UserRequest("a@b.co", "A").fingerprint()
    assert UserRequest("a@b.co", "A").fingerprint() != UserRequest("a@b.co", "B").fingerprint()


def test_ids_must_be_canonical_uuids():
    operation = new_operation(UserRequest("a@b.co", "A"))
    assert is_valid_id(operation.id)
    for bad in ["", "x", operation.id.upper(), operation.id + "0", "../" + operation.id[3:]]:
        assert not is_valid_id(bad)


def test_timestamps_are_normalized_to_milliseconds_and_z():
    assert normalize_timestamp("2026-11-22T14:33:06.505663+00:00") == "2026-11-22T14:33:06.505Z"
    assert normalize_timestamp("2026-11-22T14:33:06.5Z") == "2026-11-22T14:33:06.500Z"


def test_events_round_trip():
    operation = new_operation(UserRequest("ada@example.org", "Ada"))
    event = OperationRequested.of(operation)
    assert OperationRequested.from_bytes(event.to_bytes()) == event


def test_an_event_carries_its_publication_time_which_is_not_its_identity():
    event = OperationRequested("op-1", UserRequest("ada@example.org", "Ada"), "2026-11-23T10:00Z")
    parsed = OperationRequested.from_bytes(event.to_bytes())
    assert parsed.published_at == "2026-11-23T10:00Z"
    assert parsed == OperationRequested("op-1", UserRequest("ada@example.org", "Ada"))
    assert b"publishedAt" not in OperationRequested("op-1", event.request).to_bytes()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"type": "user.delete", "operationId": "x", "request": {"email": "a", "name": "b"}}',
        b'{"type": "user.create", "operationId": "x"}',
        b'{"type": "user.create", "operationId": "x", "request": {"email": 1, "name": "b"}}',
        b'{"type": "user.create", "operationId": "x", "request": {"email": "a", "name": "b"},'
        b' "publishedAt": 1}',
        b"\xff\xfe",
    ],
)
def test_malformed_events_are_recognised(data):
    with pytest.raises(MalformedEvent):
        OperationRequested.from_bytes(data)
