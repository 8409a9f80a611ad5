"""Checkouts' local stacks side by side, driven at the same time as `make bench` drives the
pipeline, so that they share the machine's load: on a machine shared with other work, where
runs taken one after the other differ by a third, the one A/B comparison over HTTP that holds.

    .venv/bin/python -m benchmarks.side_by_side [-n 300] [-c 8] [--rounds 3] [--poll 0.05] \\
        CHECKOUT [CHECKOUT ...]

Each CHECKOUT (this one is `.`) runs `python -m local run` from its own directory and .venv
(`git worktree add /tmp/base <commit>`, then `make venv` there). Every round drives all the
stacks at once, each with its own load generator (`c` clients, each polling its operation
every `poll` seconds, as make bench's do), and prints per stack: the stack process's CPU time
per operation (/proc/<pid>/stat: every thread, the clients' polls included), operations per
second, the p50 accepted-to-done time, and the API requests per operation (1 POST, the rest
polls: the longer an operation takes, the more it is polled). Then the median of each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
from pathlib import Path

from benchmarks.load import _metrics, per_operation, run, summarize
from infra import cli
from local.process.child import ChildStack, free_port

FIELDS = ("cpu_ms", "per_s", "p50_ms", "requests")


def _cpu_seconds(pid: int) -> float:
    """The process's user and system time so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(stack: ChildStack, total: int, concurrency: int, poll: float) -> dict[str, float]:
    before, cpu = _metrics(stack.api), _cpu_seconds(stack.process.pid)
    outcomes, began = run(stack.api, total, concurrency, 60, poll)
    spent = _cpu_seconds(stack.process.pid) - cpu
    summary = summarize(outcomes, began)
    if summary["outcomes"] != {"SUCCEEDED": total}:
        raise RuntimeError(f"not every operation succeeded: {summary['outcomes']}")
    after = _metrics(stack.api)
    assert before is not None and after is not None
    requests = per_operation(before, after, total)["api_requests"]
    return {
        "cpu_ms": spent / total * 1000,
        "per_s": summary["throughput_ops_per_s"],
        "p50_ms": summary["latency_ms"]["p50"],
        "requests": sum(requests.values()),
    }


def _line(name: str, result: dict[str, float]) -> str:
    return (
        f"  {name:<28} {result['cpu_ms']:6.1f} ms CPU per operation  {result['per_s']:5.1f} "
        f"operations/s  p50 {result['p50_ms']:6.1f} ms  {result['requests']:4.1f} requests"
    )


def main() -> None:
    parser = cli.Parser(description=__doc__)
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("-n", type=cli.number(int), default=300)
    parser.add_argument("-c", type=cli.number(int), default=8)
    parser.add_argument("--rounds", type=cli.number(int), default=3)
    parser.add_argument("--poll", type=cli.number(float), default=0.05)
    args = parser.parse_args()
    roots = [checkout.resolve() for checkout in args.checkouts]
    for root in roots:
        if not (root / ".venv" / "bin" / "python").exists():
            parser.error(f"{root}: no .venv (make venv there)")
    stacks = {str(root): ChildStack(free_port(), free_port(), root=root) for root in roots}
    try:
        for stack in stacks.values():
            stack.wait_until_up()
            run(stack.api, 20, 1, 60, 0.02)  # warm-up
        print(f"{os.cpu_count()} CPUs, n={args.n}, c={args.c}, poll every {args.poll:g} s")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in stacks}
        failures: list[str] = []

        def drive(name: str) -> None:
            try:
                results[name].append(measure(stacks[name], args.n, args.c, args.poll))
            except Exception as error:  # said after the round, which the others finish
                failures.append(f"{name}: {error!r}")

        for round_ in range(1, args.rounds + 1):
            threads = [threading.Thread(target=drive, args=(name,)) for name in stacks]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if failures:
                raise SystemExit("\n".join(failures))
            print(f"round {round_} (load average {os.getloadavg()[0]:.1f}):")
            for name, rounds in results.items():
                print(_line(name, rounds[-1]))
        print("medians:")
        for name, rounds in results.items():
            print(_line(name, {f: statistics.median(r[f] for r in rounds) for f in FIELDS}))
    finally:
        for stack in stacks.values():
            try:
                stack.stop()
            except subprocess.TimeoutExpired:
                stack.process.kill()
                stack.process.wait()


if __name__ == "__main__":
    main()
