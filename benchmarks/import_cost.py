"""Import time of the deployed entrypoint, of libraries we chose not to ship, and of the app
with each tracer.

Each module is imported in a fresh interpreter (as on a Lambda cold start), several times;
the median wall time of the import is printed. Then the app's cold start with each tracer of
chalicelib/adapters/tracing.py: `app` imported and the tracer loaded (what the first traced
call does), in a fresh interpreter with the stage's TRACER; for OpenTelemetry, also what the
ADOT layer adds before the handler (the SDK's tracer provider and the botocore
instrumentation: a lower bound, the layer loads its distro and exporter too). Usage:

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
    "opentelemetry.trace",
    "opentelemetry.sdk.trace",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.utilities.batch",
    "pydantic",
]
RUNS = 7
PROBE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({name!r}); "
    "print(time.perf_counter() - t)"
)
# The app and its tracer, loaded as a cold start loads them (the tracer on the first traced call).
TRACED = (
    "import time; t = time.perf_counter(); import app; from chalicelib.adapters import tracing; "
    "tracing.active(); {layer}print(time.perf_counter() - t)"
)
ADOT_LAYER = (
    "from opentelemetry import trace; from opentelemetry.sdk.trace import TracerProvider; "
    "from opentelemetry.instrumentation.botocore import BotocoreInstrumentor; "
    "trace.set_tracer_provider(TracerProvider()); BotocoreInstrumentor().instrument(); "
)
TRACERS = {
    "off": ({"TRACER": "off"}, ""),
    "xray (X-Ray SDK, botocore patched)": (
        {"TRACER": "xray", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"},
        "",
    ),
    "otel (the app's side: the API)": ({"TRACER": "otel"}, ""),
    "otel + the ADOT layer's SDK and botocore instrumentation": ({"TRACER": "otel"}, ADOT_LAYER),
}


def _median(code: str, extra_env: dict[str, str] | None = None) -> float | None:
    env = {
        **os.environ,
        "EVENT_STREAM": "bench",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        **(extra_env or {}),
    }
    samples = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", code],
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


def import_seconds(module: str) -> float | None:
    return _median(PROBE.format(name=module))


def _shown(seconds: float | None) -> str:
    return "not installed" if seconds is None else f"{seconds * 1000:7.1f} ms"


def main(modules: list[str]) -> None:
    print(f"python {sys.version.split()[0]}, median of {RUNS} fresh interpreters")
    for module in modules:
        print(f"  {module:<58} {_shown(import_seconds(module))}")
    print("the app's cold start with each tracer (import app, load the tracer)")
    for label, (env, layer) in TRACERS.items():
        print(f"  {label:<58} {_shown(_median(TRACED.format(layer=layer), env))}")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_MODULES)
