"""Seconds from a fresh clone to the first SUCCEEDED operation: `make first-success`.

Clones this repository (its committed HEAD) into a temporary directory, with empty pip and uv
caches of its own there, runs `make run` on free ports, creates one user as soon as the API
answers and polls GET /operations/{id} until the operation is done. Prints the phases:

  clone          git clone
  install        make: the venv, uv, and the run layer, until it starts `python -m local run`
  stack up       until the stack prints its banner (first imports compile the bytecode)
  first success  POST /users until GET /operations/{id} says SUCCEEDED

then stops the stack as Ctrl-C does and removes the directory. Standard library only: it runs
with the system's Python, before any venv exists.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from infra import cli  # the standard library only: this runs on the system's Python

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("clone", "install", "stack up", "first success", "total")
STARTS_STACK = "-m local run"  # the line make echoes when the install is done
STACK_UP = "Ctrl-C stops everything"  # the end of the stack's banner


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Make:
    """`make run` in its own process group, its output read line by line as it comes."""

    def __init__(self, clone: Path, env: dict[str, str], api_port: int, aws_port: int) -> None:
        self.process = subprocess.Popen(
            ["make", "run", f"ARGS=--api-port {api_port} --aws-port {aws_port}"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        self._seen: dict[str, threading.Event] = {STARTS_STACK: threading.Event()}
        self._seen[STACK_UP] = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            for marker, seen in self._seen.items():
                if marker in line:
                    seen.set()

    def wait_for(self, marker: str, timeout: float) -> float:
        """Waits until a line holding `marker` is printed; the moment it was seen."""
        deadline = time.monotonic() + timeout
        while not self._seen[marker].wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no {marker!r} from make run:\n" + "".join(self.output))
        return time.monotonic()

    def stop(self) -> int:
        """Ctrl-C to the whole process group, as a terminal sends it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait()
        self._reader.join(5)
        return code


def _request(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


def first_success(api: str, timeout: float = 30) -> None:
    operation = _request(f"{api}/users", {"email": "first@example.org", "name": "First"})
    deadline = time.monotonic() + timeout
    while not operation["done"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not done after {timeout} s: {operation}")
        time.sleep(0.01)
        operation = _request(f"{api}/operations/{operation['id']}")
    if operation["status"] != "SUCCEEDED":
        raise RuntimeError(f"the first operation did not succeed: {operation}")


def measure(repo: Path, keep: bool) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="first-success-"))
    clone = work / "clone"
    # A developer's shell (not this make's flags: `make -s` would hide the line that ends the
    # install), with cold caches: the installers' own, empty, in the temporary directory.
    inherited = ("AWS_", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env |= {"PIP_CACHE_DIR": str(work / "pip-cache"), "UV_CACHE_DIR": str(work / "uv-cache")}
    # The X-Ray daemon's and OTLP's ports: other stacks on this machine may hold the defaults.
    env |= {"XRAY_PORT": str(free_port(socket.SOCK_DGRAM)), "OTLP_PORT": str(free_port())}
    api_port, aws_port = free_port(), free_port()
    make: Make | None = None
    try:
        start = time.monotonic()
        subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
        cloned = time.monotonic()
        make = Make(clone, env, api_port, aws_port)
        installed = make.wait_for(STARTS_STACK, timeout=300)
        up = make.wait_for(STACK_UP, timeout=120)
        first_success(f"http://127.0.0.1:{api_port}")
        done = time.monotonic()
    finally:
        if make is not None:
            make.stop()
            output = "".join(make.output)
            if "\nstopped\n" not in output or "Traceback" in output:
                sys.stderr.write("make run did not stop cleanly:\n" + output)
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    times = (cloned - start, installed - cloned, up - installed, done - up, done - start)
    return dict(zip(PHASES, times, strict=True))


def main() -> int:
    parser = cli.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=cli.number(int), default=1, help="fresh clones one after another"
    )
    parser.add_argument("--repo", type=Path, default=ROOT, help="the repository to clone")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"clone of {args.repo} (HEAD), cold pip and uv caches"
    )
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(measure(args.repo, args.keep))
        print(f"run {number}: " + ", ".join(f"{p} {s:.1f} s" for p, s in runs[-1].items()))
    if len(runs) > 1:
        medians = {phase: statistics.median(run[phase] for run in runs) for phase in PHASES}
        print("median: " + ", ".join(f"{p} {s:.1f} s" for p, s in medians.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
