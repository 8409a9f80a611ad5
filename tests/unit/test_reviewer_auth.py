"""The reviewers' sign-in, piece by piece: the local gateway's check of a token (what API
Gateway's Cognito authorizer checks), the claims as API Gateway hands them over, the app's
check of the group, and the reviewer page's settings and policy."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import pytest
from chalice import CognitoUserPoolAuthorizer, IAMAuthorizer
from joserfc import jwt
from joserfc.jwk import RSAKey

from chalicelib.config import ReviewerSignIn
from chalicelib.domain.reviews import REVIEWERS_GROUP
from chalicelib.http import review_page
from chalicelib.http.auth import groups, reviewer
from chalicelib.http.problems import Problem
from infra.definition import PASSWORD_POLICY
from local.aws.cognito import KEY_ID, InvalidToken, TokenVerifier
from local.aws.provision import ReviewerPool
from local.http.authorizer import as_api_gateway_claims
from local.process.options import Options
from local.process.run import Run

if TYPE_CHECKING:
    from local.emulator import Emulator

pytestmark = pytest.mark.unit

NOW = 1_800_000_000
POOL = ReviewerPool(
    "us-east-1_Pool", "arn:aws:cognito-idp:us-east-1:1:userpool/us-east-1_Pool", "page", "us-east-1"
)
KEY = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})


def _claims(**changes: object) -> dict:
    claims = {
        "iss": POOL.issuer,
        "aud": POOL.client_id,
        "token_use": "id",
        "iat": NOW - 60,
        "exp": NOW + 3540,
        "cognito:username": "grace",
        "cognito:groups": [REVIEWERS_GROUP],
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _token(claims: dict, key: RSAKey = KEY) -> str:
    return jwt.encode({"kid": KEY_ID, "alg": "RS256"}, claims, key)


VERIFIER = TokenVerifier(
    POOL, now=lambda: NOW, keys=lambda pool_id: {"keys": [KEY.as_dict(private=False)]}
)


def test_a_token_of_the_pool_s_page_is_taken_with_its_claims():
    assert VERIFIER.claims(_token(_claims()))["cognito:username"] == "grace"


@pytest.mark.parametrize(
    ("what", "claims"),
    [
        ("another issuer", _claims(iss="https://cognito-idp.us-east-1.amazonaws.com/other")),
        ("another audience", _claims(aud="another-client")),
        ("an access token", _claims(token_use="access")),
        ("expired", _claims(exp=NOW - 1)),
        ("no expiry", _claims(exp=None)),
        ("no issuer", _claims(iss=None)),
    ],
)
def test_a_token_signed_by_the_pool_s_key_with_claims_that_are_not_its_page_s_is_refused(
    what, claims
):
    with pytest.raises(InvalidToken):
        VERIFIER.claims(_token(claims))


def test_a_token_the_pool_s_key_did_not_sign_is_refused():
    with pytest.raises(InvalidToken, match="not an RS256 JWS"):
        VERIFIER.claims(_token(_claims(), RSAKey.generate_key(2048, parameters={"kid": KEY_ID})))
    with pytest.raises(InvalidToken, match="no token"):
        VERIFIER.claims(None)


def test_the_claims_reach_the_app_as_api_gateway_s_strings():
    claims = as_api_gateway_claims(_claims(email_verified=True, **{"cognito:groups": ["a", "b"]}))
    assert claims["cognito:groups"] == "a,b"
    assert claims["exp"] == str(NOW + 3540) and claims["email_verified"] == "true"
    assert all(isinstance(value, str) for value in claims.values())


@pytest.mark.parametrize(
    ("claim", "found"),
    [
        ("reviewers", {"reviewers"}),
        ("admins,reviewers", {"admins", "reviewers"}),
        ("[admins reviewers]", {"admins", "reviewers"}),
        (["reviewers"], {"reviewers"}),
        ("", set()),
        (None, set()),
    ],
)
def test_the_groups_claim_is_read_however_api_gateway_writes_it(claim, found):
    assert groups(claim) == found


COGNITO = CognitoUserPoolAuthorizer("reviewers", provider_arns=[POOL.pool_arn])


def _context(**claims: str) -> dict:
    return {"authorizer": {"claims": claims}}


def test_a_reviewer_is_the_verified_user_name_if_in_the_group():
    context = _context(**{"cognito:username": "grace", "cognito:groups": "reviewers"})
    assert reviewer(context, COGNITO) == "grace"


@pytest.mark.parametrize(
    ("context", "status"),
    [
        (_context(**{"cognito:username": "eve", "cognito:groups": "admins"}), 403),
        (_context(**{"cognito:username": "eve"}), 403),
        ({}, 401),  # API Gateway lets no such request through; the app refuses it too
    ],
)
def test_who_is_not_a_verified_reviewer_is_refused(context, status):
    with pytest.raises(Problem) as refused:
        reviewer(context, COGNITO)
    assert refused.value.status == status


def test_under_iam_the_reviewer_is_the_caller_and_under_none_nobody():
    arn = "arn:aws:iam::123456789012:user/grace"
    assert reviewer({"identity": {"userArn": arn}}, IAMAuthorizer()) == arn
    assert reviewer(_context(**{"cognito:username": "grace"}), None) is None


SIGN_IN = ReviewerSignIn(
    "cognito", "eu-west-1", "eu-west-1_P", "client", "https://cognito-idp.eu-west-1.amazonaws.com"
)


def test_the_page_talks_to_its_api_and_to_cognito_only():
    policy = review_page.content_security_policy(SIGN_IN)
    assert "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com;" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    none = review_page.content_security_policy(ReviewerSignIn("none", "eu-west-1", None, None, ""))
    assert "connect-src 'self';" in none
    assert review_page.settings_document(SIGN_IN) == {
        "auth": "cognito",
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_P",
        "clientId": "client",
        "cognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com",
    }


@pytest.mark.parametrize(
    ("path", "base"),
    [
        ("/api/review/", "/api/review/"),  # behind API Gateway's stage
        ("/api/review", "/api/review/"),
        ("/review", "/review/"),
        ('/"><script>/review', "/review/"),  # nothing but plain segments becomes the base
        ("//evil.example/review", "/review/"),
        (None, "/review/"),
    ],
)
def test_the_page_s_links_resolve_against_its_own_path(monkeypatch, path, base):
    monkeypatch.setenv("REVIEW_AUTH", "none")
    page = review_page.index({"path": path}, "svc")
    assert f'<base href="{base}">' in page.body


def test_the_page_is_titled_with_the_service_s_name(monkeypatch):
    monkeypatch.setenv("REVIEW_AUTH", "none")
    page = review_page.index({"path": "/review"}, "<b>orders</b>")
    assert "<title>Reviews · &lt;b&gt;orders&lt;/b&gt;</title>" in page.body


def test_make_run_generates_and_prints_the_local_reviewer_s_password_when_none_is_given(
    monkeypatch,
):
    monkeypatch.delenv("LOCAL_REVIEWER_PASSWORD", raising=False)
    run = Run(Options())
    password = run.reviewer_password
    assert run.reviewer_password_generated
    assert len(password) >= PASSWORD_POLICY["MinimumLength"]
    for kind in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"):
        assert re.search(kind, password), kind
    assert re.fullmatch(r"[A-Za-z0-9%+\-.:@_]+", password)  # nothing a shell would expand
    run.emulator = cast("Emulator", SimpleNamespace(resources=SimpleNamespace(reviewers=POOL)))
    (line,) = [line for line in run._reviewer_lines() if "user reviewer" in line]
    assert f"password {password}" in line and "LOCAL_REVIEWER_PASSWORD" in line
    monkeypatch.setenv("LOCAL_REVIEWER_PASSWORD", "Given-password-1")
    given = Run(Options())
    assert (given.reviewer_password, given.reviewer_password_generated) == (
        "Given-password-1",
        False,
    )
