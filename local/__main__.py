"""python -m local run | demo | executions [OPERATION_ID]"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from local.process.options import Options
    from local.process.run import Run

    options = Options(
        host=args.host,
        api_port=args.api_port,
        aws_port=args.aws_port,
        xray_port=args.xray_port,
        otlp_port=args.otlp_port,
        region=args.region,
        stage=args.stage,
        keep_executions=args.keep_executions,
        keep_traces=args.keep_traces,
        trace_all=args.trace_all,
        verbose=args.verbose,
        state=args.state,
        speed=args.speed,
    )
    stack = Run(options)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        stack.start()
    except Exception as error:
        if not _refused(error):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(stack.banner(), flush=True)
    while not stopping.wait(0.05):  # a timed wait lets the signal handler run promptly
        pass
    print("stopping...", file=sys.stderr, flush=True)
    stack.stop()
    print("stopped", file=sys.stderr, flush=True)
    return 0


def _refused(error: Exception) -> bool:
    """Whether the start was refused for a reason said in one line. A busy port or a state
    file in use is found before moto is loaded, and so is told without loading it (the
    patch registry, and moto with it, is imported only for an error that is none of these:
    0.95 s of CPU for a refused start)."""
    from local.aws.reviewers import WeakPassword
    from local.process.options import PortBusy
    from local.state.persistence import StateInUse, StateMismatch

    if isinstance(error, PortBusy | StateInUse | StateMismatch | WeakPassword):
        return True
    from local.patches.registry import PatchMismatch

    return isinstance(error, PatchMismatch)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the whole system in the foreground")
    run.add_argument("--host", default=os.environ.get("LOCAL_HOST", "127.0.0.1"))
    run.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    run.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", "4566")))
    run.add_argument(
        "--xray-port",
        type=int,
        default=int(os.environ.get("XRAY_PORT", "2000")),
        help="the X-Ray daemon's UDP port (default 2000)",
    )
    run.add_argument(
        "--otlp-port",
        type=int,
        default=int(os.environ.get("OTLP_PORT", "4318")),
        help="OTLP/HTTP's port, for spans (default 4318)",
    )
    run.add_argument("--region", default=os.environ.get("LOCAL_REGION", "us-east-1"))
    run.add_argument("--stage", default="local")
    run.add_argument("--keep-executions", type=int, default=1000)
    run.add_argument("--keep-traces", type=int, default=1000, help="X-Ray traces kept")
    run.add_argument(
        "--trace-all",
        action="store_true",
        default=os.environ.get("TRACE_ALL") == "1",
        help="trace every request (default: as X-Ray's default sampling rule, the first "
        "each second and 5%% of the rest)",
    )
    run.add_argument("--verbose", action="store_true", help="emulator and access logs too")
    run.add_argument(
        "--state",
        type=Path,
        help="keep the tables in this file across restarts (default: in memory only)",
    )
    run.add_argument(
        "--speed",
        type=_positive,
        default=float(os.environ.get("LOCAL_SPEED", "1")),
        help="emulated seconds per real second: retries, Wait states, timeouts and the "
        "sweeper's schedule run this much faster (default 1, real time)",
    )
    api = os.environ.get("API_URL", "http://127.0.0.1:8000")
    demo = commands.add_parser("demo", help="create a few users and show their journeys")
    demo.add_argument("--api", default=api)
    executions = commands.add_parser("executions", help="list executions, or show one")
    executions.add_argument("operation_id", nargs="?")
    executions.add_argument("--api", default=api)
    args = parser.parse_args()
    if args.command == "run":
        return _run(args)
    from local.terminal import client

    if args.command == "demo":
        return client.demo(args.api)
    return client.executions(args.api, args.operation_id)


if __name__ == "__main__":
    sys.exit(main())
