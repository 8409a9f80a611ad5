"""What a feature costs the local engine, in CPU milliseconds per operation of the whole pipeline
in process (the tests' stack: API → stream → starter → workflow). CPU time, not operations per
second: it holds on a machine shared with other work. The harness of benchmarks/trace_cost.py
and benchmarks/metrics_cost.py: each mode runs in a fresh interpreter (this module's `child`),
the modes interleaved round after round, and the medians are printed against a base mode.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.test import Client

    from local.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 20  # operations before the measure starts
DRAIN_EVERY = 20  # operations posted between two drains of the pipeline


@dataclass(frozen=True)
class Mode:
    """One way to run the child: its arguments after the script, its checkout, its
    environment's additions."""

    args: tuple[str, ...]
    root: Path = ROOT
    env: Mapping[str, str] = field(default_factory=dict)


@contextmanager
def stack(
    *, trace_all: bool = False, unset: tuple[str, ...] = ()
) -> Iterator[tuple[Emulator, Client]]:
    """In this interpreter (its working directory the checkout measured): the app on the
    emulator in process, as the tests run it, and Chalice's test client; `unset` names
    variables of the stage's environment left out."""
    sys.path.insert(0, os.getcwd())
    from infra.definition import stage_environment

    os.environ.update(
        AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.update(stage_environment("test"))
    for name in ("AWS_ENDPOINT_URL", *unset):
        os.environ.pop(name, None)
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
            app, "test", session, clock=Clock(skip_sleeps=True), trace_all=trace_all
        )
        with emulator.running(), Client(app, stage_name="test") as client:
            yield emulator, client


def cpu_ms_per_operation(
    total: int, post: Callable[[int], None], drain: Callable[[], None]
) -> float:
    """CPU milliseconds per operation over `total` posted after a warm-up, drained as they go."""
    for n in range(WARM_UP):
        post(n)
    drain()
    began = time.process_time()
    for n in range(WARM_UP, WARM_UP + total):
        post(n)
        if n % DRAIN_EVERY == 0:
            drain()
    drain()
    return (time.process_time() - began) / total * 1000


def sign_up(n: int) -> str:
    """The body of the n-th sign-up."""
    return json.dumps({"email": f"u{n}@example.org", "name": "A"})


def interleaved(
    script: str, total: int, rounds: int, modes: Mapping[str, Mode]
) -> dict[str, list[dict[str, Any]]]:
    """Each mode's measurements (the JSON its child prints last), round after round."""
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for _ in range(rounds):
        for name, mode in modes.items():
            done = subprocess.run(
                [
                    sys.executable,
                    str(Path(script).resolve()),
                    "-n",
                    str(total),
                    "--child",
                    *mode.args,
                ],
                cwd=mode.root,
                env={**os.environ, **mode.env},
                capture_output=True,
                text=True,
                check=True,
            )
            results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def report(
    results: Mapping[str, list[dict[str, Any]]],
    total: int,
    base: str,
    kept: Callable[[dict[str, Any]], str],
) -> None:
    """The median CPU per operation of each mode, its runs, against the base mode's, and what
    the last run kept (`kept` words it)."""
    rounds = len(next(iter(results.values())))
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, n={total}, rounds={rounds}")
    medians = {mode: statistics.median(r["cpu_ms"] for r in runs) for mode, runs in results.items()}
    for mode, runs in results.items():
        samples = ", ".join(f"{r['cpu_ms']:.1f}" for r in runs)
        change = (medians[mode] / medians[base] - 1) * 100
        print(
            f"  {mode:<44} {medians[mode]:5.1f} ms CPU per operation ({samples}; "
            f"{change:+.0f}%), {kept(runs[-1])}"
        )
