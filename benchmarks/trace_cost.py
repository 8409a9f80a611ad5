"""What tracing costs the local engine: CPU milliseconds per operation of the whole pipeline in
process (benchmarks/cpu_cost.py), untraced, sampled as X-Ray's default rule samples, and with
every operation traced by each tracer.

    .venv/bin/python benchmarks/trace_cost.py [-n 300] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cpu_cost import Mode, cpu_ms_per_operation, interleaved, report, sign_up, stack

# mode -> (TRACER, sampling: "never" | "default" | "every")
MODES = {
    "untraced": ("off", "never"),
    "sampled (X-Ray's default rule), X-Ray SDK": ("xray", "default"),
    "every operation, X-Ray SDK": ("xray", "every"),
    "every operation, OpenTelemetry": ("otel", "every"),
}


def measure(total: int, sampling: str) -> dict[str, float]:
    """In this interpreter: CPU ms per operation, and the traces kept."""
    import logging

    logging.disable(logging.CRITICAL)
    with stack(trace_all=sampling == "every") as (emulator, client):
        if sampling == "never":
            emulator.segments.sampler.sample = lambda: False  # type: ignore[method-assign]

        def post(n: int) -> None:
            with emulator.api_request("POST", "/users", None) as request:
                with emulator.api_function(request):
                    answer = client.http.post(
                        "/users", headers={"Content-Type": "application/json"}, body=sign_up(n)
                    )
                request.status = answer.status_code

        cpu_ms = cpu_ms_per_operation(total, post, emulator.drain)
        return {"cpu_ms": cpu_ms, "traces": len(emulator.traces)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.n, args.child[1])))
        return
    modes = {
        name: Mode((tracer, sampling), env={"TRACER": tracer})
        for name, (tracer, sampling) in MODES.items()
    }
    results = interleaved(__file__, args.n, args.rounds, modes)
    report(results, args.n, "untraced", lambda last: f"{last['traces']} traces kept")


if __name__ == "__main__":
    main()
