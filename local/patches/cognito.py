"""Cognito's user pools as AWS keeps them: each pool signs its tokens with a key of its own and
serves that key's public half at /<pool id>/.well-known/jwks.json; moto signs every pool's
tokens with one key shipped in its package (so a token of one pool verified against another's
keys, and anyone could sign one). The pools' tokens are issued on the emulator's clock, which
the local gateway checks their expiry against (local/aws/cognito.py)."""

from __future__ import annotations

import functools
import json
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from joserfc.jwk import RSAKey

from local.aws.cognito import ALGORITHM, KEY_ID, public_key_set
from local.patches.clock import ClockTime
from local.patches.hooks import Hooks

JWKS_PATH = "{0}/(?P<user_pool_id>[^/]+)/.well-known/jwks.json$"
KEY_BITS = 2048
SHIPPED_KEY = "cognitoidp/resources/jwks-private.json"  # moto's, for every pool


def pool_keys(original: Any, hooks: Hooks, name: str) -> Any:
    """Replaces CognitoIdpUserPool.__init__, moto.cognitoidp.models' jwk and
    moto.cognitoidp.urls.url_paths."""
    if name == "url_paths":
        return _pool_key_sets(original)
    if name == "jwk":
        return _ShippedKeyNotImported(original)
    return _own_signing_key(original)


def _own_signing_key(original: Any) -> Any:
    """CognitoIdpUserPool.__init__: the pool gets a new RSA key (~0.1 s to make)."""

    def __init__(self: Any, account_id: str, region: str, name: str, extended_config: Any) -> None:
        original(self, account_id, region, name, extended_config)
        self.json_web_key = RSAKey.generate_key(
            KEY_BITS, parameters={"kid": KEY_ID, "alg": ALGORITHM, "use": "sig"}
        )

    return __init__


@functools.cache
def _shipped_key() -> dict[str, Any]:
    from moto.utilities.utils import load_resource

    return dict(load_resource(SHIPPED_KEY))


class _ShippedKeyNotImported:
    """moto.cognitoidp.models' `jwk` (joserfc.jwk) as it is, but for RSAKey.import_key of the
    key moto ships: the pool's __init__ imports it only for _own_signing_key to replace it at
    once, and the import costs 0.1-0.7 s of CPU (its primes are recovered from n, e and d),
    most of a local stack's provisioning. It is not imported: the pool holds None until its
    own key is set. Any other key is imported as by joserfc."""

    def __init__(self, jwk: ModuleType) -> None:
        self._jwk = jwk
        self.RSAKey = _NotTheShippedKey(jwk.RSAKey)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._jwk, name)


class _NotTheShippedKey:
    def __init__(self, rsa_key: Any) -> None:
        self._rsa_key = rsa_key

    def import_key(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if value == _shipped_key():
            return None
        return self._rsa_key.import_key(value, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rsa_key, name)


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
