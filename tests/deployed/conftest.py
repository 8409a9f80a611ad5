"""The black-box suite's target: any running system, reached over HTTP only.

- `make test-deployed URL=https://…/api/` (DEPLOYED_URL): that system; its stage (for the
  reviewers' sign-in and the review domains) is DEPLOYED_STAGE, else `local`;
- `make test-deployed STAGE=dev` (DEPLOYED_STAGE alone): the stage's deployed stack, its URL
  read from the stack's outputs with the caller's AWS credentials and region;
- neither (`make test`): the local stack, started as `make run` starts it.

On a stage whose reviewers sign in (REVIEW_AUTH=cognito), the suite signs in as the reviewer
page does: REVIEWER_USERNAME (default `reviewer`, the local stack's) and REVIEWER_PASSWORD
(default LOCAL_REVIEWER_PASSWORD; the local stack it starts, its own).

The suite needs no access to the tables: what it checks, it reads from the API.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import boto3
import botocore.exceptions
import pytest
import requests

from infra import definition
from infra.deploy import stack_name
from tests.conftest import ORIGINAL_ENVIRONMENT, caller_session
from tests.deployed.api import Api, Authorise


@dataclasses.dataclass(frozen=True)
class Target:
    api: Api
    stage: str
    review_domain: str | None  # an email domain the stage leaves to a person, if any
    denied_domain: str | None  # a domain of the stage's deny list, if any


def _deployed_url(stage: str) -> str:
    """The stage's API URL from its stack's outputs; a reason in one line when it cannot."""
    try:
        cloudformation = caller_session().client("cloudformation")
        (stack,) = cloudformation.describe_stacks(StackName=stack_name(stage))["Stacks"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        pytest.exit(f"no URL for stage {stage}: {error}", returncode=2)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "EndpointURL" not in outputs:
        pytest.exit(f"the stack {stack_name(stage)} has no EndpointURL output", returncode=2)
    return str(outputs["EndpointURL"])


def _authorise(
    setting: str, environment: dict[str, str], url: str, password: str | None = None
) -> Authorise | None:
    """How the stage's routes take a request: API_AUTH for the API's own, REVIEW_AUTH for
    the reviewers'."""
    auth = environment.get(setting, "none")
    if auth == "none":
        return None
    if auth == "iam":
        return _sigv4(caller_session())
    if auth == "cognito" and setting == "REVIEW_AUTH":
        env = ORIGINAL_ENVIRONMENT
        password = password or env.get("REVIEWER_PASSWORD") or env.get("LOCAL_REVIEWER_PASSWORD")
        if not password:
            raise pytest.UsageError("the reviewers sign in here: set REVIEWER_PASSWORD")
        return _signed_in(url, env.get("REVIEWER_USERNAME", "reviewer"), password)
    raise pytest.UsageError(f"the black-box suite cannot sign in to {setting}={auth}")


def _signed_in(url: str, username: str, password: str) -> Authorise:
    """A reviewer signed in as the reviewer page signs in, over HTTP only: the page's settings
    (GET review/settings.json), then Cognito's InitiateAuth (USER_PASSWORD_AUTH); the ID token
    goes as the Authorization header of the reviewers' routes."""
    settings = requests.get(urljoin(url, "review/settings.json"), timeout=30).json()
    answer = requests.post(
        settings["cognitoEndpoint"] + "/",
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": settings["clientId"],
                "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            }
        ),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        timeout=30,
    )
    assert answer.status_code == 200, f"{username} could not sign in: {answer.text}"
    token = answer.json()["AuthenticationResult"]["IdToken"]

    def authorise(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        prepared.headers["Authorization"] = token
        return prepared

    return authorise


def _sigv4(session: boto3.Session) -> Authorise:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    credentials = session.get_credentials()
    assert credentials is not None, "SigV4 signs with the session's credentials"
    region = session.region_name

    def sign(prepared: Any) -> Any:
        request = AWSRequest(
            method=prepared.method, url=prepared.url, data=prepared.body, headers=prepared.headers
        )
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
        prepared.headers.update(dict(request.headers))
        return prepared

    return sign


@pytest.fixture(scope="module")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    env = ORIGINAL_ENVIRONMENT
    url, stage = env.get("DEPLOYED_URL"), env.get("DEPLOYED_STAGE")
    if not url and stage:
        url = _deployed_url(stage)
    password = None
    if not url:
        stage = "local"
        local_stack = request.getfixturevalue("local_stack")
        url, password = local_stack.api, local_stack.reviewer_password
    stage = stage or "local"
    environment = definition.stage_environment(stage)

    def first(setting: str) -> str | None:
        return next((d for d in environment.get(setting, "").split(",") if d), None)

    root = url.rstrip("/") + "/"
    api = Api(
        root,
        authorise_client=_authorise("API_AUTH", environment, root),
        authorise_reviewer=_authorise("REVIEW_AUTH", environment, root, password),
    )
    yield Target(api, stage, first("REVIEW_EMAIL_DOMAINS"), first("DENIED_EMAIL_DOMAINS"))
    api.session.close()
