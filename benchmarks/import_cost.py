"""Import time of the deployed entrypoint, of libraries we chose not to ship, of the app
with each tracer, and of the app writing its first metric with each metrics library.

Each module is imported in a fresh interpreter (as on a Lambda cold start), several times;
the median wall time of the import is printed. Then the app's cold start with each tracer of
chalicelib/adapters/tracing.py: `app` imported and the tracer loaded (what the first traced
call does), in a fresh interpreter with the stage's TRACER; for OpenTelemetry, also what the
ADOT layer adds before the handler (the SDK's tracer provider and the botocore
instrumentation: a lower bound, the layer loads its distro and exporter too). Last, `app`
imported and one metric written as embedded metric format by our emitter
(chalicelib/adapters/metrics.py) and by Powertools' Metrics (where it is installed: PYTHONPATH
may name a directory it was installed into with `pip install --target`). Usage:

    .venv/bin/python benchmarks/import_cost.py [module ...]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script too (`python benchmarks/import_cost.py`): the project's packages are
# importable once its root is on the path, hence the import below it.
sys.path.insert(0, str(ROOT))

from infra.definition import app_name, metrics_environment  # noqa: E402

DEFAULT_MODULES = [
    "app",
    "boto3",
    "chalice",
    "aws_xray_sdk.core",
    "opentelemetry.trace",
    "opentelemetry.sdk.trace",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.metrics",
    "chalicelib.adapters.metrics",
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


# The app and its first metric (an accepted operation), as a cold start writes it: our emitter,
# or Powertools' Metrics (flushed as its log_metrics decorator flushes at the end of a handler).
# The output goes to /dev/null, so that only the number is printed.
METRIC = (
    "import os, sys, time; t = time.perf_counter(); import app; {emit}; "
    "d = time.perf_counter() - t; sys.stdout = sys.__stdout__; print(d)"
)
EMITTERS = {
    "our emitter (chalicelib/adapters/metrics.py)": (
        "from chalicelib import wiring; sys.stdout = open(os.devnull, 'w'); "
        "import logging; logging.basicConfig(stream=sys.stdout); "
        "wiring.metrics().operation_accepted()"
    ),
    "Powertools' Metrics": (
        "from aws_lambda_powertools import Metrics; "
        "from aws_lambda_powertools.metrics import MetricUnit; "
        f"m = Metrics(namespace={app_name()!r}, service={app_name()!r}); "
        "m.add_dimension(name='Stage', value='bench'); "
        "m.add_metric(name='OperationsAccepted', unit=MetricUnit.Count, value=1); "
        "sys.stdout = open(os.devnull, 'w'); m.flush_metrics()"
    ),
}
METRICS_ENVIRONMENT = metrics_environment("bench")


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
    print("the app's cold start with its first metric (import app, write one EMF line)")
    for label, emit in EMITTERS.items():
        seconds = _median(METRIC.format(emit=emit), {"TRACER": "off", **METRICS_ENVIRONMENT})
        print(f"  {label:<58} {_shown(seconds)}")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_MODULES)
