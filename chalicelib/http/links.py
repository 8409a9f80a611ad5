"""The URIs the API writes into its answers (`Location`, a problem's `type`): paths from the
API's root as the request found it, so that a client resolving them as RFC 3986 says (RFC
9110 section 10.2.2) reaches this API's resource, however it reached the API.

The API's routes need not start at the host's root. Behind API Gateway's default URL the
stage comes first (`https://{id}.execute-api.{region}.amazonaws.com/api/users`), behind a
custom domain its base path mapping (`https://api.example.com/v1/users`, or nothing), and on
the local stack nothing (`http://127.0.0.1:8000/users`). A link written from the host's root
(`/operations/{id}`) loses the prefix and, behind `/api/`, answers 403. So the prefix is read
from the request: API Gateway's `requestContext.path` is the path the client sent, prefix
included, and `requestContext.resourcePath` the route it matched (`/operations/{operation_id}`).
With no greedy (`{proxy+}`) routes each segment of the route matched one segment of the path:
what comes before them is the API's root. (The event's top-level `path` cannot serve: it
drops the stage on the default URL but keeps a custom domain's base path.)

Why an absolute path (`/api/operations/{id}`) and not an absolute URI built from
`requestContext.domainName`: the host stays the one the client called, which may be a proxy
or CDN in front of API Gateway, and nothing depends on a Host header. Why not a relative
reference (`operations/{id}`): it resolves against the request's own path, so it would be
wrong for `/users/` and differ per route.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def api_root(request_context: Mapping[str, Any]) -> str:
    """The path of the API's root for this request: `` locally, `/api` on the default URL,
    a base path behind a custom domain. Never ends with a slash."""
    sent = str(request_context.get("path") or "").rstrip("/").split("/")
    route = str(request_context.get("resourcePath") or "").split("/")
    depth = len([segment for segment in route if segment])
    if len(sent) <= depth:
        return ""
    return "/".join(sent[: len(sent) - depth]).rstrip("/")
