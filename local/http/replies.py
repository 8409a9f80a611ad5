"""Answers of the local HTTP front and the console, written to a request handler of Python's
http.server: JSON, static files, and problems in the app's own problem+json shape
(chalicelib/http/problems.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from chalicelib.http.problems import PROBLEM_CONTENT_TYPE, Problem, bad_request
from infra import gateway


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""


def problem(answer: Problem, instance: str | None = None) -> Reply:
    response = answer.to_response(instance)
    headers = {name: str(value) for name, value in response.headers.items()}
    return Reply(response.status_code, headers, response.body.encode())


def unknown_path(path: str, stage: str) -> Reply:
    """What API Gateway answers for a path it does not have (infra/gateway.py): the API's
    unknown paths, and the console's."""
    answer = gateway.answer("MISSING_AUTHENTICATION_TOKEN", stage)
    body = json.dumps(answer.body(f"nothing is served at {path}")).encode()
    return Reply(answer.status, {"Content-Type": PROBLEM_CONTENT_TYPE}, body)


def content(body: bytes, content_type: str) -> Reply:
    """A 200 with an ETag, so that a poller's next request can cost a 304 and no body."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Reply(200, {"Content-Type": content_type, "ETag": etag}, body)


def json_content(document: Any) -> Reply:
    return content(json.dumps(document, default=str).encode(), "application/json")


def read_body(request: Any) -> Reply | None:
    """Reads (and drops) a request's body before it is answered without it, so that the next
    request on a kept-alive connection starts where this one ends. A Content-Length that is
    not a number leaves the body's end unknown: the answer is a 400, and the connection
    closes after it."""
    declared = request.headers.get("Content-Length") or "0"
    if not declared.isdigit():
        request.close_connection = True
        return problem(bad_request("Content-Length is not a number"), request.path)
    if int(declared):
        request.rfile.read(int(declared))
    return None


def send(request: Any, reply: Reply, extra_headers: dict[str, str] | None = None) -> None:
    """Writes the reply to an http.server.BaseHTTPRequestHandler (no body for HEAD or 304)."""
    request.send_response(reply.status)
    for name, value in {**(extra_headers or {}), **reply.headers}.items():
        request.send_header(name, value)
    if reply.status != 304:
        request.send_header("Content-Length", str(len(reply.body)))
    request.end_headers()
    if request.command != "HEAD" and reply.status != 304:
        request.wfile.write(reply.body)
