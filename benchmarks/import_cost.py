"""Import time of the deployed entrypoint and of libraries we chose not to ship.

Each module is imported in a fresh interpreter (as on a Lambda cold start), several times;
the median wall time of the import is printed. Usage:

    .venv/bin/python benchmarks/import_cost.py [module ...]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODULES = [
    "app",
    "boto3",
    "chalice",
    "aws_xray_sdk.core",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.utilities.batch",
    "pydantic",
]
RUNS = 7
PROBE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({name!r}); "
    "print(time.perf_counter() - t)"
)


def import_seconds(module: str) -> float | None:
    env = {**os.environ, "EVENT_STREAM": "bench", "PYTHONDONTWRITEBYTECODE": "1"}
    samples = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", PROBE.format(name=module)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return None
        samples.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def main(modules: list[str]) -> None:
    print(f"python {sys.version.split()[0]}, median of {RUNS} fresh interpreters")
    for module in modules:
        seconds = import_seconds(module)
        shown = "not installed" if seconds is None else f"{seconds * 1000:7.1f} ms"
        print(f"  {module:<42} {shown}")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_MODULES)
