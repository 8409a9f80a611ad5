"""The load generator's statistics and the cost/capacity model's arithmetic."""

import json
import sys
from typing import Any

import pytest

from benchmarks import model
from benchmarks.load import Outcome, percentile, summarize
from infra.definition import workflow_definition
from local.aws.provision import deployed_name

pytestmark = pytest.mark.unit

PER_OPERATION = {
    "api_requests": {"GET": 4.0, "POST": 1.0},
    "lambda_invocations": {
        deployed_name("local", "starter"): 0.5,
        deployed_name("local", "sweeper"): 0.01,
        deployed_name("local", "user_create"): 1.0,
        deployed_name("local", "user_approve"): 1.0,
        deployed_name("local", "user_create_response"): 1.0,
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


def test_the_workflows_paths_in_paid_transitions():
    """What each kind of operation costs in state transitions on Standard (a test about the
    path's length: a step added to the workflow changes it, on purpose)."""
    definition = workflow_definition()
    # A user created or refused: four at most, the review's Choice being the fourth.
    path = model.success_path(definition)
    assert path == ["CreateUser", "ApproveUser", "NeedsReview", "CreateResponse"]
    # Reviewed: the wait and the conclusion on top.
    assert model.review_transitions(definition) == 2
    # A step that broke: caught straight into the failure recording, then the Fail state.
    broken = model.broken_paths(definition)
    assert {name: len(path) for name, path in broken.items()} == {
        "CreateUser": 3,
        "ApproveUser": 4,
        "AwaitReview": 6,
        "ConcludeReview": 7,
        "CreateResponse": 6,
    }
    assert {tuple(path[-2:]) for path in broken.values()} == {("RecordFailure", "StepFailed")}


def test_the_success_path_takes_a_choices_default_and_refuses_a_loop():
    definition: dict[str, Any] = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Next": "Review?",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            },
            "Review?": {"Type": "Choice", "Choices": [{"Next": "Wait"}], "Default": "B"},
            "Wait": {"Type": "Task", "Resource": "x.waitForTaskToken", "Next": "B"},
            "B": {"Type": "Task", "End": True},
            "Failed": {"Type": "Fail"},
        },
    }
    assert model.success_path(definition) == ["A", "Review?", "B"]
    assert model.workflow_path(definition, reviewed=True) == ["A", "Review?", "Wait", "B"]
    assert model.workflow_path(definition, broken_at="A") == ["A", "Failed"]
    with pytest.raises(ValueError, match="not on the path"):
        model.workflow_path(definition, broken_at="Wait")
    definition["States"]["B"] = {"Type": "Pass", "Next": "A"}
    with pytest.raises(ValueError, match="loops"):
        model.success_path(definition)


def test_the_committed_counts_pay_each_state_of_the_definition_s_success_path():
    counts = model.service_counts(model.load_counts(model.DEFAULT_COUNTS), polls=2)
    path = model.success_path(workflow_definition())
    assert counts["state_transitions"] == len(path)
    standard = model.cost_per_million(counts, PRICES)["Standard + REST API"]
    per_transition = PRICES["step_functions_standard_per_transition"] * 1_000_000
    assert standard["Step Functions Standard"] == pytest.approx(len(path) * per_transition)


def test_capacity_for_2000_per_second_needs_raised_standard_quotas_and_shards(tmp_path, capsys):
    counts_file = tmp_path / "counts.json"
    counts_file.write_text(json.dumps({"per_operation": PER_OPERATION}))
    args = type("Args", (), {"rate": 2000.0, "counts": counts_file, "polls": 2})()
    model.capacity(args)
    printed = capsys.readouterr().out
    assert "Kinesis: 6 shards" in printed  # 2,000 records/s with 25% headroom; starters
    # The workflow waits for reviewers: Standard only, whose default quotas bind first.
    assert "workflow type: Standard" in printed and "ask AWS to raise them" in printed
    assert "Express" not in printed.split("quotas, demand")[1].split("cost:")[0]
    lines = printed.splitlines()
    first_quota = lines[lines.index("  quotas, demand / default (the first binds first):") + 1]
    # 2,000 StartExecution/s against a refill of 300/s.
    assert "Standard StartExecution refill" in first_quota and "667%" in first_quota
    # API: 2,000 x 3 requests = 6,000/s of 10,000 (60%); Lambda: 2,000 x 3 x 25 ms (API)
    # + 2,000 x 3.5 x 40 ms (starter and steps) + 6 x 10 (starter batches) = 490 of 1,000.
    assert any("API Gateway requests" in line and "60%" in line for line in lines)
    assert any("Lambda concurrent executions" in line and "49%" in line for line in lines)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["capacity", "--rate=fast"], "argument --rate: 'fast' is not a number above 0"),
        (["capacity", "--rate=0/s"], "argument --rate: '0/s' is not a number above 0"),
        (["capacity", "--rate=-5/s"], "argument --rate: '-5/s' is not a number above 0"),
        (["capacity"], "the following arguments are required: --rate"),
        (["cost", "--polls", "-1"], "argument --polls: '-1' is not a number from 0"),
        (["cost", "--counts", "no-such-file.json"], "cannot read no-such-file.json"),
        (["cost", "--counts", "openapi.json"], "openapi.json has no per_operation counts"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, monkeypatch, argv, says):
    monkeypatch.chdir(model.ROOT)
    try:
        code: int | str | None = model.main(argv)
    except SystemExit as argparse_exit:  # argparse's errors exit; the model's return
        code = argparse_exit.code
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"error: {says}")


def test_load_with_nothing_at_the_url_says_so_and_writes_nothing(tmp_path, monkeypatch, capsys):
    from benchmarks import load
    from local.process.child import free_port

    monkeypatch.setattr(load, "RESULTS", tmp_path / "results")
    url = f"http://127.0.0.1:{free_port()}"
    assert load.main(["--url", url, "-n", "5"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"error: nothing answers at {url}: start the local stack (`make run`) or give URL=\n"
    )
    assert not (tmp_path / "results").exists()


def test_a_soak_too_short_to_reach_its_mark_is_refused_before_it_starts(monkeypatch, capsys):
    from benchmarks import soak

    monkeypatch.setattr(sys, "argv", ["soak", "-n", "100"])
    with pytest.raises(SystemExit) as exit_:
        soak.main()
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: -n 100 does not pass --mark 2000")


def test_the_load_summary_reads_as_the_documentation_shows_it():
    from benchmarks.load import lines

    outcomes = [Outcome(0.0, 2.0, "SUCCEEDED", 100.0 + i) for i in range(9)]
    outcomes.append(Outcome(0.0, 2.0, "FAILED:USER_REJECTED"))
    assert lines(summarize(outcomes, 0.0)) == [
        "10 operations, 9 SUCCEEDED, 1 FAILED:USER_REJECTED, 2.0 s, 5.0 operations/s",
        "accepted → done: p50 104 ms, p90 108 ms, p99 108 ms, max 108 ms",
    ]


def test_the_chart_is_a_png(tmp_path):
    from benchmarks.load import chart

    outcomes = [Outcome(i / 10, i / 10 + 0.05, "SUCCEEDED", 50.0) for i in range(30)]
    path = tmp_path / "load.png"
    chart(outcomes, 0.0, path, "30 operations")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_archive_costs_firehose_ingestion_in_5_kb_steps_and_s3_storage():
    table = model.cost_per_million(model.service_counts(PER_OPERATION, 2), PRICES)
    standard = table["Standard + REST API"]
    # One 183-byte event per operation is billed as 5 KB: 1M x 5,120 B = 4.77 GiB at $0.029.
    assert standard["Firehose"] == pytest.approx(1e6 * 5120 / 2**30 * 0.029)
    assert standard["S3 (a month stored)"] == pytest.approx(1e6 * 31 / 2**30 * 0.023)


def test_capacity_counts_both_readers_of_each_shard(tmp_path, capsys):
    counts_file = tmp_path / "counts.json"
    counts_file.write_text(json.dumps({"per_operation": PER_OPERATION}))
    args = type("Args", (), {"rate": 2000.0, "counts": counts_file, "polls": 2})()
    model.capacity(args)
    lines = capsys.readouterr().out.splitlines()
    (reads,) = [line for line in lines if "Kinesis GetRecords per shard" in line]
    assert reads.split()[-4:] == ["2", "/", "5", "40%"]
    (volume,) = [line for line in lines if "Kinesis reads per shard (KB" in line]
    # 6 shards: 333 records/s each, read twice, 183 B each: 119 KB/s of 2,048.
    assert volume.split()[-4:] == ["119", "/", "2,048", "6%"]


def test_soak_growth_is_measured_from_the_mark_to_the_last_sample_under_load():
    from benchmarks.soak import Sample, verdict

    samples = [
        Sample(0, 0, 200.0, 6, 0.0),
        Sample(10, 1000, 260.0, 5, 15.0),
        Sample(20, 2000, 300.0, 5, 15.0),
        Sample(30, 3000, 330.0, 5, 15.0),
        Sample(40, 3000, 310.0, 5, 0.0),  # idle afterwards
    ]
    found = verdict(samples, mark=2000)
    assert (found.rss_at_mark, found.rss_at_end, found.peak) == (300.0, 330.0, 330.0)
    assert found.growth == 30.0
    assert found.met
    assert not verdict(samples, mark=5000).met  # never reached: no growth to judge


def test_the_cost_of_a_review_is_its_transitions_and_invocations_not_its_wait(tmp_path, capsys):
    review = model.review_cost_per_million(PRICES, transitions=2)
    assert review["Step Functions Standard"] == pytest.approx(2 * 0.025 * 1000)
    assert review["REST API"] == pytest.approx(3.5)
    counts_file = tmp_path / "counts.json"
    counts_file.write_text(json.dumps({"per_operation": PER_OPERATION}))
    model.cost(type("Args", (), {"counts": counts_file, "polls": 2})())
    printed = capsys.readouterr().out
    assert "costs nothing while it waits" in printed
    assert f"adds ${sum(review.values()):,.2f} per 1M" in printed


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
