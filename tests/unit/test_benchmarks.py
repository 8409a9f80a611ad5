"""The load generator's statistics and the cost/capacity model's arithmetic."""

import json

import pytest

from benchmarks import model
from benchmarks.load import Outcome, percentile, summarize

PER_OPERATION = {
    "api_requests": {"GET": 4.0, "POST": 1.0},
    "lambda_invocations": {
        "user-service-local-starter": 0.5,
        "user-service-local-sweeper": 0.01,
        "user-service-local-user_create": 1.0,
        "user-service-local-user_approve": 1.0,
        "user-service-local-user_create_response": 1.0,
    },
    "aws_calls": {
        "dynamodb.GetItem": 6.0,
        "dynamodb.PutItem": 1.0,
        "dynamodb.TransactWriteItems": 1.0,
        "dynamodb.UpdateItem": 3.0,
        "kinesis.PutRecord": 1.0,
    },
    "state_transitions": 7.0,
}
PRICES = json.loads((model.HERE / "prices.json").read_text())


def test_percentiles_and_summary():
    assert percentile([float(v) for v in range(1, 101)], 0.5) == 51
    outcomes = [Outcome(0.0, 1.0, "SUCCEEDED", 100.0), Outcome(0.0, 2.0, "FAILED:USER_REJECTED")]
    outcomes.append(Outcome(0.0, 2.0, "HTTP 503"))
    summary = summarize(outcomes, 0.0)
    assert summary["completed"] == 2
    assert summary["throughput_ops_per_s"] == 1.0
    assert summary["latency_ms"]["p50"] == 100.0
    assert summary["outcomes"] == {"SUCCEEDED": 1, "FAILED:USER_REJECTED": 1, "HTTP 503": 1}


def test_service_counts_replace_the_generator_polls_with_the_clients():
    counts = model.service_counts(PER_OPERATION, polls=2)
    assert counts["api_requests"] == 3
    assert counts["read_units"] == 6 - 4 + 2  # the steps' reads, plus the client's GETs
    assert counts["write_units"] == 1 * 2 + 1 * 4 + 3 * 2
    assert counts["lambda_invocations"] == 3.5 + 3  # starter and steps, plus the API's


def test_standard_cost_is_dominated_by_state_transitions():
    table = model.cost_per_million(model.service_counts(PER_OPERATION, 2), PRICES)
    standard = table["Standard + REST API"]
    assert standard["Step Functions Standard"] == pytest.approx(7 * 0.025 * 1000)
    assert standard["REST API"] == pytest.approx(3 * 3.5)
    assert sum(table["Express + HTTP API"].values()) < sum(standard.values()) / 5


def test_capacity_for_2000_per_second_needs_express_and_shards(tmp_path, capsys):
    counts_file = tmp_path / "counts.json"
    counts_file.write_text(json.dumps({"per_operation": PER_OPERATION}))
    args = type("Args", (), {"rate": "2000/s", "counts": counts_file, "polls": 2})()
    model.capacity(args)
    printed = capsys.readouterr().out
    assert "Kinesis: 6 shards" in printed  # 2,000 records/s with 25% headroom; starters
    assert "workflow type: Express" in printed
    lines = printed.splitlines()
    first_quota = lines[lines.index("  quotas, demand / default (the first binds first):") + 1]
    # API: 2,000 x 3 requests = 6,000/s of 10,000 (60%); Lambda: 2,000 x 3 x 25 ms (API)
    # + 2,000 x 3.5 x 40 ms (starter and steps) + 6 x 10 (starter batches) = 490 of 1,000.
    assert "API Gateway requests" in first_quota and "60%" in first_quota
    assert any("Lambda concurrent executions" in line and "49%" in line for line in lines)


def test_the_chart_is_a_png(tmp_path):
    from benchmarks.load import chart

    outcomes = [Outcome(i / 10, i / 10 + 0.05, "SUCCEEDED", 50.0) for i in range(30)]
    path = tmp_path / "load.png"
    chart(outcomes, 0.0, path, "30 operations")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_sleep_audit_counts_every_real_time_sleep_by_site_and_test(monkeypatch):
    import threading
    import time

    from benchmarks import sleeps

    def nap():
        time.sleep(0.001)

    monkeypatch.setattr(time, "sleep", sleeps._sleep)  # what pytest_configure installs
    monkeypatch.setitem(sleeps._running, "test", "tests/x.py::test_naps")
    nap()
    in_a_thread = threading.Thread(target=nap)
    in_a_thread.start()
    in_a_thread.join()
    (site,) = [site for site in sleeps._calls if "test_benchmarks.py" in site]
    assert site.endswith(" nap") and sleeps._calls[site] == 2
    assert sleeps._per_test["tests/x.py::test_naps"] >= 0.002

    lines: list[str] = []
    reporter = type("Reporter", (), {"section": lambda _, title: lines.append(title)})()
    reporter.write_line = lines.append
    sleeps.pytest_terminal_summary(reporter)
    assert "s slept in" in lines[1]
    assert "by call site:" in lines and "by test:" in lines
