"""Cognito's user pools as AWS keeps them: each pool signs its tokens with a key of its own and
serves that key's public half at /<pool id>/.well-known/jwks.json; moto signs every pool's
tokens with one key shipped in its package (so a token of one pool verified against another's
keys, and anyone could sign one). The pools' tokens are issued on the emulator's clock, which
the local gateway checks their expiry against (local/aws/cognito.py)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from joserfc.jwk import RSAKey

from local.aws.cognito import ALGORITHM, KEY_ID, public_key_set
from local.patches.clock import ClockTime
from local.patches.hooks import Hooks

JWKS_PATH = "{0}/(?P<user_pool_id>[^/]+)/.well-known/jwks.json$"
KEY_BITS = 2048


def pool_keys(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces CognitoIdpUserPool.__init__ and moto.cognitoidp.urls.url_paths."""
    if name == "url_paths":
        return _pool_key_sets(original)
    return _own_signing_key(original)


def _own_signing_key(original: Any) -> Any:
    """CognitoIdpUserPool.__init__: the pool gets a new RSA key (~0.1 s to make)."""

    def __init__(self: Any, account_id: str, region: str, name: str, extended_config: Any) -> None:
        original(self, account_id, region, name, extended_config)
        self.json_web_key = RSAKey.generate_key(
            KEY_BITS, parameters={"kid": KEY_ID, "alg": ALGORITHM, "use": "sig"}
        )

    return __init__


def _pool_key_sets(original: dict[str, Any]) -> dict[str, Any]:
    """moto.cognitoidp.urls.url_paths (read when moto builds its routes): the JWKS route
    answers the pool's own public key, or 404 for a pool that does not exist."""

    def serve_json_web_key(*args: Any) -> tuple[int, dict[str, str], str]:
        pool_id = urlsplit(args[1]).path.strip("/").split("/")[0]
        found = public_key_set(pool_id)
        if found is None:
            missing = {
                "__type": "ResourceNotFoundException",
                "message": f"User pool {pool_id} does not exist.",
            }
            return 404, {"Content-Type": "application/json"}, json.dumps(missing)
        return 200, {"Content-Type": "application/json"}, json.dumps(found)

    return {**original, JWKS_PATH: serve_json_web_key}


def token_clock(original: Any, hooks: Hooks, name: str) -> ClockTime:
    """Replaces the `time` module of moto's Cognito models: tokens' iat and exp."""
    return ClockTime(hooks.clock)
