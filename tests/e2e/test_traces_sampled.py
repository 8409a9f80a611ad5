"""Traces sampled as X-Ray samples them: the decision is taken where a trace begins and travels
with it."""

from __future__ import annotations

from typing import Any

import pytest

from local.aws.trace_segments import Sampler
from tests.conftest import running_stack
from tests.e2e.test_traces import _operation_trace, _summaries, traces_of
from tests.helpers import body, operation, post_user

pytestmark = pytest.mark.e2e


def test_sampled_as_x_ray_samples_an_operations_trace_is_whole_or_absent(monkeypatch):
    # X-Ray's default rule (the first each second, 5% of the rest) where a trace begins; the
    # decision travels with the trace, so a sampled request's operation is traced to its end
    # though the starter's invocation, a trace of its own, may not be sampled.
    with running_stack() as emulator:
        stack: Any = emulator  # with .client, Chalice's test client (tests/conftest.py)
        decisions = iter([True])  # the reservoir's one trace; then the 5%, none this time
        stack.segments.sampler = Sampler()
        monkeypatch.setattr(stack.segments.sampler, "sample", lambda: next(decisions, False))
        first, second = (body(post_user(stack.client, f"{n}@example.org"))["id"] for n in "ab")
        stack.drain()
        assert {operation(stack.client, i)["status"] for i in (first, second)} == {"SUCCEEDED"}
        entities = _operation_trace(first)
        names = {e["name"] for e, _ in entities.values()}
        assert {"user-service/api", "start_workflow", "CreateResponse"} <= names
        assert len(traces_of(first)) == 1  # the starter's own invocation was not sampled
        assert _summaries(f'annotation.operation_id = "{second}"') == []
