"""What tracing costs the local engine: CPU milliseconds per operation of the whole pipeline in
process (the tests' stack: API → stream → starter → workflow), untraced, sampled as X-Ray's
default rule samples, and with every operation traced by each tracer. CPU time, not
operations per second: it holds on a machine shared with other work.

    .venv/bin/python benchmarks/trace_cost.py [-n 300] [--rounds 2]

Each mode runs in a fresh interpreter, the modes interleaved round after round.
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
# mode -> (TRACER, sampling: "never" | "default" | "every")
MODES = {
    "untraced": ("off", "never"),
    "sampled (X-Ray's default rule), X-Ray SDK": ("xray", "default"),
    "every operation, X-Ray SDK": ("xray", "every"),
    "every operation, OpenTelemetry": ("otel", "every"),
}


def measure(total: int, sampling: str) -> dict[str, float]:
    """In this interpreter: CPU ms per operation (after a warm-up), and traces kept."""
    sys.path.insert(0, str(ROOT))
    from infra.definition import stage_environment

    os.environ.update(
        AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.update(stage_environment("test"))
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import logging

    logging.disable(logging.CRITICAL)
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from app import app
    from local.emulator import EMULATOR_CONFIG, Emulator
    from local.state.clock import Clock

    with mock_aws(config=EMULATOR_CONFIG):
        session = boto3.Session()
        boto3.DEFAULT_SESSION = session
        emulator = Emulator(
            app, "test", session, clock=Clock(skip_sleeps=True), trace_all=sampling == "every"
        )
        if sampling == "never":
            emulator.segments.sampler.sample = lambda: False  # type: ignore[method-assign]
        with emulator.running(), Client(app, stage_name="test") as client:

            def post(n: int) -> None:
                body = json.dumps({"email": f"u{n}@example.org", "name": "A"})
                with emulator.api_request("POST", "/users", None) as request:
                    with emulator.api_function(request):
                        answer = client.http.post(
                            "/users", headers={"Content-Type": "application/json"}, body=body
                        )
                    request.status = answer.status_code

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
            return {"cpu_ms": cpu / total * 1000, "traces": len(emulator.traces)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.n, args.child[1])))
        return
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    kept: dict[str, int] = {}
    for _ in range(args.rounds):
        for mode, (tracer, sampling) in MODES.items():
            done = subprocess.run(
                [sys.executable, __file__, "-n", str(args.n), "--child", tracer, sampling],
                cwd=ROOT,
                env={**os.environ, "TRACER": tracer},
                capture_output=True,
                text=True,
                check=True,
            )
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            results[mode].append(measured["cpu_ms"])
            kept[mode] = measured["traces"]
    print(
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, n={args.n}, rounds={args.rounds}"
    )
    base = statistics.median(results["untraced"])
    for mode, samples in results.items():
        median = statistics.median(samples)
        runs = ", ".join(f"{s:.1f}" for s in samples)
        print(
            f"  {mode:<44} {median:5.1f} ms CPU per operation ({runs}; "
            f"{(median / base - 1) * 100:+.0f}%), {kept[mode]} traces kept"
        )


if __name__ == "__main__":
    main()
