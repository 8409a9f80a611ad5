"""Reviewers signed in with Cognito, in process: the app as a stage with REVIEW_AUTH=cognito
packages it (the reviewers' routes behind a CognitoUserPoolAuthorizer), the stage's user pool
made from infra/definition.py in the emulator, and the local gateway checking each token as
API Gateway does (local/http/authorizer.py). The tokens are moto's Cognito's, each pool signing
with its own key (local/patches/cognito.py), issued on the emulator's clock.

Every bad token gets API Gateway's 401 (https://repost.aws/knowledge-center/
api-gateway-cognito-401-unauthorized), a user outside the reviewers' group the app's 403, a
body that is not JSON a 400; each as problem+json, and the review stays as it was.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from chalice import Chalice
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from moto.utilities.utils import load_resource

from chalicelib.domain.reviews import REVIEWERS_GROUP
from chalicelib.http.auth import REVIEWERS_AUTHORIZER
from infra.definition import ROOT, generated_password
from local.aws.cognito import KEY_ID, TokenVerifier, public_key_set
from local.aws.provision import ReviewerPool, provision_reviewers
from local.aws.reviewers import WeakPassword, add_local_reviewer
from local.http.authorizer import CognitoAuthorizers, install
from tests.conftest import running_stack
from tests.helpers import JSON, awaiting_review, body, finished, operation, table_items

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


def _cognito_app(monkeypatch: pytest.MonkeyPatch) -> Chalice:
    """app.py imported anew as a cognito stage imports it (its authorizers are read then)."""
    monkeypatch.setenv("REVIEW_AUTH", "cognito")
    spec = importlib.util.spec_from_file_location("app_with_reviewer_sign_in", ROOT / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app: Chalice = module.app
    return app


@dataclasses.dataclass
class Reviewers:
    stack: Any  # the Emulator, with Chalice's test client as `client` (tests/conftest.py)
    pool: ReviewerPool
    password: str

    def sign_in(self, username: str = "reviewer", client_id: str | None = None) -> dict:
        return boto3.client("cognito-idp").initiate_auth(
            ClientId=client_id or self.pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": self.password},
        )["AuthenticationResult"]

    def token(self, username: str = "reviewer") -> str:
        return str(self.sign_in(username)["IdToken"])

    def get(self, path: str, token: str | None):
        headers = {} if token is None else {"Authorization": token}
        return self.stack.client.http.get(path, headers=headers)

    def decide(self, operation_id: str, token: str | None, document: object = None, raw=None):
        headers = {**JSON, **({} if token is None else {"Authorization": token})}
        sent = raw if raw is not None else json.dumps(document or {"decision": "approve"})
        return self.stack.client.http.post(f"/reviews/{operation_id}", headers=headers, body=sent)


@pytest.fixture(scope="module")
def reviewers() -> Iterator[Reviewers]:
    with pytest.MonkeyPatch.context() as env:
        app = _cognito_app(env)
        with running_stack(app) as stack:
            pool = provision_reviewers(stack.session, "test")
            env.setenv("REVIEWER_POOL_ID", pool.pool_id)
            env.setenv("REVIEWER_CLIENT_ID", pool.client_id)
            env.setenv("COGNITO_ENDPOINT_URL", "http://127.0.0.1:4566")
            verifier = TokenVerifier(pool, now=stack.clock.time)
            authorizers = CognitoAuthorizers(app, "test", {REVIEWERS_AUTHORIZER: verifier})
            client: Any = stack.client  # type: ignore[attr-defined]  # set by running_stack
            install(client.http._local_gateway, authorizers)
            password = generated_password()
            add_local_reviewer(stack.session, pool, password)
            # A user of the pool outside the reviewers' group.
            cognito = boto3.client("cognito-idp")
            cognito.admin_create_user(
                UserPoolId=pool.pool_id, Username="outsider", MessageAction="SUPPRESS"
            )
            cognito.admin_set_user_password(
                UserPoolId=pool.pool_id, Username="outsider", Password=password, Permanent=True
            )
            yield Reviewers(stack, pool, password)


def _review_item(operation_id: str) -> dict:
    (item,) = [i for i in table_items("REVIEWS_TABLE") if i["pk"]["S"] == operation_id]
    return item


def _assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == PROBLEM
    problem = body(response)
    assert problem["status"] == status and problem["type"].startswith("/problems/")
    return problem


def test_a_reviewer_signs_in_lists_and_decides_and_the_decision_names_them(reviewers):
    waiting = awaiting_review(reviewers.stack, "grace@review.example.org")
    token = reviewers.token()
    listed = reviewers.get("/reviews", token)
    assert listed.status_code == 200, listed.body
    assert waiting["id"] in [r["operationId"] for r in body(listed)["reviews"]]

    decided = reviewers.decide(waiting["id"], token, {"decision": "reject", "reason": "a bot"})
    assert decided.status_code == 200, decided.body
    assert body(decided)["decidedBy"] == "reviewer"
    assert _review_item(waiting["id"])["decidedBy"] == {"S": "reviewer"}
    done = finished(reviewers.stack, waiting["id"])
    assert (done["status"], done["error"]["code"]) == ("FAILED", "USER_REJECTED")
    # A second decision, by the same reviewer or another: 409, and the first one stands.
    again = reviewers.decide(waiting["id"], reviewers.token(), {"decision": "approve"})
    assert _assert_problem(again, 409)["title"] == "Review already decided"
    assert _review_item(waiting["id"])["decision"] == {"S": "reject"}


def test_a_first_sign_in_changes_the_temporary_password(reviewers):
    """As `make reviewer` leaves a reviewer on AWS: a temporary password, to be changed."""
    cognito = boto3.client("cognito-idp")
    temporary, chosen = generated_password(), generated_password()
    cognito.admin_create_user(
        UserPoolId=reviewers.pool.pool_id,
        Username="newcomer",
        TemporaryPassword=temporary,
        MessageAction="SUPPRESS",
    )
    cognito.admin_add_user_to_group(
        UserPoolId=reviewers.pool.pool_id, Username="newcomer", GroupName=REVIEWERS_GROUP
    )
    challenged = cognito.initiate_auth(
        ClientId=reviewers.pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "newcomer", "PASSWORD": temporary},
    )
    assert challenged["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    answered = cognito.respond_to_auth_challenge(
        ClientId=reviewers.pool.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenged["Session"],
        ChallengeResponses={"USERNAME": "newcomer", "NEW_PASSWORD": chosen},
    )
    token = answered["AuthenticationResult"]["IdToken"]
    assert reviewers.get("/reviews", token).status_code == 200


# Each bad token: 401 from the gateway, the review untouched.


def _unsigned(header: dict, claims: dict) -> str:
    def part(document: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _bad_tokens(reviewers: Reviewers) -> dict[str, str]:
    good = reviewers.token()
    claims = _claims(good)
    header = {"kid": KEY_ID, "alg": "RS256"}
    stranger_key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID})
    public = json.dumps(public_key_set(reviewers.pool.pool_id))
    head, payload, signature = good.split(".")
    raised = base64.urlsafe_b64encode(
        json.dumps({**claims, "cognito:groups": [REVIEWERS_GROUP, "admins"]}).encode()
    )
    # Another pool of the same emulator, with its own reviewer in its own reviewers' group.
    cognito = boto3.client("cognito-idp")
    other = provision_reviewers(reviewers.stack.session, "elsewhere")
    add_local_reviewer(reviewers.stack.session, other, reviewers.password)
    elsewhere = cognito.initiate_auth(
        ClientId=other.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "reviewer", "PASSWORD": reviewers.password},
    )["AuthenticationResult"]["IdToken"]
    # Another client of this pool: its tokens' audience is not the page's.
    client = cognito.create_user_pool_client(
        UserPoolId=reviewers.pool.pool_id, ClientName="not-the-page"
    )["UserPoolClient"]["ClientId"]
    # moto's own key, in its package for anyone to sign with (what every pool would use but
    # for local/patches/cognito.py).
    moto_key = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    return {
        "forged with another key": jwt.encode(header, claims, stranger_key),
        "signed with moto's packaged key": jwt.encode(header, claims, moto_key),
        "a tampered payload": f"{head}.{raised.rstrip(b'=').decode()}.{signature}",
        "a tampered signature": f"{head}.{payload}.{signature[:-4]}AAAA",
        "alg none": _unsigned({"kid": KEY_ID, "alg": "none"}, claims),
        "HS256 keyed with the public key": jwt.encode(
            {"kid": KEY_ID, "alg": "HS256"}, claims, OctKey.import_key(public)
        ),
        "another pool's": elsewhere,
        "another client's": reviewers.sign_in(client_id=client)["IdToken"],
        "an access token": reviewers.sign_in()["AccessToken"],
        "not a JWT": "not-a-token",
        "Bearer-prefixed": f"Bearer {good}",
    }


def test_bad_tokens_get_401_and_the_review_stays_as_it_was(reviewers):
    waiting = awaiting_review(reviewers.stack, "heidi@review.example.org")
    before = _review_item(waiting["id"])
    for what, token in {"no token": None, "empty": "", **_bad_tokens(reviewers)}.items():
        for response in (
            reviewers.get("/reviews", token),
            reviewers.decide(waiting["id"], token),
        ):
            problem = _assert_problem(response, 401)
            assert (problem["title"], problem["detail"]) == ("Unauthorized", "Unauthorized"), what
    assert _review_item(waiting["id"]) == before
    assert operation(reviewers.stack.client, waiting["id"])["step"] == "AWAITING_REVIEW"


def test_an_expired_token_gets_401_on_the_emulator_s_clock(reviewers):
    waiting = awaiting_review(reviewers.stack, "ivan@review.example.org")
    before = _review_item(waiting["id"])
    token = reviewers.token()
    assert reviewers.get("/reviews", token).status_code == 200
    reviewers.stack.clock.advance(timedelta(hours=1, seconds=1))  # the hour a token lasts
    _assert_problem(reviewers.decide(waiting["id"], token), 401)
    assert _review_item(waiting["id"]) == before
    assert reviewers.get("/reviews", reviewers.token()).status_code == 200  # signed in anew


def test_a_user_outside_the_reviewers_group_gets_403_and_the_review_stays(reviewers):
    waiting = awaiting_review(reviewers.stack, "judy@review.example.org")
    before = _review_item(waiting["id"])
    token = reviewers.token("outsider")
    for response in (reviewers.get("/reviews", token), reviewers.decide(waiting["id"], token)):
        problem = _assert_problem(response, 403)
        assert problem["detail"] == f"the user is not in the {REVIEWERS_GROUP} group"
    assert _review_item(waiting["id"]) == before


def test_a_decision_that_is_not_json_gets_400_and_the_review_stays(reviewers):
    waiting = awaiting_review(reviewers.stack, "mallory@review.example.org")
    before = _review_item(waiting["id"])
    token = reviewers.token()
    for raw in ('{"decision": "approve"', "approve", "\xff"):
        _assert_problem(reviewers.decide(waiting["id"], token, raw=raw), 400)
    assert _review_item(waiting["id"]) == before
    assert "decidedBy" not in before and before["status"] == {"S": "PENDING"}


def test_the_reviewer_page_is_open_and_says_where_to_sign_in(reviewers):
    for path in ("/review", "/review/"):
        page = reviewers.get(path, None)
        assert page.status_code == 200
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert '<base href="/review/">' in page.body.decode()
        policy = page.headers["Content-Security-Policy"]
        assert "connect-src 'self' http://127.0.0.1:4566;" in policy
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
    settings = body(reviewers.get("/review/settings.json", None))
    assert settings == {
        "auth": "cognito",
        "region": "us-east-1",
        "userPoolId": reviewers.pool.pool_id,
        "clientId": reviewers.pool.client_id,
        "cognitoEndpoint": "http://127.0.0.1:4566",
    }
    script = reviewers.get("/review/review.js", None)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "InitiateAuth" in script.body.decode()
    _assert_problem(reviewers.get("/review/app.py", None), 404)
    _assert_problem(reviewers.get("/review/..%2Fapp.py", None), 404)


def test_a_local_reviewer_password_the_policy_refuses_stops_make_run_with_one_line(reviewers):
    other = provision_reviewers(reviewers.stack.session, "weak")
    with pytest.raises(WeakPassword) as refused:
        add_local_reviewer(reviewers.stack.session, other, "short")
    assert "\n" not in str(refused.value)
    assert str(refused.value).startswith("LOCAL_REVIEWER_PASSWORD does not meet")
