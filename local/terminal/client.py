"""The terminal client: the demo and the executions view, over the running stack's HTTP API
and the console's JSON (/_local/api/)."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


def _call(
    url: str,
    body: dict[str, Any] | None = None,
    key: str | None = None,
    extra: dict[str, str] | None = None,
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **(extra or {})}
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _executions(api: str, operation_id: str | None = None) -> str:
    """The console's executions API: the listing, or one operation's execution."""
    listing = f"{api}/_local/api/executions"
    return f"{listing}/{urllib.parse.quote(operation_id, safe='')}" if operation_id else listing


def _unreachable(api: str) -> int:
    print(f"error: nothing answers at {api}; start the stack with `make run`")
    return 2


def demo(api: str) -> int:
    """Create a few users, one after another, and show each operation's journey."""
    tag = str(int(time.time()))
    ada = f"ada.{tag}@example.org"
    cases = [
        (ada, "Ada Lovelace", None, "approved"),
        (f"grace.{tag}@example.com", "Grace Hopper", None, "approved"),
        (f"eve.{tag}@example.test", "Eve", None, "rejected: reserved .test domain"),
        (f"mallory.{tag}@mailinator.com", "Mallory", None, "rejected: deny-listed domain"),
        (ada.upper(), "Ada again", None, "refused: email already registered"),
        (
            f"alan.{tag}@example.net",
            "Alan Turing",
            f"demo-{tag}",
            "sent twice, one Idempotency-Key",
        ),
    ]
    try:
        for email, name, key, expectation in cases:
            status, operation = _call(f"{api}/users", {"email": email, "name": name}, key)
            print(f"POST /users {email}  [{expectation}]")
            print(f"  → {status} {operation.get('id') or operation}")
            if key:
                _, again = _call(f"{api}/users", {"email": email, "name": name}, key)
                same = again.get("id") == operation.get("id")
                print(f"  → repeated: {'the same operation' if same else 'ANOTHER operation'}")
            if operation.get("id"):
                _follow(api, operation["id"])
        _review(api, f"lin.{tag}@review.example.org")
    except urllib.error.URLError:
        return _unreachable(api)
    return 0


def reviewer_credentials(api: str) -> dict[str, str] | None:
    """The Authorization header of the local reviewer, signed in as the reviewer page signs in
    (its settings, then Cognito's InitiateAuth with USER_PASSWORD_AUTH); {} where the stage
    asks reviewers for no sign-in; None without LOCAL_REVIEWER_PASSWORD."""
    _, settings = _call(f"{api}/review/settings.json")
    if settings.get("auth") != "cognito":
        return {}
    password = os.environ.get("LOCAL_REVIEWER_PASSWORD")
    if not password:
        return None
    status, answer = _call(
        settings["cognitoEndpoint"] + "/",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": settings["clientId"],
            "AuthParameters": {"USERNAME": "reviewer", "PASSWORD": password},
        },
        extra={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    if status != 200:
        print(f"  signing in as reviewer failed: {status} {answer.get('message')}")
        return None
    return {"Authorization": answer["AuthenticationResult"]["IdToken"]}


def _review(api: str, email: str) -> None:
    """A user the rules leave to a person: it waits until a reviewer approves it."""
    status, operation = _call(f"{api}/users", {"email": email, "name": "Lin"})
    print(f"POST /users {email}  [left to a person: REVIEW_EMAIL_DOMAINS]")
    print(f"  → {status} {operation.get('id') or operation}")
    operation_id = operation.get("id")
    if not operation_id:
        return
    started = time.monotonic()
    while operation.get("step") != "AWAITING_REVIEW" and time.monotonic() - started < 30:
        time.sleep(0.02)
        _, operation = _call(f"{api}/operations/{operation_id}")
    print(f"  {operation['status']}, step {operation.get('step')}, done {operation['done']}")
    reviewer = reviewer_credentials(api)
    if reviewer is None:
        print(f"  it waits for a reviewer at {api}/review/: set LOCAL_REVIEWER_PASSWORD (the")
        print("  password `make run` printed) to have the demo sign in as reviewer and approve it")
        return
    _, listing = _call(f"{api}/reviews", extra=reviewer)
    mine = [r for r in listing["reviews"] if r["operationId"] == operation_id]
    print(f"GET /reviews  → {len(listing['reviews'])} pending; this one:")
    for review in mine:
        print(f"  requested {review['requestedAt']}, expires {review['expiresAt']}")
    status, decided = _call(
        f"{api}/reviews/{operation_id}", {"decision": "approve"}, extra=reviewer
    )
    print(f"POST /reviews/{operation_id} approve  → {status} {decided}")
    status, again = _call(f"{api}/reviews/{operation_id}", {"decision": "reject"}, extra=reviewer)
    print(f"  a second decision → {status} {again.get('title')}")
    _follow(api, operation_id)


def _follow(api: str, operation_id: str) -> None:
    started = time.monotonic()
    last = ""
    operation: dict[str, Any] = {}
    while time.monotonic() - started < 30:
        _, operation = _call(f"{api}/operations/{operation_id}")
        if operation["status"] != last:
            last = operation["status"]
            print(f"  {(time.monotonic() - started) * 1000:6.0f} ms  {last}")
        if operation["done"]:
            break
        time.sleep(0.02)
    if operation.get("result"):
        print(f"  user {operation['result']['user']['id']}")
    elif operation.get("error"):
        print(f"  {operation['error']['code']}: {operation['error']['message']}")
    _, execution = _call(_executions(api, operation_id))
    _print_steps(execution or {})
    print()


def _print_steps(execution: dict[str, Any]) -> None:
    for step in execution.get("steps", []):
        retries = f", {step['retries']} retries" if step["retries"] else ""
        errors = f", errors: {[e['error'] for e in step['errors']]}" if step["errors"] else ""
        print(f"      {step['state']:<22} {step.get('durationMs') or 0:>5} ms{retries}{errors}")


def _outcome(outcome: dict[str, Any] | None) -> str:
    """The operation's status, with its error code when it failed (or its step while it waits)."""
    if not outcome:
        return "-"
    return " ".join(
        part for part in (outcome["status"], outcome["code"] or outcome["step"]) if part
    )


def executions(api: str, operation_id: str | None) -> int:
    try:
        if operation_id:
            status, execution = _call(_executions(api, operation_id))
            if status == 404:
                print(f"no execution for operation {operation_id}")
                return 1
            print(f"operation {operation_id}: {_outcome(execution.get('outcome'))}")
            print(f"execution {execution['status']}, started {execution['startDate']}")
            _print_steps(execution)
            return 0
        _, listing = _call(_executions(api))
    except urllib.error.URLError:
        return _unreachable(api)
    print(f"{'operation id':<38} {'operation':<34} {'execution':<10} {'ms':>6}  started")
    for execution in listing["executions"]:
        duration = execution["durationMs"] if execution["durationMs"] is not None else "-"
        print(
            f"{execution['operationId']:<38} {_outcome(execution.get('outcome')):<34} "
            f"{execution['status']:<10} {duration:>6}  {execution['startDate']}"
        )
    return 0
