"""The local stack killed mid-load (SIGKILL) and started again on its saved tables.

What must hold: while the process lives, every accepted operation can be read back; after
the restart, every accepted operation is there and finishes (the ones in flight are
published again and run to the end), each with its own user and one new execution; a review
pending at the kill is asked for again and can be decided. A clean stop (SIGTERM, as a
service manager asks for one) keeps everything.
"""

from __future__ import annotations

import re
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from infra.definition import resource_name
from local.process.child import free_port
from tests.local_stack_process import LocalStackProcess, assert_stops_cleanly, wait_until

CLIENTS = 8


class Load:
    """Clients creating users with distinct emails until stopped; what was accepted, when."""

    def __init__(self, stack: LocalStackProcess) -> None:
        self.stack = stack
        self.accepted: dict[str, str] = {}  # operation id -> email
        self._next = iter(range(1_000_000))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._clients = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def start(self) -> None:
        for client in self._clients:
            client.start()

    def stop(self) -> None:
        self._stop.set()
        for client in self._clients:
            client.join()

    def _client(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                email = f"user{next(self._next)}@example.org"
            try:
                response = self.stack.create_user(email)
            except requests.RequestException:
                continue  # the stack went down: not accepted, and the client knows it
            if response.status_code == 202:
                with self._lock:
                    self.accepted[response.json()["id"]] = email


def _read(api: str, path: str) -> requests.Response:
    return requests.get(f"{api}{path}", timeout=5)


def test_a_killed_stack_restarts_on_its_saved_tables_and_finishes_what_it_accepted(tmp_path):
    """A review pending at the kill included: its operation's new execution asks for it again
    (a new token, the same request and deadline), and a reviewer of the new run decides it."""
    state = tmp_path / "state.json"
    api_port, aws_port = free_port(), free_port()
    first = LocalStackProcess(api_port, aws_port, "--state", str(state))
    first.wait_until_up()
    load = Load(first)
    try:
        reviewed = _awaiting_review(first)
        pending = _review_item(first, reviewed)
        assert pending is not None and pending["status"]["S"] == "PENDING"
        load.start()
        wait_until(lambda: len(load.accepted) >= 25, 60, "25 operations accepted")
        # Alive, nothing accepted is lost: each operation reads back.
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = pool.map(
                lambda id_: _read(first.api, f"/operations/{id_}"), list(load.accepted)
            )
            assert {answer.status_code for answer in answers} == {200}
        wait_until(lambda: len(load.accepted) >= 60, 60, "60 operations accepted")
    finally:
        first.process.kill()  # no clean stop: the journal has it all
        first.wait()
        load.stop()
    second = LocalStackProcess(api_port, aws_port, "--state", str(state))
    second.wait_until_up()
    try:
        banner = "".join(second.output)
        found = re.search(r"(\d+) in-flight operations published again", banner)
        assert found, banner
        republished = int(found.group(1))
        assert republished > 1, banner  # the review's operation, and some of the load's
        for operation_id, email in load.accepted.items():
            done = second.wait_done(operation_id, timeout=60)
            assert done["status"] == "SUCCEEDED", done
            user = _read(second.api, f"/users/{done['result']['user']['id']}").json()
            assert user["email"] == email
        _decided_after_the_restart(second, reviewed, pending)
        sfn = second.aws("stepfunctions")
        (machine,) = sfn.list_state_machines()["stateMachines"]
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=machine["stateMachineArn"]
        )
        started_again = [execution["name"] for page in pages for execution in page["executions"]]
        assert len(started_again) == len(set(started_again)) == republished
        print(f"accepted {len(load.accepted)}, all finished; published again {republished}")
    finally:
        code, output = second.stop()
    assert code == 0, output


def test_a_stopped_stack_keeps_everything(tmp_path):
    state = tmp_path / "state.json"
    first = LocalStackProcess(free_port(), free_port(), "--state", str(state))
    first.wait_until_up()
    try:
        done = first.wait_done(first.create_user("kept@example.org", key="k-kept").json()["id"])
        pending = first.create_user("pending@example.org").json()["id"]
        rival = LocalStackProcess(free_port(), free_port(), "--state", str(state))
        code, output = rival.wait()
        assert code == 2 and "in use by another stack" in output, output
    except BaseException:
        first.stop()
        raise
    assert_stops_cleanly(first, signal.SIGTERM)

    second = LocalStackProcess(free_port(), free_port(), "--state", str(state))
    second.wait_until_up()
    try:
        assert _read(second.api, f"/operations/{done['id']}").json() == done
        user = _read(second.api, f"/users/{done['result']['user']['id']}").json()
        assert user["email"] == "kept@example.org"
        # The idempotency key and the email claim came back too.
        again = second.create_user("kept@example.org", key="k-kept").json()
        assert again["id"] == done["id"]
        duplicate = second.create_user("KEPT@example.org").json()["id"]
        assert second.wait_done(duplicate)["error"]["code"] == "EMAIL_ALREADY_REGISTERED"
        assert second.wait_done(pending)["status"] == "SUCCEEDED"
    finally:
        code, output = second.stop()
    assert code == 0, output


def _review_item(stack: LocalStackProcess, operation_id: str) -> dict | None:
    return (
        stack.aws("dynamodb")
        .get_item(
            TableName=resource_name("local", "reviews"),
            Key={"pk": {"S": operation_id}},
            ConsistentRead=True,
        )
        .get("Item")
    )


def _awaiting_review(stack: LocalStackProcess) -> str:
    """A sign-up the workflow puts before a reviewer, once its review is pending."""
    operation_id = stack.create_user("ada@review.example.org").json()["id"]
    wait_until(
        lambda: (
            _read(stack.api, f"/operations/{operation_id}").json().get("step") == "AWAITING_REVIEW"
        ),
        60,
        "the review awaited",
    )
    return operation_id


def _decided_after_the_restart(
    stack: LocalStackProcess, operation_id: str, before: dict[str, Any]
) -> None:
    """The operation's new execution asked for the review again, and a reviewer of the new
    run (the reviewers' pool is the new run's: its reviewer signs in afresh) decides it."""
    wait_until(
        lambda: (
            (item := _review_item(stack, operation_id)) is not None
            and item["taskToken"] != before["taskToken"]
        ),
        60,
        "the review asked for again",
    )
    after = _review_item(stack, operation_id)
    assert after is not None
    assert after["requestedAt"] == before["requestedAt"]
    assert after["expiresAt"] == before["expiresAt"]
    assert after["status"]["S"] == "PENDING"
    listed = requests.get(f"{stack.api}/reviews", headers=stack.reviewer(), timeout=5)
    (review,) = listed.json()["reviews"]
    assert review["operationId"] == operation_id
    assert review["requestedAt"] == before["requestedAt"]["S"]
    decided = stack.decide(operation_id, {"decision": "approve"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["decidedBy"] == "reviewer"
    done = stack.wait_done(operation_id)
    assert done["status"] == "SUCCEEDED", done
    assert done["result"]["user"]["status"] == "ACTIVE"
