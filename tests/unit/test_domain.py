import pytest

from chalicelib.domain.operations import is_valid_id, normalize_timestamp
from chalicelib.domain.users import approve, normalize_email, user_id_for_operation
from tests.builders import a_request, an_operation

pytestmark = pytest.mark.unit


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


def test_fingerprint_tells_requests_apart():
    same = a_request(email="a@b.co", name="A").fingerprint()
    assert a_request(email="a@b.co", name="A").fingerprint() == same
    assert a_request(email="a@b.co", name="B").fingerprint() != same


def test_the_fingerprint_of_today_s_request_never_changes():
    """An Idempotency-Key is kept with its request's fingerprint for a day: a client's retry
    across a deploy must match it, so a field added to the request (left out when not set)
    must not change the fingerprint of a request without it."""
    request = a_request(email="ada@example.org", name="Ada")
    assert request.fingerprint() == (
        "b9147ac5a48a1cb9ce2791bb7bec5305c316bdbcf476da84d4c3456c80acb698"
    )


def test_ids_must_be_canonical_uuids():
    operation = an_operation(email="a@b.co")
    assert is_valid_id(operation.id)
    for bad in ["", "x", operation.id.upper(), operation.id + "0", "../" + operation.id[3:]]:
        assert not is_valid_id(bad)


def test_timestamps_are_normalized_to_milliseconds_and_z():
    assert normalize_timestamp("2026-11-22T14:33:06.505663+00:00") == "2026-11-22T14:33:06.505Z"
    assert normalize_timestamp("2026-11-22T14:33:06.5Z") == "2026-11-22T14:33:06.500Z"
