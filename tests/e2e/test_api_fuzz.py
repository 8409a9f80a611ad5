"""Schema-driven fuzzing of the HTTP API from openapi.json, against the running local stack.

Schemathesis generates valid and invalid requests (bodies, headers, path ids, other methods)
and runs its checks on every answer: no 5xx; status, Content-Type, headers and body as the
spec documents them (so every error is problem+json); invalid data rejected; valid data
accepted. The stateful test follows the spec's link from a created user to its operation.
(No link leads on to the user: whether the operation has one yet depends on timing, and
Hypothesis needs the same steps to offer the same choices when it replays them.)

How many examples: enough to meet every kind of answer the API gives, measured by logging
each answer's operation, method, status, problem title and invalid fields over runs of
1,000 examples per operation (and 100 journeys). POST /users: all but one kind of answer
first met within 421 generated bodies in three runs (the 413 of an oversized body at 147,
190 and 338; two invalid fields together by 233), the last a rarer mix of two invalid fields
(at 1,019): 500. The GET routes: after schemathesis's coverage phase (every method, missing
and malformed ids), 1,000 generated ids each brought no new kind of answer (always a 404
problem): 100. Journeys: every (operation, status) pair met by the 19th: 50. `make fuzz`
runs 5,000 per operation against `make run`.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from tests.local_stack_process import ROOT, running

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
def api() -> Iterator[str]:
    with running() as stack:
        yield stack.api


def _examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@_only("post", "/users").parametrize()
@_examples(500)
def test_generated_user_requests_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


@_only("get", "/operations/{operation_id}").parametrize()
@_examples(100)
def test_generated_operation_ids_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


@_only("get", "/users/{user_id}").parametrize()
@_examples(100)
def test_generated_user_ids_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


@_only("get", "/reviews").parametrize()
@_examples(100)
def test_generated_review_listings_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


@_only("post", "/reviews/{operation_id}").parametrize()
@_examples(200)
def test_generated_review_decisions_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


def test_generated_journeys_follow_the_links(api):
    answered: set[tuple[str, int]] = set()

    class Journeys(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"base_url": api, "timeout": 10}

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
@_examples(200)
def test_undeclared_paths_answer_a_404_problem(api, segments, method):
    path = "/" + "/".join(segments)
    assume(segments[0] != "_local" and "." not in segments and ".." not in segments)
    assume(not _declared(path))
    response = requests.request(method, api + path, timeout=10)
    assert response.status_code == 404, (method, path)
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404
