"""Schema-driven fuzzing of the HTTP API from openapi.json, against the running local stack.

Schemathesis generates valid and invalid requests (bodies, headers, path ids, other methods)
and runs its checks on every answer: no 5xx; status, Content-Type, headers and body as the
spec documents them (so every error is problem+json); invalid data rejected; valid data
accepted. The stateful test follows the spec's link from a created user to its operation.
(No link leads on to the user: whether the operation has one yet depends on timing, and
Hypothesis needs the same steps to offer the same choices when it replays them.)

What each run covers, and why these numbers (measured by logging each answer's status,
problem title and invalid fields; three runs of 1,000 generated examples per operation):
- Every operation, in schemathesis's coverage phase first: deterministic cases from the
  schema, the same every run. For POST /users: a valid body (202), each field missing, of the
  wrong type, too short or too long, an invalid email, a blank name, an unknown field, a body
  that is not an object, bad Idempotency-Keys, a key reused with another body (422), a
  content type other than JSON (415) and every other method (405).
- RARE_ANSWERS below: what the coverage phase never sends and random generation meets only by
  luck (an oversized body, first met after 254 to 516 generated bodies; several invalid
  fields together, after 64 to 903, some mixes never in 1,000; a body that is not JSON or
  not UTF-8), sent on every run and held to the same checks.
- Then generated examples, to search for what nobody listed: 80 bodies for POST /users
  (past the cases above, the 3,000 generated bodies brought only other mixes of the same
  field errors), 100 for each GET (after the coverage phase, 1,000 generated ids each brought
  no new kind of answer: always a 404 problem), 100 review decisions and undeclared paths,
  50 journeys (every (operation, status) pair met by the 19th); so few for the suite's time
  budget (make test under 90 s on 2 cores). `make fuzz` runs 5,000 per operation against
  `make run` for the long search.
"""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from infra.definition import ROOT

SPEC = json.loads((ROOT / "openapi.json").read_text())
CONFIG = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)


def _only(method: str, path: str) -> Any:
    """The spec with one operation: one test per operation, since schemathesis 4.32 on
    pytest 9 gives the items of one test the same node id, and pytest-xdist would run only
    one of them."""
    spec = {**SPEC, "paths": {path: {method: SPEC["paths"][path][method]}}}
    return schemathesis.openapi.from_dict(spec, config=CONFIG)


@pytest.fixture(scope="module")
def api(local_stack) -> str:
    """The shared local stack, which no test leaves a review waiting on (tests/conftest.py):
    the journeys follow GET /reviews to the decisions, and Hypothesis, whose steps must offer
    the same choices when it replays them, could not replay a journey that decided another
    module's review (FlakyStrategyDefinition)."""
    return local_stack.api


@pytest.fixture(scope="module")
def reviewer(local_stack) -> dict[str, str]:
    """The local reviewer's token: the reviewers' routes take it (the spec's reviewerToken);
    schemathesis's ignored_auth check also sends each request without it, expecting a 401."""
    return local_stack.reviewer()


def _examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@_only("post", "/users").parametrize()
@_examples(80)
def test_generated_user_requests_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


OVERSIZED = {"email": "ada@example.org", "name": "A" * 5000}
# body, status, the fields the problem names
RARE_ANSWERS = {
    "oversized": (json.dumps(OVERSIZED).encode(), 413, None),
    "not JSON": (b'{"email": "ada@example.org", "name": ', 400, None),
    "not UTF-8": (b'{"email": "\xff@example.org", "name": "Ada"}', 400, None),
    "two invalid fields": ({"email": "ada", "name": ""}, 400, {"/email", "/name"}),
    "two wrong types": ({"email": 1, "name": [2]}, 400, {"/email", "/name"}),
    "nothing known": ({"nick": "ada"}, 400, {"/email", "/name", "/nick"}),
}


@pytest.mark.parametrize(("body", "status", "fields"), RARE_ANSWERS.values(), ids=RARE_ANSWERS)
def test_answers_random_generation_meets_only_by_luck(api, body, status, fields):
    case = schema["/users"]["POST"].Case(body=body, media_type="application/json")
    response = case.call_and_validate(base_url=api, timeout=10)
    assert response.status_code == status, response.text
    if fields:
        assert {error["pointer"] for error in response.json()["errors"]} == fields


@_only("get", "/operations/{operation_id}").parametrize()
@_examples(100)
def test_generated_operation_ids_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


@_only("get", "/users/{user_id}").parametrize()
@_examples(100)
def test_generated_user_ids_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


def _sent_as_generated(case) -> bool:
    """Whether requests sends the case's query as generated: it leaves out a parameter whose
    value is None or an empty list, which schemathesis would count as sent (an unknown one the
    API must refuse) though the API never saw it, and report the answer as a failure."""
    return all(value not in (None, []) for value in (case.query or {}).values())


@_only("get", "/reviews").parametrize()
@_examples(100)
def test_generated_review_listings_get_the_documented_answers(case, api, reviewer):
    assume(_sent_as_generated(case))
    case.call_and_validate(base_url=api, headers=reviewer, timeout=10)


# The coverage phase asks for every problem type and for names outside the list; a few more
# generated ones add nothing: the answer is the page or a 404 problem.
@_only("get", "/problems/{problem_type}").parametrize()
@_examples(20)
def test_generated_problem_types_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


@_only("post", "/reviews/{operation_id}").parametrize()
@_examples(100)
def test_generated_review_decisions_get_the_documented_answers(case, api, reviewer):
    case.call_and_validate(base_url=api, headers=reviewer, timeout=10)


def test_generated_journeys_follow_the_links(api, reviewer):
    answered: set[tuple[str, int]] = set()

    class Journeys(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case):
            assume(_sent_as_generated(case))

        def get_call_kwargs(self, case):
            return {"base_url": api, "headers": reviewer, "timeout": 10}

        def after_call(self, response, case):
            answered.add((case.operation.label, response.status_code))

    Journeys.run(
        settings=settings(
            max_examples=50,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The link was followed: operations that POST created were found.
    assert ("GET /operations/{operation_id}", 200) in answered


def _declared(path: str) -> bool:
    """Whether a path matches one the spec declares ({param} matches any one segment)."""
    parts = path.strip("/").split("/")
    for template in SPEC["paths"]:
        expected = template.strip("/").split("/")
        if len(expected) == len(parts) and all(
            e.startswith("{") or e == p for e, p in zip(expected, parts, strict=True)
        ):
            return True
    return False


SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "-._~", min_size=1, max_size=12)


@given(
    segments=st.lists(SEGMENT, min_size=1, max_size=4),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
)
@_examples(100)
def test_undeclared_paths_answer_a_404_problem(api, segments, method):
    path = "/" + "/".join(segments)
    assume(segments[0] != "_local" and "." not in segments and ".." not in segments)
    assume(not _declared(path))
    response = requests.request(method, api + path, timeout=10)
    assert response.status_code == 404, (method, path)
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404
