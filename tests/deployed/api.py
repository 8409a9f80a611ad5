"""The HTTP API's calls by name, for the black-box suite: plain HTTP (requests) against any
running system, and nothing else of the project's code: what a client outside sees.

URLs the API answers with (`Location`) are resolved as a client resolves them (RFC 3986,
against the request's URL), so the suite is right behind any base path.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin

import requests

JSON = {"Content-Type": "application/json"}
DONE_WITHIN_SECONDS = 60.0  # a deployed stage's cold starts included
REVIEW_WITHIN_SECONDS = 60.0


def unique_email(domain: str = "example.org") -> str:
    """An address no other run uses: the suite runs against shared stages."""
    return f"blackbox-{uuid.uuid4().hex[:16]}@{domain}"


# Adds the reviewer's credentials to a request (a prepared request, signed or given a token).
Authorise = Callable[[requests.PreparedRequest], requests.PreparedRequest]


@dataclasses.dataclass
class Api:
    base: str  # the API's root URL, ending in "/" (e.g. https://x.execute-api.../api/)
    authorise_client: Authorise | None = None  # every request, where the API takes IAM
    authorise_reviewer: Authorise | None = None  # the reviewers' routes
    session: requests.Session = dataclasses.field(default_factory=requests.Session)
    timeout: float = 30.0

    def url(self, path: str) -> str:
        """A path of the API (without a leading slash) under its root."""
        return urljoin(self.base, path.lstrip("/"))

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        reviewer: bool = False,
    ) -> requests.Response:
        request = requests.Request(method, self.url(path), data=body, headers=dict(headers or {}))
        prepared = self.session.prepare_request(request)
        authorise = self.authorise_reviewer if reviewer else self.authorise_client
        if authorise is not None:
            prepared = authorise(prepared)
        return self.session.send(prepared, timeout=self.timeout)

    # POST /users, GET /operations/{id}, GET /users/{id}

    def create_user(
        self, email: str, name: str = "Ada Blackbox", key: str | None = None
    ) -> requests.Response:
        headers = {**JSON, **({"Idempotency-Key": key} if key else {})}
        return self.send(
            "POST", "users", body=json.dumps({"email": email, "name": name}), headers=headers
        )

    def follow(self, response: requests.Response) -> requests.Response:
        """GET what a 202's Location names, resolved against the request's URL."""
        location = urljoin(response.url, response.headers["Location"])
        assert location.startswith(self.base), f"{location} is outside the API at {self.base}"
        return self.send("GET", location[len(self.base) :])

    def operation(self, operation_id: str) -> requests.Response:
        return self.send("GET", f"operations/{operation_id}")

    def user(self, user_id: str) -> requests.Response:
        return self.send("GET", f"users/{user_id}")

    def wait_until(
        self,
        operation_id: str,
        condition: Callable[[dict[str, Any]], bool],
        within: float = DONE_WITHIN_SECONDS,
    ) -> dict[str, Any]:
        """Polls the operation, as a client does, honouring Retry-After (capped at 1 s)."""
        deadline = time.monotonic() + within
        while True:
            response = self.operation(operation_id)
            assert response.status_code == 200, response.text
            operation: dict[str, Any] = response.json()
            if condition(operation):
                return operation
            if time.monotonic() > deadline:
                raise AssertionError(f"operation {operation_id} is still {operation}")
            time.sleep(min(1.0, float(response.headers.get("Retry-After", "1")), 0.2))

    def done(self, operation_id: str) -> dict[str, Any]:
        return self.wait_until(operation_id, lambda operation: operation["done"])

    # GET /reviews, POST /reviews/{operationId}

    def reviews(self, query: str = "") -> requests.Response:
        return self.send("GET", f"reviews{query}", reviewer=True)

    def decide(
        self, operation_id: str, decision: str, reason: str | None = None
    ) -> requests.Response:
        document = {"decision": decision, **({"reason": reason} if reason else {})}
        return self.send(
            "POST",
            f"reviews/{operation_id}",
            body=json.dumps(document),
            headers=JSON,
            reviewer=True,
        )

    def pending_review(self, operation_id: str) -> dict[str, Any]:
        """The operation's review once it is listed (every page is read)."""
        deadline = time.monotonic() + REVIEW_WITHIN_SECONDS
        while True:
            query = ""
            while True:
                response = self.reviews(query)
                assert response.status_code == 200, response.text
                page = response.json()
                for review in page["reviews"]:
                    if review["operationId"] == operation_id:
                        return dict(review)
                if "nextToken" not in page:
                    break
                query = f"?nextToken={page['nextToken']}"
            if time.monotonic() > deadline:
                raise AssertionError(f"no pending review for {operation_id}")
            time.sleep(0.2)
