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

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.local_stack_process import ROOT, LocalStackProcess, free_port

schema = schemathesis.openapi.from_path(
    ROOT / "openapi.json", config=SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
)


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    stack = LocalStackProcess(free_port(), free_port())
    stack.wait_until_up()
    yield stack.api
    code, output = stack.stop()
    assert code == 0, output


def _examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# One test per operation: schemathesis 4.32 on pytest 9 gives the items of one test the same
# node id, and pytest-xdist would run only one of them.
@schema.include(method="POST", path="/users").parametrize()
@_examples(500)
def test_generated_user_requests_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


@schema.include(path="/operations/{operation_id}").parametrize()
@_examples(100)
def test_generated_operation_ids_get_the_documented_answers(case, api):
    case.call_and_validate(base_url=api, timeout=10)


@schema.include(path="/users/{user_id}").parametrize()
@_examples(100)
def test_generated_user_ids_get_the_documented_answers(case, api):
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
