"""API Gateway's own answers, as RFC 9457 problem+json like every answer of the app.

API Gateway answers some requests before any function runs: an unknown path, missing or bad
credentials, throttling, a body over its limit, its own failures and the integration's. Each
of its response types gets a gateway response here, written into the API definition
(`x-amazon-apigateway-gateway-responses`), so it is deployed with the API: a separate
AWS::ApiGateway::GatewayResponse would take effect only at the next deployment of the stage.
The body has the app's `type` and `title` for the status, and API Gateway's message as
`detail`. (Gateway response templates are not run through VTL: only $context values are
substituted, so each response type has one fixed status.)
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from infra import definition

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclasses.dataclass(frozen=True)
class EdgeProblem:
    status: int
    slug: str
    title: str
    retry_after_seconds: int | None = None

    def body(self, detail: str) -> dict[str, Any]:
        return {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": detail,
        }


NOT_FOUND = EdgeProblem(404, "not-found", "Not found")
UNAUTHORIZED = EdgeProblem(401, "unauthorized", "Unauthorized")
FORBIDDEN = EdgeProblem(403, "forbidden", "Forbidden")
INVALID = EdgeProblem(400, "invalid-request", "Invalid request")
TOO_LARGE = EdgeProblem(413, "payload-too-large", "Payload too large")
UNSUPPORTED = EdgeProblem(415, "unsupported-media-type", "Unsupported media type")
TOO_MANY = EdgeProblem(429, "too-many-requests", "Too many requests", retry_after_seconds=1)
INTERNAL = EdgeProblem(500, "internal-error", "Internal error")
BAD_GATEWAY = EdgeProblem(502, "bad-gateway", "Bad gateway")
GATEWAY_TIMEOUT = EdgeProblem(504, "gateway-timeout", "Gateway timeout")

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
        template = json.dumps(problem.body("DETAIL")).replace(
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
