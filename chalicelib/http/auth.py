"""Who may call the API, per stage: API_AUTH=none | iam | cognito for the public routes,
REVIEW_AUTH (the same choices) for the reviewers' routes; and who a reviewer is.

The authorizers are read when app.py is imported, which Chalice does at package time with the
stage's environment, so each stage's API Gateway gets its own. API Gateway checks the
credentials before the function runs (a Cognito token's signature, expiry, issuer and
audience: infra/template.py); the app then checks what only it knows, that a signed-in
reviewer is in the reviewers' group, and records who decided.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from chalice import CognitoUserPoolAuthorizer, IAMAuthorizer
from chalice.app import Authorizer

from chalicelib.domain.reviews import REVIEWERS_GROUP
from chalicelib.http.problems import forbidden, unauthorized

# The name of the reviewers' authorizer in the API definition (infra/template.py fills in its
# user pool there).
REVIEWERS_AUTHORIZER = "reviewers"
# The reviewers' user pool is the stack's: `make package` writes its ARN into the packaged API
# in place of this one. `chalice deploy` onto a stage that `make deploy` made takes it from
# REVIEWER_POOL_ARN (the stack's output ReviewerPoolArn).
STACK_POOL_ARN = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_StackPool"
_MODES = ("none", "iam", "cognito")


def _mode(variable: str) -> str:
    mode = os.environ.get(variable, "none")
    if mode not in _MODES:
        raise ValueError(f"{variable} must be none, iam or cognito, not {mode!r}")
    return mode


def stage_authorizer() -> Authorizer | None:
    """The public routes' authorizer (API_AUTH)."""
    mode = _mode("API_AUTH")
    if mode == "cognito":
        return CognitoUserPoolAuthorizer(
            "users", provider_arns=[os.environ["COGNITO_USER_POOL_ARN"]]
        )
    # Under IAM, callers sign requests with SigV4 and need execute-api:Invoke on the API.
    return IAMAuthorizer() if mode == "iam" else None


def reviewers_authorizer() -> Authorizer | None:
    """The reviewers' routes' authorizer (REVIEW_AUTH): staff only."""
    mode = _mode("REVIEW_AUTH")
    if mode == "cognito":
        pool = os.environ.get("REVIEWER_POOL_ARN") or STACK_POOL_ARN
        return CognitoUserPoolAuthorizer(REVIEWERS_AUTHORIZER, provider_arns=[pool])
    return IAMAuthorizer() if mode == "iam" else None


def reviewer(context: Mapping[str, Any], authorizer: Authorizer | None) -> str | None:
    """Who calls a reviewers' route, from what the route's authorizer verified (the request
    context, where API Gateway puts it): a Cognito user's name, if in the reviewers' group
    (403 otherwise); an IAM caller's ARN; nobody under no authorizer."""
    if isinstance(authorizer, CognitoUserPoolAuthorizer):
        claims = (context.get("authorizer") or {}).get("claims") or {}
        name = claims.get("cognito:username")
        if not isinstance(name, str) or not name:
            # API Gateway lets no request without verified claims reach the function.
            raise unauthorized("the request carries no verified reviewer")
        if REVIEWERS_GROUP not in groups(claims.get("cognito:groups")):
            raise forbidden(f"the user is not in the {REVIEWERS_GROUP} group")
        return name
    if isinstance(authorizer, IAMAuthorizer):
        arn = (context.get("identity") or {}).get("userArn")
        return arn if isinstance(arn, str) and arn else None
    return None


def groups(claim: Any) -> set[str]:
    """The groups of a `cognito:groups` claim. API Gateway (REST) hands every claim to the
    function as a string: one group as itself, several as "a,b" (or "[a b]", as its HTTP APIs
    write arrays); a list, as the token has it, is taken too."""
    if isinstance(claim, list):
        return {str(group) for group in claim}
    if not isinstance(claim, str):
        return set()
    return {group for group in re.split(r"[\s,]+", claim.strip().strip("[]")) if group}
