"""API Gateway's Cognito user pool authorizer in the local gateway.

Chalice's local gateway lets any request through a CognitoUserPoolAuthorizer: it decodes the
token's payload without checking it. Here the token in the authorizer's header is verified as
API Gateway verifies it (local/aws/cognito.py), and its claims reach the app where API Gateway
puts them, `requestContext.authorizer.claims`, every value a string as API Gateway (REST)
hands them over. A token that fails gets API Gateway's UNAUTHORIZED answer, the gateway
response of the deployed stack (infra/gateway.py): 401 problem+json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from chalice import Chalice, CognitoUserPoolAuthorizer
from chalice.local import (
    InvalidAuthorizerError,
    LambdaContext,
    LocalGateway,
    LocalGatewayAuthorizer,
    NotAuthorizedError,
)

from chalicelib.http.problems import PROBLEM_CONTENT_TYPE
from infra import gateway
from local.aws.cognito import InvalidToken, TokenVerifier

logger = logging.getLogger(__name__)
EventType = dict[str, Any]


class CognitoAuthorizers(LocalGatewayAuthorizer):
    """Chalice's local authorizer, with each Cognito authorizer (by its name in app.py) checked
    by its verifier; other authorizers as Chalice runs them."""

    def __init__(self, app: Chalice, stage: str, verifiers: Mapping[str, TokenVerifier]) -> None:
        super().__init__(app)
        self._stage = stage
        self._verifiers = dict(verifiers)

    def authorize(
        self, raw_path: str, lambda_event: EventType, lambda_context: LambdaContext
    ) -> tuple[EventType, LambdaContext]:
        route = self._route_for_event(lambda_event)
        authorizer = route.authorizer if route is not None else None
        if not isinstance(authorizer, CognitoUserPoolAuthorizer):
            return super().authorize(raw_path, lambda_event, lambda_context)
        verifier = self._verifiers.get(authorizer.name)
        if verifier is None:
            logger.error("no user pool for the authorizer %r in the local stack", authorizer.name)
            raise InvalidAuthorizerError(*self._problem("AUTHORIZER_CONFIGURATION_ERROR"))
        header = str(authorizer.to_swagger()["name"]).lower()
        token = (lambda_event.get("headers") or {}).get(header)
        try:
            claims = verifier.claims(token)
        except InvalidToken as refused:
            logger.info("token refused by the %s authorizer: %s", authorizer.name, refused)
            raise NotAuthorizedError(*self._problem("UNAUTHORIZED")) from None
        lambda_event["requestContext"]["authorizer"] = {"claims": as_api_gateway_claims(claims)}
        return lambda_event, lambda_context

    def _problem(self, response_type: str) -> tuple[dict[str, str], bytes]:
        """The deployed stack's gateway response of that type, with API Gateway's message."""
        answer = gateway.answer(response_type, self._stage)
        message = "Unauthorized" if answer.status == 401 else "Authorizer configuration error"
        body = json.dumps(answer.body(message)).encode()
        return {"Content-Type": PROBLEM_CONTENT_TYPE}, body


def as_api_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """The claims as API Gateway (REST) gives them to the function: strings, a list joined with
    commas (chalicelib/http/auth.py reads `cognito:groups` so)."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return ",".join(text(item) for item in value)
        return str(value)

    return {name: text(value) for name, value in claims.items()}


def install(local_gateway: LocalGateway, authorizers: CognitoAuthorizers) -> None:
    """Puts the authorizers into a Chalice LocalGateway (one per request of the local HTTP
    server; the one of a chalice.test.Client's `http`)."""
    local_gateway._authorizer = authorizers
