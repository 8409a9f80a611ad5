"""The URIs in answers (Location, a problem's type) resolve, as a client resolves them (RFC
3986; RFC 9110 section 10.2.2 for Location), to this API's resources wherever the API is
served: behind API Gateway's stage prefix, a custom domain's base path, or at the root.

API Gateway's event for each: requestContext.path is the path the client sent, the stage or
base path included, and requestContext.resourcePath the route it matched
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html,
"Input format of a Lambda function for proxy integration"; the `path` a custom domain's
request carries: https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-mappings.html).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from chalice.config import Config
from chalice.local import LocalGateway

from app import app
from chalicelib.http.links import api_root
from chalicelib.http.problems import PROBLEM_TYPES
from tests.builders import a_request_body
from tests.conftest import STAGE

WHERE = {
    "API Gateway's default URL (the stage first)": (
        "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "/api",
    ),
    "a custom domain with a base path": ("https://users.example.com", "/v1"),
    "a custom domain with a two-level base path": ("https://example.com", "/users/v2"),
    "a custom domain without a base path": ("https://users.example.com", ""),
}


class Gateway:
    """API Gateway in front of the app, as far as paths go: a request to the URL's prefix and
    a route reaches the route, with requestContext.path the path as the client sent it."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._gateway = LocalGateway(app, Config(chalice_stage=STAGE))
        converter = self._gateway.event_converter
        create = converter.create_lambda_event

        def as_api_gateway(**request: Any) -> dict[str, Any]:
            event = create(**request)
            event["requestContext"]["path"] = prefix + event["requestContext"]["path"]
            return event

        converter.create_lambda_event = as_api_gateway  # type: ignore[method-assign,assignment]

    def request(
        self, method: str, url: str, body: bytes = b"", **headers: str
    ) -> tuple[int, dict[str, str], str]:
        path = urlsplit(url).path
        assert path.startswith(self.prefix), f"{url} is not below this API's {self.prefix}"
        answer = self._gateway.handle_request(
            method=method, path=path.removeprefix(self.prefix), headers=headers, body=body
        )
        body_text = answer["body"]
        text = body_text.decode() if isinstance(body_text, bytes) else body_text
        return answer["statusCode"], answer["headers"], text


@pytest.mark.parametrize(("origin", "prefix"), WHERE.values(), ids=list(WHERE))
def test_location_resolves_to_the_operation(shared_stack, origin, prefix):
    gateway = Gateway(prefix)
    url = f"{origin}{prefix}/users"
    body = json.dumps(a_request_body()).encode()
    status, headers, text = gateway.request(
        "POST", url, body, **{"content-type": "application/json"}
    )
    assert status == 202, text
    operation_id = json.loads(text)["id"]
    resolved = urljoin(url, headers["Location"])
    assert resolved == f"{origin}{prefix}/operations/{operation_id}"
    status, _, text = gateway.request("GET", resolved)
    assert (status, json.loads(text)["id"]) == (200, operation_id)


@pytest.mark.parametrize("where", WHERE.values(), ids=list(WHERE))
@pytest.mark.parametrize(
    "sent",
    [
        ("POST", "/users", b"{", "invalid-request"),
        ("GET", f"/operations/{'0' * 32}", b"", "not-found"),
        ("DELETE", "/users", b"", "method-not-allowed"),  # the 405 routes (edges.py)
    ],
    ids=["400", "404", "405"],
)
def test_a_problem_type_resolves_to_its_page(shared_stack, where, sent):
    (origin, prefix), (method, path, body, slug) = where, sent
    gateway = Gateway(prefix)
    url = f"{origin}{prefix}{path}"
    _, headers, text = gateway.request(method, url, body, **{"content-type": "application/json"})
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(text)
    resolved = urljoin(url, problem["type"])
    assert resolved == f"{origin}{prefix}/problems/{slug}"
    status, headers, page = gateway.request("GET", resolved)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert f"<h1>{problem['title']}</h1>" in page
    assert PROBLEM_TYPES[slug].title == problem["title"]


def test_every_problem_type_has_a_page_and_an_unknown_one_is_a_404_problem(shared_stack):
    client = shared_stack.client
    for slug, kind in PROBLEM_TYPES.items():
        response = client.http.get(f"/problems/{slug}")
        assert response.status_code == 200, slug
        assert f"HTTP status {kind.status}" in response.body.decode()
    unknown = client.http.get("/problems/no-such-type")
    assert unknown.status_code == 404
    assert json.loads(unknown.body)["type"] == "/problems/not-found"


@pytest.mark.parametrize(
    ("path", "route", "root"),
    [
        ("/api/users", "/users", "/api"),
        ("/api/users/", "/users", "/api"),  # a trailing slash
        ("/v1/operations/abc", "/operations/{operation_id}", "/v1"),
        ("/users/v2/reviews/abc", "/reviews/{operation_id}", "/users/v2"),
        ("/users", "/users", ""),  # the local stack, chalice local, a domain's root
        ("", "/users", ""),  # a context without the path
    ],
)
def test_the_api_root_is_what_comes_before_the_route(path, route, root):
    assert api_root({"path": path, "resourcePath": route}) == root
