"""Who may call the API, per stage: API_AUTH=none | iam | cognito for the public routes,
REVIEW_AUTH (the same choices) for the reviewers' routes.

Read when app.py is imported, which Chalice does at package time with the stage's
environment, so each stage's API Gateway gets its own authorizers.
"""

from __future__ import annotations

import os

from chalice import CognitoUserPoolAuthorizer, IAMAuthorizer
from chalice.app import Authorizer


def stage_authorizer(variable: str = "API_AUTH") -> Authorizer | None:
    mode = os.environ.get(variable, "none")
    if mode == "none":
        return None
    if mode == "iam":
        # Callers sign requests with SigV4 and need execute-api:Invoke on the API.
        return IAMAuthorizer()
    if mode == "cognito":
        return CognitoUserPoolAuthorizer(
            "users", provider_arns=[os.environ["COGNITO_USER_POOL_ARN"]]
        )
    raise ValueError(f"{variable} must be none, iam or cognito, not {mode!r}")
