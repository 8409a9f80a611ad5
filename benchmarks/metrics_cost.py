"""What the metrics cost the local engine: CPU milliseconds per operation of the whole pipeline
in process (the tests' stack: API → stream → starter → workflow), with the app's logging as
`make run` has it (the JSON lines to a stream, the console's log book), untraced: with the
metrics written (EMF lines, read into the emulator's series store) and without (no
METRICS_NAMESPACE: nothing written). CPU time, not operations per second: it holds on a machine
shared with other work.

    .venv/bin/python benchmarks/metrics_cost.py [-n 300] [--rounds 3] [--root DIR]

Each mode runs in a fresh interpreter, the modes interleaved round after round. --root runs the
same pipeline from another checkout (say, the commit before the metrics) as a third mode.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(total: int, metrics: bool) -> dict[str, float]:
    """In this interpreter (its working directory the checkout measured): CPU ms per operation
    after a warm-up, and the EMF lines the store read."""
    sys.path.insert(0, os.getcwd())
    from infra.definition import stage_environment

    os.environ.update(
        AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.update(stage_environment("test"))
    os.environ.pop("AWS_ENDPOINT_URL", None)
    if not metrics:
        os.environ.pop("METRICS_NAMESPACE", None)
    import logging

    # As `make run` logs: every line to a stream (here, nowhere), and into the log book.
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))  # noqa: SIM115
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from local.console.logbook import LogBook
    from local.emulator import EMULATOR_CONFIG, Emulator
    from local.state.clock import Clock

    LogBook.install()
    with mock_aws(config=EMULATOR_CONFIG):
        session = boto3.Session()
        boto3.DEFAULT_SESSION = session
        emulator = Emulator(app, "test", session, clock=Clock(skip_sleeps=True), trace_all=False)
        emulator.segments.sampler.sample = lambda: False  # type: ignore[method-assign]
        with emulator.running(), Client(app, stage_name="test") as client:

            def post(n: int) -> None:
                body = json.dumps({"email": f"u{n}@example.org", "name": "A"})
                answer = client.http.post(
                    "/users", headers={"Content-Type": "application/json"}, body=body
                )
                assert answer.status_code == 202, answer.body

            for n in range(20):
                post(n)
            emulator.drain()
            began = time.process_time()
            for n in range(20, 20 + total):
                post(n)
                if n % 20 == 0:
                    emulator.drain()
            emulator.drain()
            cpu = time.process_time() - began
            series = getattr(emulator, "metric_series", None)
            return {
                "cpu_ms": cpu / total * 1000,
                "series": len(series.series()) if series is not None else 0,
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--root", type=Path, help="another checkout, measured as a third mode")
    parser.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.n, args.child == "on")))
        return
    modes = {"metrics written": (ROOT, "on"), "no metrics namespace": (ROOT, "off")}
    if args.root:
        modes[f"{args.root}"] = (args.root.resolve(), "on")
    results: dict[str, list[float]] = {mode: [] for mode in modes}
    series: dict[str, float] = {}
    for _ in range(args.rounds):
        for mode, (root, child) in modes.items():
            done = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "-n",
                    str(args.n),
                    "--child",
                    child,
                ],
                cwd=root,
                env={**os.environ, "TRACER": "off"},
                capture_output=True,
                text=True,
                check=True,
            )
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            results[mode].append(measured["cpu_ms"])
            series[mode] = measured["series"]
    print(
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, n={args.n}, rounds={args.rounds}"
    )
    base = statistics.median(results["no metrics namespace"])
    for mode, samples in results.items():
        median = statistics.median(samples)
        runs = ", ".join(f"{s:.1f}" for s in samples)
        print(
            f"  {mode:<44} {median:5.1f} ms CPU per operation ({runs}; "
            f"{(median / base - 1) * 100:+.0f}%), {series[mode]:.0f} series kept"
        )


if __name__ == "__main__":
    main()
