"""API Gateway's own answers, as RFC 9457 problem+json like every answer of the app.

API Gateway answers some requests before any function runs: an unknown path, missing or bad
credentials, throttling, a body over its limit, its own failures and the integration's. Each
of its response types gets a gateway response here, written into the API definition
(`x-amazon-apigateway-gateway-responses`), so it is deployed with the API: a separate
AWS::ApiGateway::GatewayResponse would take effect only at the next deployment of the stage.
The body has the app's `type` and `title` for the status (chalicelib/http/problems.py's
catalogue), and API Gateway's message as `detail`. (Gateway response templates are not run
through VTL: only $context values are substituted, so each response type has one fixed
status.)

The `type` is the problem's page below the API's root. No template logic can tell a custom
domain's base path, so API Gateway's own answers take the root of the stage's default URL,
`/$context.stage` (`https://{id}.execute-api.{region}.amazonaws.com/api/problems/...`): right
on that URL, which is the one this stack serves; behind a custom domain they would need the
mapping's base path instead. The app's own answers read the root from each request
(chalicelib/http/links.py) and are right behind any base path.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from chalicelib.http import problems
from chalicelib.http.problems import PROBLEM_CONTENT_TYPE, ProblemType
from infra import definition

# The root of the API in a gateway response: the stage, first on the default URL.
GATEWAY_ROOT = "/$context.stage"


@dataclasses.dataclass(frozen=True)
class EdgeProblem:
    kind: ProblemType
    retry_after_seconds: int | None = None

    @property
    def status(self) -> int:
        return self.kind.status

    @property
    def slug(self) -> str:
        return self.kind.slug

    @property
    def title(self) -> str:
        return self.kind.title

    def body(self, detail: str, root: str = "") -> dict[str, Any]:
        return {
            "type": f"{root}{self.kind.path}",
            "title": self.title,
            "status": self.status,
            "detail": detail,
        }


NOT_FOUND = EdgeProblem(problems.NOT_FOUND)
UNAUTHORIZED = EdgeProblem(problems.UNAUTHORIZED)
FORBIDDEN = EdgeProblem(problems.FORBIDDEN)
INVALID = EdgeProblem(problems.INVALID_REQUEST)
TOO_LARGE = EdgeProblem(problems.PAYLOAD_TOO_LARGE)
UNSUPPORTED = EdgeProblem(problems.UNSUPPORTED_MEDIA_TYPE)
TOO_MANY = EdgeProblem(problems.TOO_MANY_REQUESTS, retry_after_seconds=1)
INTERNAL = EdgeProblem(problems.INTERNAL_ERROR)
BAD_GATEWAY = EdgeProblem(problems.BAD_GATEWAY)
GATEWAY_TIMEOUT = EdgeProblem(problems.GATEWAY_TIMEOUT)

# Every response type of API Gateway (REST). DEFAULT_4XX/5XX state their status, so a type
# AWS adds later answers 400/500 with a body that says so, never a status the body denies.
_RESPONSES = {
    "ACCESS_DENIED": FORBIDDEN,
    "API_CONFIGURATION_ERROR": INTERNAL,
    "AUTHORIZER_CONFIGURATION_ERROR": INTERNAL,
    "AUTHORIZER_FAILURE": INTERNAL,
    "BAD_REQUEST_BODY": INVALID,
    "BAD_REQUEST_PARAMETERS": INVALID,
    "DEFAULT_4XX": INVALID,
    "DEFAULT_5XX": INTERNAL,
    "EXPIRED_TOKEN": FORBIDDEN,
    "INTEGRATION_FAILURE": BAD_GATEWAY,
    "INTEGRATION_TIMEOUT": GATEWAY_TIMEOUT,
    "INVALID_API_KEY": FORBIDDEN,
    "INVALID_SIGNATURE": FORBIDDEN,
    "QUOTA_EXCEEDED": TOO_MANY,
    "REQUEST_TOO_LARGE": TOO_LARGE,
    "RESOURCE_NOT_FOUND": NOT_FOUND,
    "THROTTLED": TOO_MANY,
    "UNAUTHORIZED": UNAUTHORIZED,
    "UNSUPPORTED_MEDIA_TYPE": UNSUPPORTED,
    "WAF_FILTERED": FORBIDDEN,
}


def answer(response_type: str, stage: str) -> EdgeProblem:
    """What API Gateway answers for a response type on a stage.

    MISSING_AUTHENTICATION_TOKEN is API Gateway's answer both to a path it does not have and
    to an unsigned request on an IAM-authorised API, and one type has one status. Every path
    answers every method (chalicelib/http/edges.py), so it means an unknown path (404),
    except under IAM, where it is mostly a caller who did not sign (401): there an unknown
    path answers 401 too, since no route matched to authorise against.
    """
    if response_type == "MISSING_AUTHENTICATION_TOKEN":
        iam = definition.stage_environment(stage).get("API_AUTH", "none") == "iam"
        return UNAUTHORIZED if iam else NOT_FOUND
    return _RESPONSES[response_type]


def response_types() -> list[str]:
    return sorted([*_RESPONSES, "MISSING_AUTHENTICATION_TOKEN"])


def gateway_responses(stage: str) -> dict[str, dict[str, Any]]:
    """The API definition's x-amazon-apigateway-gateway-responses for a stage."""
    found = {}
    for response_type in response_types():
        problem = answer(response_type, stage)
        # $context.error.messageString is API Gateway's message, quoted as a JSON string.
        template = json.dumps(problem.body("DETAIL", GATEWAY_ROOT)).replace(
            '"DETAIL"', "$context.error.messageString"
        )
        headers = {"gatewayresponse.header.Content-Type": f"'{PROBLEM_CONTENT_TYPE}'"}
        if problem.retry_after_seconds is not None:
            headers["gatewayresponse.header.Retry-After"] = f"'{problem.retry_after_seconds}'"
        found[response_type] = {
            "statusCode": str(problem.status),
            "responseParameters": headers,
            "responseTemplates": {
                "application/json": template,
                PROBLEM_CONTENT_TYPE: template,
            },
        }
    return found
