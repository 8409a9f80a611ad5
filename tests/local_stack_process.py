"""The local stack (`python -m local run`) in a subprocess on free ports, for tests: the
`local_stack` fixture's (tests/conftest.py), and helpers to drive it and wait for it."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import requests

from infra.definition import reviewer_pool_name
from local.process.child import ChildStack, free_port
from tests.builders import a_request_body

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None], timeout: float = 10, what: str = "condition"
) -> T:
    """Polls `condition` until it returns something truthy, and returns that: a wait for a
    state, not for a time. Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(0.02)
    return value


@contextlib.contextmanager
def running(*options: str) -> Iterator[LocalStackProcess]:
    """The local stack on free ports for the block, stopped after it (Ctrl-C), cleanly."""
    # Every request traced: the tests look for the trace of each operation they make.
    stack = LocalStackProcess(free_port(), free_port(), "--trace-all", *options)
    stack.wait_until_up()
    yield stack
    assert_stops_cleanly(stack, signal.SIGINT)


def assert_stops_cleanly(stack: LocalStackProcess, signum: signal.Signals) -> None:
    """Stops the stack with the signal: it exits 0, says it stopped, and prints no traceback."""
    before = len(stack.output)
    code, output = stack.stop(signum)
    on_stopping = "".join(stack.output[before:])
    assert code == 0, output
    assert "stopped" in on_stopping and "Traceback" not in on_stopping, on_stopping


class LocalStackProcess(ChildStack):
    """The child stack, with what the tests ask of it over HTTP and its AWS endpoint."""

    def create_user(self, email: str, key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return requests.post(
            f"{self.api}/users", json=a_request_body(email=email), headers=headers, timeout=5
        )

    def wait_done(self, operation_id: str, timeout: float = 10) -> dict:
        def done() -> dict | None:
            response = requests.get(f"{self.api}/operations/{operation_id}", timeout=5)
            assert response.status_code == 200, (operation_id, response.status_code)
            operation = response.json()
            return operation if operation.get("done") else None

        return wait_until(done, timeout, f"operation {operation_id} done")

    def wait_ended(self, operation_id: str, timeout: float = 10) -> dict:
        """The operation's execution as the console lists it, once it is over: a step may
        follow the one that records the operation's outcome, so done is not yet ended."""

        def ended() -> dict | None:
            listing = requests.get(f"{self.api}/_local/api/executions", timeout=5).json()
            listed = [e for e in listing["executions"] if e["operationId"] == operation_id]
            assert len(listed) <= 1, listed  # one execution per operation
            return listed[0] if listed and listed[0]["status"] != "RUNNING" else None

        return wait_until(ended, timeout, f"the execution of {operation_id} to end")

    def reviewers_pool(self) -> str:
        """The reviewers' pool, found as scripts find it: ListUserPools, by its name."""
        pools = self.aws("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
        (pool,) = [p for p in pools if p["Name"] == reviewer_pool_name("local")]
        return str(pool["Id"])

    def reviewer_token(self, username: str = "reviewer", password: str | None = None) -> str:
        """Signs in as the local stack's scripts do: the pool and its page's client found with
        ListUserPools / ListUserPoolClients, then InitiateAuth (USER_PASSWORD_AUTH) on the
        AWS endpoint; the IdToken, what the reviewers' routes take as Authorization."""
        cognito = self.aws("cognito-idp")
        (client,) = cognito.list_user_pool_clients(UserPoolId=self.reviewers_pool(), MaxResults=60)[
            "UserPoolClients"
        ]
        signed_in = cognito.initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password or self.reviewer_password},
        )
        return str(signed_in["AuthenticationResult"]["IdToken"])

    def reviewer(self) -> dict[str, str]:
        """The local reviewer's Authorization header."""
        return {"Authorization": self.reviewer_token()}

    def add_user(self, username: str, *, reviewer: bool, temporary: str | None = None) -> None:
        """A user of the reviewers' pool (in its group or not), with the local reviewer's
        password, or a temporary one to change at the first sign-in."""
        cognito, pool = self.aws("cognito-idp"), self.reviewers_pool()
        password = {"TemporaryPassword": temporary} if temporary else {}
        cognito.admin_create_user(
            UserPoolId=pool, Username=username, MessageAction="SUPPRESS", **password
        )
        if not temporary:
            cognito.admin_set_user_password(
                UserPoolId=pool, Username=username, Password=self.reviewer_password, Permanent=True
            )
        if reviewer:
            cognito.admin_add_user_to_group(
                UserPoolId=pool, Username=username, GroupName="reviewers"
            )

    def decide(
        self, operation_id: str, decision: dict[str, str], token: str | None = None
    ) -> requests.Response:
        """POST /reviews/{operation_id}, as the local reviewer or with the token given."""
        return requests.post(
            f"{self.api}/reviews/{operation_id}",
            json=decision,
            headers={"Authorization": token or self.reviewer_token()},
            timeout=5,
        )

    def aws(self, service: str) -> Any:
        """A client of the stack's AWS endpoint for any service."""
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
