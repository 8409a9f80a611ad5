"""What the local console's live updates cost the stack: one open page polls its list every
2 s (the system page its data every 3 s); each poll is a conditional GET.

    .venv/bin/python -m benchmarks.console_poll [--url http://127.0.0.1:8000] [--polls 40]

Against a running stack (fill it first, e.g. `make load N=1000 C=8`). Prints, per endpoint,
the server's answer time (median and p95 over --polls requests, one at a time) and the bytes
on the wire, for a first GET and for a poll while nothing changed (304), and what that makes
per minute of an open page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import requests

from benchmarks.load import check_answers
from infra import cli

# How often an open page asks (local/console/static/app.js).
POLL_SECONDS = {"/_local/api/executions": 2, "/_local/api/system": 3}


def _measure(session: requests.Session, url: str, polls: int) -> dict[str, float]:
    first = session.get(url, timeout=30)
    first.raise_for_status()
    etag = first.headers["ETag"]
    full, conditional = [], []
    for _ in range(polls):
        started = time.perf_counter()
        session.get(url, timeout=30).raise_for_status()
        full.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        answer = session.get(url, headers={"If-None-Match": etag}, timeout=30)
        conditional.append((time.perf_counter() - started) * 1000)
        if answer.status_code == 200:  # it changed meanwhile: poll against the new version
            etag = answer.headers["ETag"]
    return {
        "body_bytes": len(first.content),
        "full_p50": statistics.median(full),
        "full_p95": statistics.quantiles(full, n=20)[-1],
        "poll_p50": statistics.median(conditional),
        "poll_p95": statistics.quantiles(conditional, n=20)[-1],
    }


def main() -> int:
    parser = cli.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--polls", type=cli.number(int), default=40)
    args = parser.parse_args()
    return cli.run(lambda: measure(args))


def measure(args: argparse.Namespace) -> int:
    check_answers(args.url)
    session = requests.Session()
    listing = session.get(f"{args.url}/_local/api/executions", timeout=30).json()
    print(f"executions in the state machine: {listing['total']}")
    print(
        f"{'endpoint':<28} {'body':>9} {'GET p50':>9} {'GET p95':>9} {'304 p50':>9} "
        f"{'304 p95':>9} {'server ms/min':>14}"
    )
    for path in ("/_local/api/executions", "/_local/api/system"):
        figures = _measure(session, f"{args.url}{path}", args.polls)
        per_minute = figures["poll_p50"] * 60 / POLL_SECONDS[path]
        print(
            f"{path:<28} {figures['body_bytes']:>8}B {figures['full_p50']:>7.1f}ms "
            f"{figures['full_p95']:>7.1f}ms {figures['poll_p50']:>7.1f}ms "
            f"{figures['poll_p95']:>7.1f}ms {per_minute:>12.0f}ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
