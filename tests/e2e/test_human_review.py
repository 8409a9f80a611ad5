"""Human review end to end: POST → the real ASL in moto → a callback task that waits for a
person → GET /reviews, POST /reviews/{id} → the recorded outcome. Time is the emulator's: a
day-long review timeout fires when a test advances the clock."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from chalice import Chalice
from chalice.local import LocalChalice

from benchmarks.model import REVIEW_EXTRA
from chalicelib.adapters import logs
from chalicelib.adapters.reviews_table import ReviewsTable
from chalicelib.adapters.workflows import StepFunctionsCallbacks
from local.console.data import Executions
from local.console.logbook import LogBook
from tests.builders import unique_email
from tests.executions import history, states_entered
from tests.helpers import (
    REVIEWED,
    awaiting_review,
    body,
    decide,
    executions,
    fail_calls,
    finished,
    operation,
    post_user,
    put_again,
    review_timeout,
    table_items,
    until,
)
from tests.workflow_paths import broken_at, reviewed

pytestmark = pytest.mark.e2e

WITH_REVIEW = reviewed()
REVIEWED_DOMAIN = REVIEWED.partition("@")[2]


def pending(stack, query: str = "") -> dict:
    response = stack.client.http.get(f"/reviews{query}")
    assert response.status_code == 200, response.body
    return body(response)


def review_items() -> list[dict]:
    return table_items("REVIEWS_TABLE")


def user_status(stack, waiting: dict) -> str:
    user_id = review_of(stack, waiting["id"])["userId"]
    return body(stack.client.http.get(f"/users/{user_id}"))["status"]


def review_of(stack, operation_id: str) -> dict:
    (found,) = [r for r in pending(stack)["reviews"] if r["operationId"] == operation_id] or [
        {"userId": _stored_review(operation_id)["userId"]["S"]}
    ]
    return found


def _stored_review(operation_id: str) -> dict:
    (item,) = [i for i in review_items() if i["pk"]["S"] == operation_id]
    return item


def test_a_reviewer_approves_and_the_user_is_created(stack):
    waiting = awaiting_review(stack)
    assert waiting["status"] == "RUNNING" and waiting["done"] is False
    assert waiting["step"] == "AWAITING_REVIEW"
    # A person takes minutes or days: clients are asked to come back in a minute, not a second.
    assert stack.client.http.get(f"/operations/{waiting['id']}").headers["Retry-After"] == "60"

    (review,) = pending(stack)["reviews"]
    assert set(review) == {"operationId", "userId", "email", "name", "requestedAt", "expiresAt"}
    assert review["operationId"] == waiting["id"]
    assert (review["email"], review["name"]) == (REVIEWED, "Ada")
    assert review["requestedAt"] < review["expiresAt"]
    assert user_status(stack, waiting) == "PENDING_APPROVAL"

    answer = decide(stack, waiting["id"], "approve")
    assert answer.status_code == 200, answer.body
    recorded = body(answer)
    assert set(recorded) == {"operationId", "decision", "decidedAt"}
    assert recorded["operationId"] == waiting["id"] and recorded["decision"] == "approve"

    done = finished(stack, waiting["id"])
    assert done["status"] == "SUCCEEDED" and "step" not in done
    assert done["result"]["user"]["status"] == "ACTIVE"
    assert done["result"]["user"]["email"] == REVIEWED
    assert pending(stack)["reviews"] == []
    # The review's detour as the cost model prices it (benchmarks.model.review_transitions,
    # from the same walk of the definition); the execution succeeded.
    assert states_entered(stack, waiting["id"]) == WITH_REVIEW
    (execution,) = executions(stack)
    assert execution["status"] == "SUCCEEDED"
    # And the invocations it counts for a review: two more steps, and the decision's request.
    invoked = {name.rpartition("-")[2]: n for name, n in stack.lambdas.invocations.items()}
    assert (invoked["user_review_request"], invoked["user_approve"]) == (1, 2)
    assert invoked["user_review_request"] + 1 + 1 == REVIEW_EXTRA["lambda_invocations"]


def test_a_subdomain_is_reviewed_too_and_a_rejection_carries_the_reason(stack):
    waiting = awaiting_review(stack, "bob@eu.review.example.org", "Bob")
    answer = decide(stack, waiting["id"], "reject", "signs up from a known spam range")
    assert answer.status_code == 200, answer.body
    assert body(answer)["reason"] == "signs up from a known spam range"

    done = finished(stack, waiting["id"])
    assert done["status"] == "FAILED"
    assert done["error"]["code"] == "USER_REJECTED"
    assert "signs up from a known spam range" in done["error"]["message"]
    assert user_status(stack, waiting) == "REJECTED"
    assert {e["status"] for e in executions(stack)} == {"SUCCEEDED"}  # a refusal, not a fault
    # The email is free again: the next sign-up with it goes to review, not refused.
    again = awaiting_review(stack, "bob@eu.review.example.org", "Bob")
    assert again["step"] == "AWAITING_REVIEW"


def test_no_decision_in_time_fails_the_operation_and_frees_the_email(stack):
    waiting = awaiting_review(stack)
    stack.clock.advance(review_timeout() - timedelta(minutes=1))
    assert operation(stack.client, waiting["id"])["status"] == "RUNNING"  # a minute is left
    assert len(pending(stack)["reviews"]) == 1

    stack.clock.advance(timedelta(minutes=1))
    done = finished(stack, waiting["id"])
    assert done["status"] == "FAILED" and "step" not in done
    assert done["error"]["code"] == "REVIEW_TIMED_OUT"
    assert user_status(stack, waiting) == "REJECTED"
    assert pending(stack)["reviews"] == []
    (item,) = review_items()
    assert item["status"]["S"] == "EXPIRED" and "taskToken" not in item
    assert decide(stack, waiting["id"], "approve").status_code == 404  # too late
    assert states_entered(stack, waiting["id"]) == WITH_REVIEW
    # The email is free: registering it again succeeds (outside the reviewed domain's rule,
    # the same address would be created at once; here it goes to review again).
    assert awaiting_review(stack)["step"] == "AWAITING_REVIEW"


def test_a_redelivered_event_or_a_retried_task_makes_no_second_review(stack):
    waiting = awaiting_review(stack)
    (stored,) = review_items()
    # The stream delivers the operation's record again: the execution's name is taken.
    put_again(stack, waiting["id"])
    stack.drain(waiting=1)
    assert len(executions(stack)) == 1
    # The review task runs again (as a retried task would): the same review, a new token.
    stack.client.lambda_.invoke(
        "user_review_request",
        {
            "operationId": waiting["id"],
            "userId": stored["userId"]["S"],
            "email": REVIEWED,
            "name": "Ada",
            "timeoutSeconds": 60,
            "taskToken": "a-new-token",
        },
    )
    (again,) = review_items()
    assert again["requestedAt"] == stored["requestedAt"]
    assert again["expiresAt"] == stored["expiresAt"]
    assert again["taskToken"]["S"] == "a-new-token"
    assert len(pending(stack)["reviews"]) == 1


def test_pending_reviews_page_oldest_first(stack):
    waiting = [awaiting_review(stack, f"user{n}@review.example.org") for n in range(5)]
    seen: list[dict] = []
    query = "?limit=2"
    pages = 0
    while True:
        page = pending(stack, query)
        assert len(page["reviews"]) <= 2
        seen += page["reviews"]
        pages += 1
        if "nextToken" not in page:
            break
        assert "taskToken" not in page["nextToken"]
        query = f"?limit=2&nextToken={page['nextToken']}"
    assert pages >= 3
    assert [r["operationId"] for r in seen] == [w["id"] for w in waiting]  # requested in order
    assert [r["requestedAt"] for r in seen] == sorted(r["requestedAt"] for r in seen)
    assert len(pending(stack, "?limit=100")["reviews"]) == 5
    assert len(pending(stack)["reviews"]) == 5  # 20 by default


def test_the_task_token_never_leaves_the_server(stack, caplog):
    caplog.set_level(logging.INFO)  # what the functions log (LOG_LEVEL), as they log it
    answers: list[Any] = []

    def call(response):
        answers.append(response)
        return response

    approved, rejected, expired = (
        awaiting_review(stack, f"{n}@review.example.org") for n in ("ann", "ben", "cat")
    )
    tokens = {item["taskToken"]["S"] for item in review_items()}
    assert len(tokens) == 3
    call(stack.client.http.get("/reviews"))
    call(stack.client.http.get("/reviews?limit=1"))
    call(stack.client.http.get(f"/operations/{approved['id']}"))
    call(decide(stack, approved["id"], "approve"))
    call(decide(stack, approved["id"], "approve"))  # 409
    call(decide(stack, rejected["id"], "reject", "no"))
    stack.drain(waiting=1)
    stack.clock.advance(review_timeout())
    stack.drain()
    call(decide(stack, expired["id"], "approve"))  # 404
    for waited in (approved, rejected, expired):
        call(stack.client.http.get(f"/operations/{waited['id']}"))
    call(stack.client.http.get("/reviews"))
    console = Executions(stack.session, stack.resources.state_machine_arn, LogBook())
    local_pages = [json.dumps(console.detail(w["id"])) for w in (approved, rejected, expired)]

    texts = [r.body.decode() + json.dumps(dict(r.headers)) for r in answers] + local_pages
    formatter = logs.JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert len(lines) > 10  # the flows did log
    for token in tokens:
        assert not [t for t in texts if token in t], "a token in an answer"
        assert not [line for line in lines if token in line], "a token in a log line"
    assert all(item.get("taskToken") is None for item in review_items())  # all used up


@pytest.mark.parametrize(
    ("method", "code", "broken"),
    [
        ("request", "USER_REVIEW_FAILED", "AwaitReview"),  # asking for the review
        ("expire", "USER_APPROVE_FAILED", "ConcludeReview"),  # concluding it
    ],
)
def test_a_broken_review_step_fails_the_operation_with_its_code(
    stack, monkeypatch, method, code, broken
):
    calls = fail_calls(monkeypatch, ReviewsTable, method, KeyError("a bug"), lambda call: True)
    accepted = body(post_user(stack.client, REVIEWED))
    if method == "expire":
        stack.drain(waiting=1)
        until(review_items, "the review")
        until(lambda: stack.clock.waiting() >= 2, "the wait to begin on the clock")
        stack.clock.advance(review_timeout())
    done = finished(stack, accepted["id"])
    assert done["status"] == "FAILED" and "step" not in done
    assert done["error"]["code"] == code
    assert "KeyError" in done["error"]["message"]
    assert len(calls) == 1  # a bug is not retried
    assert states_entered(stack, accepted["id"]) == broken_at(broken)
    (execution,) = executions(stack)
    assert execution["status"] == "FAILED"  # the failed-executions alarm


# The tests above take a stack of their own: they count the reviews, executions or
# invocations the stack holds, read the stream back or leave a review waiting. The ones below
# share one (`shared`, tests/conftest.py), each with an email of its own; each ends with its
# review decided or expired, so none waits when the next one moves the clock.


def test_a_second_decision_is_refused(shared):
    stack = shared
    waiting = awaiting_review(stack, unique_email(REVIEWED_DOMAIN))
    assert decide(stack, waiting["id"], "approve").status_code == 200
    second = decide(stack, waiting["id"], "reject", "changed my mind")
    assert second.status_code == 409
    assert second.headers["Content-Type"] == "application/problem+json"
    assert body(second)["type"] == "/problems/review-already-decided"
    assert finished(stack, waiting["id"])["status"] == "SUCCEEDED"
    assert decide(stack, waiting["id"], "reject").status_code == 409  # once done, too


def test_an_unknown_review_is_not_found(shared):
    stack = shared
    for path in ("0b6f5bc8-8a0c-4bdb-9b3a-7f4c2f3c1d2e", "not-an-id"):
        response = decide(stack, path, "approve")
        assert response.status_code == 404
        assert body(response)["type"] == "/problems/not-found"
    done = body(post_user(stack.client, unique_email()))  # approved by the rules
    stack.drain()
    assert decide(stack, done["id"], "approve").status_code == 404


def test_concurrent_decisions_one_wins(shared, monkeypatch):
    stack = shared
    # Requests on threads, as the local server serves them: Chalice's LocalChalice keeps
    # each thread's current request apart.
    monkeypatch.setattr(stack.app, "__class__", type("Threaded", (LocalChalice, Chalice), {}))
    waiting = awaiting_review(stack, unique_email(REVIEWED_DOMAIN))
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def reviewer(decision: str) -> None:
        start.wait()
        answers[decision] = decide(stack, waiting["id"], decision, "by a thread").status_code

    threads = [threading.Thread(target=reviewer, args=(d,)) for d in ("approve", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [200, 409]
    winner = next(d for d, status in answers.items() if status == 200)
    done = finished(stack, waiting["id"])
    assert done["status"] == ("SUCCEEDED" if winner == "approve" else "FAILED")


def test_a_decision_that_reaches_the_review_first_stands_though_the_wait_timed_out(
    shared, monkeypatch
):
    """The wait times out between the decision's write and its wake-up call: the operation
    still ends as decided, as the reviewer was told."""
    stack = shared
    waiting = awaiting_review(stack, unique_email(REVIEWED_DOMAIN))
    resume = StepFunctionsCallbacks.resume

    def late(self, token, decision):
        stack.clock.advance(review_timeout())
        until(
            lambda: any(e["type"] == "TaskTimedOut" for e in history(stack, waiting["id"])),
            "the wait to time out",
        )
        return resume(self, token, decision)

    monkeypatch.setattr(StepFunctionsCallbacks, "resume", late)
    answer = decide(stack, waiting["id"], "reject", "too late to wake it")
    assert answer.status_code == 200, answer.body
    done = finished(stack, waiting["id"])
    assert done["error"]["code"] == "USER_REJECTED"
    assert "too late to wake it" in done["error"]["message"]
    assert _stored_review(waiting["id"])["status"]["S"] == "DECIDED"


@pytest.mark.parametrize(
    "seam",
    [
        None,  # the reviewer and the clock start together
        (ReviewsTable, "get"),  # the review expires as the decision reads it,
        (ReviewsTable, "decide"),  # as it writes it,
        (StepFunctionsCallbacks, "resume"),  # or as it wakes the workflow
    ],
)
def test_a_decision_racing_the_timeout_has_one_outcome(shared, monkeypatch, seam):
    stack = shared
    monkeypatch.setattr(stack.app, "__class__", type("Threaded", (LocalChalice, Chalice), {}))
    waiting = awaiting_review(stack, unique_email(REVIEWED_DOMAIN))
    answer: list[int] = []
    clocks: list[threading.Thread] = []

    def reviewer() -> None:
        answer.append(decide(stack, waiting["id"], "approve").status_code)

    def clock() -> threading.Thread:
        """The review's time runs out, on its own thread, from now."""
        clocks.append(threading.Thread(target=stack.clock.advance, args=(review_timeout(),)))
        clocks[-1].start()
        return clocks[-1]

    if seam is None:
        start = threading.Barrier(2)

        def together(action: Callable[[], object]) -> Callable[[], None]:
            def run() -> None:
                start.wait()
                action()

            return run

        threads = [
            threading.Thread(target=together(reviewer)),
            threading.Thread(target=together(clock)),
        ]
    else:
        owner, method = seam
        original = getattr(owner, method)

        def racing(self, *args, **kwargs):
            if not clocks:
                clock()
            return original(self, *args, **kwargs)

        monkeypatch.setattr(owner, method, racing)
        threads = [threading.Thread(target=reviewer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for thread in clocks:  # started by now
        thread.join()
    done = finished(stack, waiting["id"])
    (status,) = answer
    # Whichever reached the review first is the outcome, and the reviewer's answer says which.
    if status == 200:
        assert done["status"] == "SUCCEEDED", done
        assert _stored_review(waiting["id"])["status"]["S"] == "DECIDED"
    else:
        assert status == 404
        assert done["error"]["code"] == "REVIEW_TIMED_OUT", done
        assert _stored_review(waiting["id"])["status"]["S"] == "EXPIRED"
    assert pending(stack)["reviews"] == []
