"""A method a path lacks: 405 problem+json with Allow, from the app itself (so on AWS too)."""

from __future__ import annotations

import json

import pytest
from chalice import Chalice, IAMAuthorizer
from chalice.test import Client

from app import app
from chalicelib.http.edges import ALL_METHODS, METHOD_NOT_ALLOWED_VIEW, answer_other_methods

SERVED = {
    (path, method)
    for path, entries in app.routes.items()
    for method, entry in entries.items()
    if entry.view_name != METHOD_NOT_ALLOWED_VIEW
}
OTHER_METHODS = sorted(
    (path, method) for path in app.routes for method in ALL_METHODS if (path, method) not in SERVED
)


def _concrete(path: str) -> str:
    return path.replace("{operation_id}", "0" * 32).replace("{user_id}", "0" * 32)


@pytest.mark.parametrize(("path", "method"), OTHER_METHODS)
def test_a_method_the_path_lacks_gets_405_problem_json_with_allow(path, method):
    allowed = sorted(m for p, m in SERVED if p == path)
    with Client(app) as client:
        response = client.http.request(
            method, _concrete(path), headers={"content-type": "text/plain"}, body=b"x"
        )
    assert response.status_code == 405
    assert response.headers["Allow"] == ", ".join(allowed)
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(response.body)
    assert problem["status"] == 405
    assert problem["type"] == "/problems/method-not-allowed"
    assert problem["title"] == "Method not allowed"
    assert problem["detail"]


def test_every_path_answers_every_method():
    assert {method for entries in app.routes.values() for method in entries} == set(ALL_METHODS)
    assert all(set(entries) == set(ALL_METHODS) for entries in app.routes.values())
    assert SERVED  # the app's own routes are still there


def test_the_405_routes_keep_the_path_authorizer():
    signed = Chalice(app_name="signed")
    authorizer = IAMAuthorizer()

    @signed.route("/things", methods=["GET"], authorizer=authorizer)
    def things() -> dict:
        return {}

    answer_other_methods(signed)
    assert {entry.authorizer for entry in signed.routes["/things"].values()} == {authorizer}
    with pytest.raises(ValueError, match="already ran"):
        answer_other_methods(signed)


def test_a_path_whose_methods_disagree_on_authorization_is_refused():
    mixed = Chalice(app_name="mixed")

    @mixed.route("/things", methods=["GET"])
    def read() -> dict:
        return {}

    @mixed.route("/things", methods=["POST"], authorizer=IAMAuthorizer())
    def write() -> dict:
        return {}

    with pytest.raises(ValueError, match="different authorizers"):
        answer_other_methods(mixed)
