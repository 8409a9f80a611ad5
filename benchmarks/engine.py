"""Our whole pipeline beside bare moto, measured in one run on this machine.

    .venv/bin/python -m benchmarks.engine [-n 200] [-c 8]

bare moto: stock moto (none of local/'s speed-ups), a state machine of four sequential
  Lambda tasks whose handlers return at once (run in process: moto's own runner needs
  Docker), executions started at concurrency c; prints the median execution time and the
  executions completed per second.
pipeline: the local stack (`make run`) in a subprocess, driven over HTTP by the load
  generator: POST → DynamoDB → Kinesis → starter → the real workflow (four tasks, six
  DynamoDB writes and reads) → status → GET; prints operations per second and the p50
  accepted-to-done time, at concurrency 1 (latency) and c (throughput).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bare_moto(total: int, concurrency: int) -> dict[str, float]:
    import boto3
    from moto import mock_aws

    from infra.definition import LAMBDA_RUNTIME
    from local.aws.lambda_runtime import FunctionSpec, InProcessLambdas
    from local.aws.provision import function_zip
    from local.emulator import EMULATOR_CONFIG
    from local.patches import registry
    from local.patches.hooks import Hooks

    os.environ.update(
        AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    runtime = InProcessLambdas()
    # Only the Invoke API hook, through the registry: Step Functions takes moto's own path to
    # Lambda, with none of local/'s speed-ups.
    with (
        mock_aws(config=EMULATOR_CONFIG),
        registry.applied(Hooks(lambdas=runtime), ["in-process-lambdas"]),
    ):
        lambda_ = boto3.client("lambda")
        role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        arn = lambda_.create_function(
            FunctionName="noop",
            Runtime=LAMBDA_RUNTIME,
            Role=role["Role"]["Arn"],
            Handler="app.noop",
            Code={"ZipFile": function_zip()},
        )["FunctionArn"]
        runtime.register("noop", FunctionSpec(lambda event, context: event, arn, 128, 60))
        task: dict[str, Any] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": arn, "Payload.$": "$"},
            "ResultSelector": {"value.$": "$.Payload"},
            "ResultPath": "$.last",
        }
        names = ["One", "Two", "Three", "Four"]
        states: dict[str, Any] = {n: {**task, "Next": m} for n, m in itertools.pairwise(names)}
        states["Four"] = {**task, "End": True}
        sfn = boto3.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="bare",
            definition=json.dumps({"StartAt": "One", "States": states}),
            roleArn=role["Role"]["Arn"],
        )["stateMachineArn"]
        return _drive(sfn, machine, total, concurrency)


def _drive(sfn: object, machine: str, total: int, concurrency: int) -> dict[str, float]:
    durations: list[float] = []
    lock = threading.Lock()
    remaining = iter(range(total))

    def worker() -> None:
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            started = time.monotonic()
            arn = sfn.start_execution(  # type: ignore[attr-defined]
                stateMachineArn=machine, name=uuid.uuid4().hex, input="{}"
            )["executionArn"]
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":  # type: ignore[attr-defined]
                time.sleep(0.005)
            with lock:
                durations.append((time.monotonic() - started) * 1000)

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    return {"per_s": round(total / elapsed, 1), "p50_ms": round(statistics.median(durations), 1)}


def pipeline(total: int, concurrency: int) -> dict[str, dict[str, float]]:
    from benchmarks.load import run, summarize
    from local.process.child import free_port

    api_port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    stack = subprocess.Popen(
        [sys.executable, "-m", "local", "run", "--api-port", str(api_port),
         "--aws-port", str(aws_port), "--xray-port", str(free_port(socket.SOCK_DGRAM)),
         "--otlp-port", str(free_port())],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert stack.stdout is not None
        for line in stack.stdout:
            if "Ctrl-C stops everything" in line:
                break
        threading.Thread(target=stack.stdout.read, daemon=True).start()  # keep the pipe drained
        url = f"http://127.0.0.1:{api_port}"
        run(url, 20, 1, 60, 0.02)  # warm-up
        results = {}
        for label, count, parallel in (
            ("c=1", max(50, total // 4), 1),
            (f"c={concurrency}", total, concurrency),
        ):
            outcomes, began = run(url, count, parallel, 60, 0.05)
            summary = summarize(outcomes, began)
            results[label] = {
                "per_s": summary["throughput_ops_per_s"],
                "p50_ms": summary["latency_ms"]["p50"],
            }
        return results
    finally:
        stack.terminate()
        stack.wait(timeout=30)


def main() -> None:
    from infra import cli

    parser = cli.Parser(description=__doc__)
    parser.add_argument("-n", type=cli.number(int), default=200)
    parser.add_argument("-c", type=cli.number(int), default=8)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, n={args.n}, c={args.c}")
    for concurrency in (1, args.c):
        count = args.n if concurrency > 1 else max(50, args.n // 4)
        bare = bare_moto(count, concurrency)
        print(
            f"bare moto, 4-task executions, c={concurrency:<2}: {bare['per_s']:6.1f} executions/s"
            f"   p50 {bare['p50_ms']:6.1f} ms"
        )
    for label, result in pipeline(args.n, args.c).items():
        print(
            f"our pipeline over HTTP,       {label:<4}: {result['per_s']:6.1f} operations/s"
            f"   p50 {result['p50_ms']:6.1f} ms"
        )


if __name__ == "__main__":
    main()
