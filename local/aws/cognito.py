"""What API Gateway's Cognito user pool authorizer checks before a reviewers' route runs, which
the local stack's gateway does too (local/http/authorizer.py); and the user pools' signing
keys, as moto's Cognito keeps them.

A token passes when it is a JWS signed with RS256 (and nothing else: `alg: none` and HMAC are
refused) by a key of the pool's own key set, its issuer is the pool, it is an ID token, its
audience is the page's app client (the stack's authorizer matches `aud` against it:
infra/template.py) and it has not expired on the emulator's clock, on which the emulated
Cognito issues its tokens too (local/patches/cognito.py). A token that fails any of it gets
API Gateway's answer, 401 Unauthorized (https://repost.aws/knowledge-center/
api-gateway-cognito-401-unauthorized: an expired token, an issuer other than the authorizer's
pool, a token that is not valid); which check failed is logged, as API Gateway says nothing
more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization, RSAKey
from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends
from moto.core import DEFAULT_ACCOUNT_ID

from local.aws.provision import ReviewerPool

ALGORITHM = "RS256"  # what Cognito signs with, and all that API Gateway takes
# The kid moto writes into every token's header (its create_jwt); each pool's key bears it.
KEY_ID = "dummy"


class InvalidToken(Exception):
    """Why a token is refused (logged; the caller gets API Gateway's 401)."""


def moto_pool(pool_id: str) -> CognitoIdpUserPool | None:
    """The pool as moto's Cognito keeps it in this process (its region is its id's prefix)."""
    region = pool_id.partition("_")[0]
    backend = cognitoidp_backends[DEFAULT_ACCOUNT_ID][region]
    return backend.user_pools.get(pool_id)


def public_key_set(pool_id: str) -> KeySetSerialization | None:
    """The pool's JSON Web Key Set (what AWS serves at /<pool id>/.well-known/jwks.json)."""
    pool = moto_pool(pool_id)
    if pool is None:
        return None
    key: RSAKey = pool.json_web_key
    return {"keys": [key.as_dict(private=False)]}


class TokenVerifier:
    """One pool's tokens, checked as API Gateway's Cognito authorizer checks them."""

    def __init__(
        self,
        pool: ReviewerPool,
        now: Callable[[], float],
        keys: Callable[[str], KeySetSerialization | None] = public_key_set,
    ) -> None:
        self.pool = pool
        self._now = now
        self._keys = keys

    def claims(self, token: str | None) -> dict[str, Any]:
        """The token's claims; InvalidToken when it is missing or fails a check."""
        if not token:
            raise InvalidToken("no token in the Authorization header")
        found = self._keys(self.pool.pool_id)
        if found is None:
            raise InvalidToken(f"no user pool {self.pool.pool_id}")
        try:
            # Only RS256: a token that says `alg: none`, or HS256, is refused here.
            decoded = jwt.decode(token, KeySet.import_key_set(found), algorithms=[ALGORITHM])
        except (JoseError, ValueError) as error:
            raise InvalidToken(f"not an RS256 JWS the pool's keys verify: {error}") from None
        claims: dict[str, Any] = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._now()),
            iss={"essential": True, "value": self.pool.issuer},
            aud={"essential": True, "value": self.pool.client_id},
            token_use={"essential": True, "value": "id"},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise InvalidToken(f"the claims are not the pool's page's: {error}") from None
        return claims
