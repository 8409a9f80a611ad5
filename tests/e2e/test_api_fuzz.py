"""Schema-driven fuzzing of the HTTP API from openapi.json, against the running local stack.

Schemathesis generates valid and invalid requests (bodies, headers, path ids, other methods)
and runs its checks on every answer: no 5xx; status, Content-Type, headers and body as the
spec documents them (so every error is problem+json); invalid data rejected; valid data
accepted. The stateful test follows the spec's link from a created user to its operation.
(No link leads on to the user: whether the operation has one yet depends on timing, and
Hypothesis needs the same steps to offer the same choices when it replays them.)
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


@schema.parametrize()
@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_requests_get_the_documented_answers(case, api):
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
            max_examples=100,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The link was followed: operations that POST created were found.
    assert ("GET /operations/{operation_id}", 200) in answered
