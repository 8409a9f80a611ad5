"""Soak: the local stack under sustained load, and its memory over time.

    .venv/bin/python benchmarks/soak.py [-n 10000] [-c 16] [--duration SECONDS] [--every 500]

Starts the local stack (`python -m local run`) in a subprocess on free ports and drives it
with the load generator (benchmarks/load.py) in rounds of --every operations, for -n
operations or --duration seconds. After each round it prints the stack's resident memory
(VmRSS in /proc/<pid>/status, so Linux only), its thread count and the round's operations
per second; then the same once the stack has been idle for --idle seconds. The summary gives
the RSS at operation --mark (2,000) and at the end, and checks the target: RSS under
400 MB throughout, and less than 50 MB of growth from operation 2,000 to the end. Exits 1 if
an operation did not succeed or the target is missed. Writes the series as JSON under
benchmarks/results/.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python benchmarks/soak.py`): the project's packages are importable only
# once its root is on the path, hence the imports below it.
sys.path.insert(0, str(ROOT))

from benchmarks.load import RESULTS, run, summarize  # noqa: E402
from infra import cli  # noqa: E402
from local.process.child import ChildStack, free_port  # noqa: E402

MAX_RSS_MB = 400.0
MAX_GROWTH_MB = 50.0


@dataclasses.dataclass(frozen=True)
class Sample:
    seconds: float  # since the load began
    operations: int  # completed so far
    rss_mb: float
    threads: int
    ops_per_s: float  # in the round that ended here (0 for samples taken idle)


@dataclasses.dataclass(frozen=True)
class Verdict:
    mark: int
    rss_at_mark: float | None
    rss_at_end: float
    peak: float
    growth: float | None  # from the mark to the end

    @property
    def met(self) -> bool:
        return self.peak < MAX_RSS_MB and self.growth is not None and self.growth < MAX_GROWTH_MB


def process_status(pid: int) -> tuple[float, int]:
    """Resident memory (MB) and thread count of a process, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def verdict(samples: list[Sample], mark: int) -> Verdict:
    """RSS at the first sample at or past `mark` operations, at the last sample under load,
    and the peak."""
    loaded = [s for s in samples if s.ops_per_s > 0] or samples
    at_mark = next((s.rss_mb for s in loaded if s.operations >= mark), None)
    end = loaded[-1].rss_mb
    return Verdict(
        mark=mark,
        rss_at_mark=at_mark,
        rss_at_end=end,
        peak=max(s.rss_mb for s in samples),
        growth=None if at_mark is None else end - at_mark,
    )


def _print(sample: Sample, label: str = "") -> None:
    rate = f"{sample.ops_per_s:6.1f} ops/s" if sample.ops_per_s else " " * 12
    print(
        f"{sample.seconds:8.1f} s  {sample.operations:7,d} ops  {rate}  "
        f"RSS {sample.rss_mb:7.1f} MB  {sample.threads:4d} threads  {label}",
        flush=True,
    )


def soak(stack: ChildStack, args: argparse.Namespace) -> tuple[list[Sample], dict[str, int]]:
    """Rounds of args.every operations for args.n operations or args.duration seconds."""
    pid = stack.process.pid
    rss, threads = process_status(pid)
    samples = [Sample(0.0, 0, rss, threads, 0.0)]
    _print(samples[0], "before the load")
    outcomes: dict[str, int] = {}
    began = time.monotonic()
    done = 0
    while (time.monotonic() - began < args.duration) if args.duration else done < args.n:
        count = args.every if args.duration else min(args.every, args.n - done)
        results, round_began = run(stack.api, count, args.c, 60.0, args.poll)
        summary = summarize(results, round_began)
        for kind, number in summary["outcomes"].items():
            outcomes[kind] = outcomes.get(kind, 0) + number
        done += count
        rss, threads = process_status(pid)
        sample = Sample(
            time.monotonic() - began, done, rss, threads, summary["throughput_ops_per_s"]
        )
        samples.append(sample)
        _print(sample)
    return samples, outcomes


def main() -> int:
    parser = cli.Parser(description=__doc__)
    count, seconds = cli.number(int), cli.number(float)
    parser.add_argument("-n", type=count, default=10_000, help="operations")
    parser.add_argument("-c", type=count, default=16, help="concurrent operations")
    parser.add_argument("--duration", type=seconds, help="seconds of load, instead of -n")
    parser.add_argument("--every", type=count, default=500, help="operations per round")
    parser.add_argument(
        "--mark", type=cli.number(int, zero=True), default=2_000, help="growth from here"
    )
    parser.add_argument(
        "--poll", type=seconds, default=None, help="seconds between GETs (default: Retry-After)"
    )
    parser.add_argument(
        "--idle", type=cli.number(float, zero=True), default=10.0, help="seconds idle at the end"
    )
    args = parser.parse_args()
    if args.duration is None and args.n <= args.mark:
        parser.error(
            f"-n {args.n} does not pass --mark {args.mark}, where the growth is measured "
            f"from: give more operations, or a lower --mark (make soak N= MARK=)"
        )

    stack = ChildStack(free_port(), free_port())
    try:
        stack.wait_until_up()
        samples, outcomes = soak(stack, args)
        time.sleep(args.idle)  # the janitor trims every 2 s: what stays once it has run
        rss, threads = process_status(stack.process.pid)
        idle = dataclasses.replace(
            samples[-1],
            seconds=samples[-1].seconds + args.idle,
            rss_mb=rss,
            threads=threads,
            ops_per_s=0.0,
        )
        samples.append(idle)
        _print(idle, f"after {args.idle:g} s idle")
    finally:
        try:
            stack.stop()
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()

    found = verdict(samples, args.mark)
    loaded = [s for s in samples if s.ops_per_s > 0]
    rate = loaded[-1].operations / loaded[-1].seconds if loaded else 0.0
    at_mark = "n/a" if found.rss_at_mark is None else f"{found.rss_at_mark:.0f} MB"
    growth = "n/a" if found.growth is None else f"{found.growth:+.0f} MB"
    print(
        f"summary: RSS {at_mark} at operation {found.mark:,}, {found.rss_at_end:.0f} MB at "
        f"operation {samples[-1].operations:,} ({growth}), peak {found.peak:.0f} MB; "
        f"{rate:.1f} operations/s at concurrency {args.c}; outcomes {outcomes}; target "
        f"(RSS < {MAX_RSS_MB:.0f} MB, growth < {MAX_GROWTH_MB:.0f} MB): "
        f"{'met' if found.met else 'MISSED'}"
    )
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"soak-n{samples[-1].operations}-c{args.c}.json"
    path.write_text(
        json.dumps(
            {
                "samples": [dataclasses.asdict(s) for s in samples],
                "verdict": dataclasses.asdict(found) | {"met": found.met},
                "outcomes": outcomes,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {path}", file=sys.stderr)
    succeeded = outcomes.get("SUCCEEDED", 0) == samples[-1].operations
    return 0 if succeeded and found.met else 1


if __name__ == "__main__":
    sys.exit(main())
