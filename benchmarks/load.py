"""Load generator: N user creations at concurrency C, each polled until done.

    .venv/bin/python -m benchmarks.load -n 2000 -c 32 [--url http://127.0.0.1:8000] [--json]

Prints a summary: the operations by outcome, throughput (operations completed per second),
latency from accepted to done (p50/p90/p99/max); with --json, the whole summary as JSON.
Writes a JSON summary and a PNG chart (completions per second and latency over time) under
benchmarks/results/ (ignored by git). Against the local stack it also reads /_local/api/metrics
before and after, and records what one operation costs in API requests, Lambda invocations,
AWS calls and state transitions. With no API answering at the URL it says so in one line
and writes nothing.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from infra import cli
from infra.cli import CommandError

RESULTS = Path(__file__).resolve().parent / "results"


@dataclasses.dataclass
class Outcome:
    started: float
    finished: float
    kind: str  # SUCCEEDED, FAILED:<code>, HTTP <status>, TIMEOUT, ERROR:<exception>
    # createdAt → updatedAt of the operation: the service's own clock, free of poll delay.
    service_ms: float | None = None


def _service_ms(operation: dict[str, Any]) -> float:
    created = datetime.fromisoformat(operation["createdAt"])
    return (datetime.fromisoformat(operation["updatedAt"]) - created).total_seconds() * 1000


def _create_and_wait(
    session: requests.Session, url: str, email: str, timeout: float, poll: float | None
) -> Outcome:
    """POST, then GET until done, waiting `poll` seconds between GETs, or as long as the
    service's Retry-After says when poll is None (what a well-behaved client does)."""
    started = time.monotonic()
    try:
        accepted = session.post(f"{url}/users", json={"email": email, "name": "Load"}, timeout=10)
        if accepted.status_code != 202:
            return Outcome(started, time.monotonic(), f"HTTP {accepted.status_code}")
        # As a client must (RFC 9110 section 10.2.2): resolved against the request's URL.
        location = urljoin(accepted.url, accepted.headers["Location"])
        wait = float(accepted.headers.get("Retry-After", 1)) if poll is None else poll
        while time.monotonic() - started < timeout:
            time.sleep(wait)
            response = session.get(location, timeout=10)
            operation = response.json()
            if operation["done"]:
                kind = operation["status"]
                if kind == "FAILED":
                    kind = f"FAILED:{operation['error']['code']}"
                return Outcome(started, time.monotonic(), kind, _service_ms(operation))
            if poll is None:
                wait = float(response.headers.get("Retry-After", 1))
        return Outcome(started, time.monotonic(), "TIMEOUT")
    except (requests.RequestException, KeyError, ValueError) as error:
        return Outcome(started, time.monotonic(), f"ERROR:{type(error).__name__}")


def run(
    url: str, total: int, concurrency: int, timeout: float, poll: float | None
) -> tuple[list[Outcome], float]:
    run_id = uuid.uuid4().hex[:8]
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    next_index = iter(range(total))

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            email = f"load-{run_id}-{index}@example.org"
            outcome = _create_and_wait(session, url, email, timeout, poll)
            with lock:
                outcomes.append(outcome)

    began = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        _progress(len(outcomes), total, time.monotonic() - began)
        time.sleep(0.2)
    _progress(len(outcomes), total, time.monotonic() - began)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return outcomes, began


def _progress(done: int, total: int, elapsed: float) -> None:
    if not sys.stderr.isatty():
        return
    width = 40
    filled = int(width * done / max(total, 1))
    rate = done / elapsed if elapsed else 0.0
    bar = "#" * filled + "-" * (width - filled)
    print(f"\r[{bar}] {done}/{total}  {rate:6.1f} ops/s  {elapsed:6.1f} s", end="", file=sys.stderr)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _distribution(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 0.50), 1),
        "p90": round(percentile(values, 0.90), 1),
        "p99": round(percentile(values, 0.99), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


def summarize(outcomes: list[Outcome], began: float) -> dict[str, Any]:
    succeeded = [o for o in outcomes if o.kind == "SUCCEEDED"]
    wall = max(o.finished for o in outcomes) - began
    completed = sum(1 for o in outcomes if o.kind == "SUCCEEDED" or o.kind.startswith("FAILED:"))
    return {
        "operations": len(outcomes),
        "completed": completed,
        "seconds": round(wall, 2),
        "throughput_ops_per_s": round(completed / wall, 1),
        # Accepted → done as the service records it (createdAt → updatedAt).
        "latency_ms": _distribution([o.service_ms for o in succeeded if o.service_ms is not None]),
        # POST sent → done seen by this client: adds the HTTP round trips and the poll delay.
        "client_latency_ms": _distribution([(o.finished - o.started) * 1000 for o in succeeded]),
        "outcomes": dict(collections.Counter(o.kind for o in outcomes)),
    }


def _metrics(url: str) -> dict[str, Any] | None:
    try:
        response = requests.get(f"{url}/_local/api/metrics", timeout=5)
    except requests.RequestException:
        return None
    return response.json() if response.status_code == 200 else None


def per_operation(before: dict[str, Any], after: dict[str, Any], count: int) -> dict[str, Any]:
    def delta(key: str) -> dict[str, float]:
        keys = set(before[key]) | set(after[key])
        found = {k: after[key].get(k, 0) - before[key].get(k, 0) for k in keys}
        return {k: round(v / count, 3) for k, v in sorted(found.items()) if v}

    return {
        "api_requests": delta("apiRequests"),
        "lambda_invocations": delta("lambdaInvocations"),
        "aws_calls": delta("awsCalls"),
    }


def state_transitions(url: str, sample: int = 50) -> float | None:
    """Mean transitions per execution over recent ones that have ended (one still running,
    a review waiting for instance, has not made all of its): states entered, plus retries."""
    executions = f"{url}/_local/api/executions"
    listing = requests.get(executions, timeout=10).json()["executions"]
    ended = [execution for execution in listing if execution["status"] != "RUNNING"]
    counts = []
    for execution in ended[:sample]:
        detail = requests.get(f"{executions}/{execution['operationId']}", timeout=10).json()
        counts.append(sum(1 + step["retries"] for step in detail["steps"]))
    return round(statistics.fmean(counts), 2) if counts else None


def chart(outcomes: list[Outcome], began: float, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = sorted(outcomes, key=lambda o: o.finished)
    seconds = [int(o.finished - began) for o in done]
    per_second = collections.Counter(seconds)
    xs = list(range(max(seconds) + 1)) if seconds else []
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    top.bar(xs, [per_second.get(x, 0) for x in xs], width=1.0, color="#4c72b0")
    top.set_ylabel("operations done / s")
    top.set_title(title)
    ok = [o for o in done if o.kind == "SUCCEEDED" and o.service_ms is not None]
    bottom.scatter(
        [o.finished - began for o in ok],
        [o.service_ms for o in ok],
        s=4,
        alpha=0.5,
        color="#dd8452",
    )
    bottom.set_ylabel("accepted → done (ms)")
    bottom.set_xlabel("seconds since start")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def lines(summary: dict[str, Any]) -> list[str]:
    """The summary, as the documentation shows it."""
    outcomes = ", ".join(f"{count} {kind}" for kind, count in summary["outcomes"].items())
    found = [
        f"{summary['operations']} operations, {outcomes}, {summary['seconds']:.1f} s, "
        f"{summary['throughput_ops_per_s']} operations/s"
    ]
    latency = summary["latency_ms"]
    if latency:
        found.append(
            "accepted → done: "
            + ", ".join(f"{key} {latency[key]:.0f} ms" for key in ("p50", "p90", "p99", "max"))
        )
    return found


def check_answers(url: str) -> None:
    """Something must answer HTTP at the URL before any load is sent."""
    try:
        requests.get(f"{url}/problems/not-found", timeout=5)
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
    ):
        raise CommandError(f"{url} is not an http(s) URL") from None
    except requests.RequestException:
        raise CommandError(
            f"nothing answers at {url}: start the local stack (`make run`) or give URL="
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("-n", type=cli.number(int), default=500, help="operations")
    parser.add_argument("-c", type=cli.number(int), default=16, help="concurrent operations")
    parser.add_argument(
        "--timeout", type=cli.number(float), default=60.0, help="per operation, seconds"
    )
    parser.add_argument(
        "--poll",
        type=cli.number(float),
        default=None,
        help="seconds between GETs (default: Retry-After)",
    )
    parser.add_argument("--name", default=None, help="file name stem for the results")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    return cli.run(lambda: _load(args))


def _load(args: argparse.Namespace) -> int:
    url = args.url.rstrip("/")
    check_answers(url)
    before = _metrics(url)
    outcomes, began = run(url, args.n, args.c, args.timeout, args.poll)
    summary = summarize(outcomes, began)
    summary["target"] = url
    summary["concurrency"] = args.c
    summary["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    after = _metrics(url)
    if before is not None and after is not None and summary["completed"]:
        summary["per_operation"] = per_operation(before, after, summary["completed"])
        summary["per_operation"]["state_transitions"] = state_transitions(url)
    print(json.dumps(summary, indent=2) if args.json else "\n".join(lines(summary)))
    if not summary["completed"]:
        print("no operation completed: nothing written", file=sys.stderr)
        return 1
    stem = args.name or f"load-n{args.n}-c{args.c}"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=2) + "\n")
    chart(outcomes, began, RESULTS / f"{stem}.png", f"{args.n} operations, concurrency {args.c}")
    print(f"wrote {os.path.relpath(RESULTS / stem)}.json and .png", file=sys.stderr)
    return 0 if summary["outcomes"].get("SUCCEEDED") == summary["operations"] else 1


if __name__ == "__main__":
    sys.exit(main())
