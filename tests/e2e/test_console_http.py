"""The local console over HTTP, served by `make run`'s stack (a subprocess on free ports)."""

from __future__ import annotations

import socket

import pytest
import requests

from infra.definition import (
    app_name,
    resource_name,
    starter_failure_queue_name,
    workflow_definition,
)
from tests.builders import unique_email
from tests.local_stack_process import LocalStackProcess, wait_until

PROBLEM = "application/problem+json"


def _get(stack: LocalStackProcess, path: str, **kwargs) -> requests.Response:
    return requests.get(f"{stack.api}{path}", timeout=10, **kwargs)


def test_the_banner_gives_the_console_address(local_stack):
    assert f"console           {local_stack.api}/_local/" in "".join(local_stack.output)


@pytest.mark.parametrize("path", ["/_local/", "/_local"])
def test_the_page_is_served_with_nothing_from_elsewhere(local_stack, path):
    page = _get(local_stack, path)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "/_local/static/app.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    assert f"<title>{app_name()} · local console</title>" in page.text


def test_the_scripts_and_the_vendored_layout_library_are_served(local_stack):
    for name in ("app.js", "graph.js", "execution.js", "util.js", "vendor/dagre.esm.js"):
        script = _get(local_stack, f"/_local/static/{name}")
        assert script.status_code == 200, name
        assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert (
        _get(local_stack, "/_local/static/console.css")
        .headers["Content-Type"]
        .startswith("text/css")
    )


@pytest.mark.parametrize(
    "path",
    [
        "/_local/nothing",
        "/_local/api/nothing",
        "/_local/static/missing.js",
        "/_local/static/%2e%2e/http.py",  # nothing outside the static folder
        "/_local/static/..%2f..%2fserver.py",
        "/_local/api/executions/not-an-operation",
        "/_local/api/executions/" + "a" * 300,  # longer than an execution ARN may be
    ],
)
def test_an_unknown_path_is_a_404_problem(local_stack, path):
    answer = _get(local_stack, path)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == 404 and problem["title"] == "Not found"
    assert problem["type"] and problem["detail"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_another_method_is_a_405_problem_with_allow(local_stack, method):
    answer = requests.request(
        method, f"{local_stack.api}/_local/api/executions", data="{}", timeout=10
    )
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, HEAD"
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.json()["status"] == 405
    # The connection stays usable: the request body was read.
    assert _get(local_stack, "/_local/api/about").status_code == 200


@pytest.mark.parametrize(
    "query", ["status=DONE", "limit=0", "limit=many", "limit=1001", "status=FAILED&status=RUNNING"]
)
def test_a_bad_query_is_a_400_problem(local_stack, query):
    answer = _get(local_stack, f"/_local/api/executions?{query}")
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.json()["detail"]


def test_executions_are_listed_and_polling_an_unchanged_list_costs_a_304(local_stack):
    email = unique_email()
    accepted = local_stack.create_user(email).json()
    local_stack.wait_ended(accepted["id"])
    listing = _get(local_stack, "/_local/api/executions")
    assert listing.status_code == 200
    (execution,) = [e for e in listing.json()["executions"] if e["operationId"] == accepted["id"]]
    assert execution["status"] == "SUCCEEDED" and execution["email"] == email
    seen = {"etag": listing.headers["ETag"], "list": listing.json()}

    def unchanged() -> requests.Response | None:
        """The stack is shared: another module's execution may change the list between two
        polls, and then the answer is the new list, under a new ETag."""
        again = _get(local_stack, "/_local/api/executions", headers={"If-None-Match": seen["etag"]})
        if again.status_code == 304:
            return again
        assert again.status_code == 200, again.text
        assert again.headers["ETag"] != seen["etag"] and again.json() != seen["list"]
        seen.update(etag=again.headers["ETag"], list=again.json())
        return None

    again = wait_until(unchanged, 10, "a poll of an unchanged list")
    assert again.content == b""
    head = requests.head(f"{local_stack.api}/_local/api/executions", timeout=10)
    assert head.status_code == 200 and head.content == b""

    detail = _get(local_stack, f"/_local/api/executions/{accepted['id']}").json()
    assert detail["status"] == "SUCCEEDED"
    states = workflow_definition()["States"]
    assert {n["id"] for n in detail["graph"]["nodes"]} == {*states, "__start__", "__end__"}
    assert {n["id"]: n["status"] for n in detail["graph"]["nodes"]}["__end__"] == "succeeded"
    assert detail["links"]["operation"] == f"/operations/{accepted['id']}"
    assert _get(local_stack, detail["links"]["user"]).status_code == 200


def test_the_system_and_about_answer(local_stack):
    system = _get(local_stack, "/_local/api/system").json()
    assert system["stream"]["name"] == resource_name("local", "events")
    assert system["queue"]["arn"].endswith(":" + starter_failure_queue_name("local"))
    assert {t["name"] for t in system["tables"]} >= {resource_name("local", "operations")}
    about = _get(local_stack, "/_local/api/about").json()
    assert about["stage"] == "local"
    # The reviews panel is offered exactly when the app has the reviewers' route.
    from app import app

    assert about["reviews"] is ("GET" in app.routes.get("/reviews", {}))
    assert about["reviewerPage"] == "/review/"
    # What the review topic sent, read like an inbox.
    notifications = _get(local_stack, "/_local/api/notifications").json()
    assert notifications["topicArn"].endswith(":" + resource_name("local", "review-requests"))
    assert isinstance(notifications["messages"], list)


def test_a_malformed_content_length_is_a_400_problem(local_stack):
    host, port = local_stack.api.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /_local/api/about HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n"
        )
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"Content-Type: application/problem+json" in head
    assert b"Content-Length is not a number" in body
