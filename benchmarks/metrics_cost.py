"""What the metrics cost the local engine: CPU milliseconds per operation of the whole pipeline
in process (benchmarks/cpu_cost.py), with the app's logging as `make run` has it (the JSON
lines to a stream, the console's log book), untraced: with the metrics written (EMF lines,
read into the emulator's series store) and without (no METRICS_NAMESPACE: nothing written).

    .venv/bin/python benchmarks/metrics_cost.py [-n 300] [--rounds 3] [--root DIR]

--root runs the same pipeline from another checkout (say, the commit before the metrics) as a
third mode: this script and its harness, that checkout's app and engine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.cpu_cost import Mode, cpu_ms_per_operation, interleaved, report, sign_up, stack


def measure(total: int, metrics: bool) -> dict[str, float]:
    """In this interpreter (its working directory the checkout measured): CPU ms per operation,
    and the series the emulator's store keeps."""
    import logging

    sys.path.insert(0, os.getcwd())  # the checkout measured (--root): none of this one's local/
    from local.console.logbook import LogBook

    # As `make run` logs: every line to a stream (here, nowhere), and into the log book.
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))  # noqa: SIM115
    LogBook.install()
    with stack(unset=() if metrics else ("METRICS_NAMESPACE",)) as (emulator, client):
        emulator.segments.sampler.sample = lambda: False  # type: ignore[method-assign]

        def post(n: int) -> None:
            answer = client.http.post(
                "/users", headers={"Content-Type": "application/json"}, body=sign_up(n)
            )
            assert answer.status_code == 202, answer.body

        cpu_ms = cpu_ms_per_operation(total, post, emulator.drain)
        series = getattr(emulator, "metric_series", None)
        return {"cpu_ms": cpu_ms, "series": len(series.series()) if series is not None else 0}


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
    untraced = {"TRACER": "off"}
    modes = {
        "metrics written": Mode(("on",), env=untraced),
        "no metrics namespace": Mode(("off",), env=untraced),
    }
    if args.root:
        modes[f"{args.root}"] = Mode(("on",), args.root.resolve(), untraced)
    results = interleaved(__file__, args.n, args.rounds, modes)
    report(results, args.n, "no metrics namespace", lambda last: f"{last['series']} series kept")


if __name__ == "__main__":
    main()
