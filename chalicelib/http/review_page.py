"""The reviewer page, served by the API at /review/ on every stage: a few static files shipped
with the app (chalicelib/review_page/), and its settings as JSON.

The page signs a reviewer in against Cognito's public API from the browser, keeps the ID token
in the tab (sessionStorage, never a URL), and calls GET /reviews and POST /reviews/{id} with
it. Its Content-Security-Policy lets it load nothing from elsewhere and talk to this API and
to the Cognito endpoint only.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalice import Response

from chalicelib.config import ReviewerSignIn, reviewer_sign_in
from chalicelib.http.problems import not_found

PAGE = Path(__file__).resolve().parent.parent / "review_page"
SETTINGS = "settings.json"
_ASSETS = {
    "review.js": "text/javascript; charset=utf-8",
    "review.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
# The page's own path as the request came (behind API Gateway: with its stage, /api/review):
# only plain segments, so that it can be the page's <base href> and nothing else.
_PAGE_PATH = re.compile(r"(?:/[A-Za-z0-9._~-]+)*/review")


@functools.cache
def _file(name: str) -> bytes:
    return (PAGE / name).read_bytes()


def content_security_policy(sign_in: ReviewerSignIn) -> str:
    """Nothing from elsewhere; requests to this API and, to sign in, Cognito's endpoint."""
    connect = ["'self'"]
    if sign_in.auth == "cognito":
        parts = urlsplit(sign_in.endpoint)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {' '.join(connect)}; base-uri 'self'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _headers(content_type: str, sign_in: ReviewerSignIn) -> dict[str, str | list[str]]:
    return {
        "Content-Type": content_type,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": content_security_policy(sign_in),
    }


def index(context: dict[str, Any], service: str) -> Response:
    """index.html, titled with the service's name, its relative links resolved against the
    page's own path (/review/ locally, /api/review/ behind API Gateway's stage), whether or not
    the request ended in a slash."""
    requested = str(context.get("path") or "").rstrip("/")
    base = requested + "/" if _PAGE_PATH.fullmatch(requested) else "/review/"
    body = (
        _file("index.html")
        .decode()
        .replace("{{base}}", html.escape(base, quote=True))
        .replace("{{service}}", html.escape(service))
    )
    return Response(
        body=body, status_code=200, headers=_headers("text/html; charset=utf-8", reviewer_sign_in())
    )


def asset(name: str) -> Response:
    sign_in = reviewer_sign_in()
    if name == SETTINGS:
        return Response(
            body=json.dumps(settings_document(sign_in)),
            status_code=200,
            headers=_headers("application/json", sign_in),
        )
    content_type = _ASSETS.get(name)
    if content_type is None:
        raise not_found("file of the reviewer page")
    return Response(
        body=_file(name).decode(), status_code=200, headers=_headers(content_type, sign_in)
    )


def settings_document(sign_in: ReviewerSignIn) -> dict[str, Any]:
    """What the page reads first: how reviewers sign in on this stage, and where."""
    document: dict[str, Any] = {"auth": sign_in.auth}
    if sign_in.auth == "cognito":
        document.update(
            {
                "region": sign_in.region,
                "userPoolId": sign_in.pool_id,
                "clientId": sign_in.client_id,
                "cognitoEndpoint": sign_in.endpoint,
            }
        )
    return document
