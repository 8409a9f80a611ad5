"""Cost and capacity, from per-operation counts measured on a local run.

    .venv/bin/python -m benchmarks.model cost     [--counts FILE] [--polls 2]
    .venv/bin/python -m benchmarks.model capacity --rate 2000/s [--counts FILE]

The counts come from a load run against the local stack (benchmarks/load.py writes them
under "per_operation"): Lambda invocations, AWS calls by action and API requests per
operation. State transitions, the bulk of a Standard workflow's bill, come from the state
machine's definition instead (the states a successful operation passes), so that a change to
the ASL shows in the bill without a new load run; the end-to-end tests check that executions
pass exactly those states. Prices live in benchmarks/prices.json, with their date and source.
What the emulator cannot measure is an explicit, printed assumption (Lambda durations on
AWS, the client's polling).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from infra import cli
from infra.cli import CommandError
from infra.definition import ROOT, workflow_definition

HERE = Path(__file__).resolve().parent
# The load run docs/performance.md reports (`make load N=2000 C=32` on the local stack).
DEFAULT_COUNTS = ROOT / "docs" / "measured" / "load-n2000-c32.json"
SECONDS_PER_MONTH = 30 * 24 * 3600

# Assumptions (not measurable locally), printed with every result.
ASSUMED = {
    "lambda_memory_gb": 0.5,
    "lambda_ms_per_invocation": 40,  # a few DynamoDB calls at AWS latencies
    "express_ms_per_execution": 250,  # four tasks and two writes at AWS latencies
    "express_memory_gb": 0.064,  # billed in 64 MB steps
    "starter_ms_per_record": 30,  # conditional UpdateItem + StartExecution
    "api_handler_ms": 25,
}
# DynamoDB units per call of this workload (items < 1 KB): a transactional write costs two
# units per item; writes that add, change or drop the sparse in-flight index entry also
# write the index (one unit, two when the key changes).
WRITE_UNITS = {"PutItem": 2, "UpdateItem": 2, "DeleteItem": 1, "TransactWriteItems": 4}
READ_UNITS = {"GetItem": 1, "Query": 1}

# The archive, measured on the local stack (`make run`; `benchmarks/load.py -n 400 -c 8`; the
# archive's objects read back, docs/operators.md, "Archive, replay, redrive"): an event is
# 183 bytes on the stream; gzipped, 44 bytes in the emulator's 1-second buffers (~11 events an
# object) and 31 bytes when one object holds all 400, as AWS's 60-300 s buffers do.
ARCHIVE = {"event_bytes": 183, "stored_bytes_per_event": 31, "buffer_seconds": 300}
GIB = 2**30
FIREHOSE_MAX_OBJECT_BYTES = 5 * 2**20  # the delivery stream's SizeInMBs
# Who reads each shard of the event stream, in GetRecords calls per second: Lambda's mapping
# polls a shard once a second (ParallelizationFactor only splits what it read), and so does
# Firehose. A shard serves 5 calls and 2 MB per second to all of them together.
STREAM_READERS = {"starter mapping": 1, "Firehose": 1}
SHARD_READS_PER_SECOND = 5
SHARD_READ_KB_PER_SECOND = 2048

# What a human review adds to an operation (docs/contributors.md, "Human review, inside"), as
# tests/e2e/test_human_review.py counts it: the states of its detour (review_transitions(),
# from the definition), two more step invocations (user_review_request, user-approve again)
# and the decision's API request, which runs the API handler once more. While the execution
# waits for the person, nothing runs and nothing is billed: Standard bills state
# transitions, not time.
REVIEW_EXTRA = {"lambda_invocations": 3, "api_requests": 1}

# Service quotas (defaults, us-east-1) that a rate runs into.
QUOTAS = {
    "Step Functions Standard StartExecution refill (per s)": 300,
    "Step Functions Standard state transitions refill (per s)": 1500,
    "Step Functions Express StartExecution (per s)": 6000,
    "Lambda concurrent executions (account)": 1000,
    "API Gateway requests (per s, account)": 10000,
    "DynamoDB on-demand table throughput (write units per s)": 40000,
    "Kinesis GetRecords per shard (per s)": SHARD_READS_PER_SECOND,
    "Kinesis reads per shard (KB per s)": SHARD_READ_KB_PER_SECOND,
}


def load_counts(path: Path) -> dict[str, Any]:
    """The load run's counts per operation, with the current definition's state transitions."""
    try:
        result = json.loads(path.read_text())
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    except ValueError:
        raise CommandError(f"{path} is not the JSON of a load run (benchmarks/load.py)") from None
    if not isinstance(result, dict) or "per_operation" not in result:
        raise CommandError(
            f"{path} has no per_operation counts: run benchmarks/load.py on the local stack"
        )
    path_taken = success_path(workflow_definition())
    return {**result["per_operation"], "state_transitions": float(len(path_taken))}


def success_path(definition: dict[str, Any]) -> list[str]:
    """The states a successful operation passes (a refused one too: a refusal is an outcome the
    steps pass on), each one paid transition on Standard."""
    return workflow_path(definition)


def workflow_path(
    definition: dict[str, Any], *, reviewed: bool = False, broken_at: str | None = None
) -> list[str]:
    """The states an execution enters, in order: from StartAt along each state's Next to the
    end. A Choice is left by its Default (the case with no detour) or, `reviewed`, by its rule
    that leads to a callback task (.waitForTaskToken: the wait for a person), where it has
    one. `broken_at`: that state is left by its Catch of States.ALL (a step that broke after
    its retries), and the path goes on from there along Next."""
    states = definition["States"]
    path: list[str] = []
    name: str | None = definition["StartAt"]
    while name is not None:
        if name in path:
            raise ValueError(f"the path loops at {name}")
        path.append(name)
        state = states[name]
        if name == broken_at:
            name = next(c["Next"] for c in state["Catch"] if "States.ALL" in c["ErrorEquals"])
        elif state["Type"] == "Choice":
            waits = [r["Next"] for r in state["Choices"] if _callback(states[r["Next"]])]
            name = waits[0] if reviewed and waits else state.get("Default")
        else:
            name = state.get("Next")
    if broken_at is not None and broken_at not in path:
        raise ValueError(f"{broken_at} is not on the path")
    return path


def _callback(state: dict[str, Any]) -> bool:
    return str(state.get("Resource", "")).endswith(".waitForTaskToken")


def broken_paths(definition: dict[str, Any]) -> dict[str, list[str]]:
    """Per state that catches a broken step (States.ALL), the path of an operation whose step
    broke there."""
    plain = success_path(definition)
    return {
        name: workflow_path(definition, reviewed=name not in plain, broken_at=name)
        for name in workflow_path(definition, reviewed=True)
        if any(
            "States.ALL" in c["ErrorEquals"] for c in definition["States"][name].get("Catch", [])
        )
    }


def review_transitions(definition: dict[str, Any]) -> int:
    """The state transitions a human review adds to an operation."""
    return len(workflow_path(definition, reviewed=True)) - len(success_path(definition))


def service_counts(per_op: dict[str, Any], polls: float) -> dict[str, float]:
    """What one operation costs on AWS, from what the local run measured.

    The load generator's own GETs are replaced by `polls` GETs (a client honouring
    Retry-After), and each GET's GetItem with them.
    """
    calls = per_op["aws_calls"]
    measured_gets = per_op["api_requests"].get("GET", 0.0)
    step_invocations = {
        k: v for k, v in per_op["lambda_invocations"].items() if not k.endswith("-sweeper")
    }
    return {
        "api_requests": 1 + polls,
        "lambda_invocations": sum(step_invocations.values()) + 1 + polls,  # + the API's
        "write_units": sum(calls.get(f"dynamodb.{a}", 0) * u for a, u in WRITE_UNITS.items()),
        "read_units": sum(calls.get(f"dynamodb.{a}", 0) * u for a, u in READ_UNITS.items())
        - measured_gets
        + polls,
        "kinesis_puts": calls.get("kinesis.PutRecord", 0.0),
        "state_transitions": per_op["state_transitions"],
        "starter_invocations": per_op["lambda_invocations"].get(
            next((k for k in per_op["lambda_invocations"] if k.endswith("-starter")), ""), 0.0
        ),
    }


def cost_per_million(
    counts: dict[str, float], prices: dict[str, Any]
) -> dict[str, dict[str, float]]:
    gb_seconds = ASSUMED["lambda_memory_gb"] * ASSUMED["lambda_ms_per_invocation"] / 1000
    shared = {
        "Lambda": counts["lambda_invocations"]
        * (prices["lambda_per_request"] + gb_seconds * prices["lambda_per_gb_second"]),
        "DynamoDB": counts["write_units"] * prices["dynamodb_per_write_unit"]
        + counts["read_units"] * prices["dynamodb_per_read_unit"],
        "Kinesis PUTs": counts["kinesis_puts"] * prices["kinesis_per_put_unit"],
        **archive_cost(counts, prices),
    }
    express_gb_s = ASSUMED["express_memory_gb"] * ASSUMED["express_ms_per_execution"] / 1000
    workflows = {
        "Standard": counts["state_transitions"] * prices["step_functions_standard_per_transition"],
        "Express": prices["step_functions_express_per_request"]
        + express_gb_s * prices["step_functions_express_per_gb_second"],
    }
    apis = {
        "REST API": counts["api_requests"] * prices["api_gateway_rest_per_request"],
        "HTTP API": counts["api_requests"] * prices["api_gateway_http_per_request"],
    }
    table = {}
    for workflow, workflow_cost in workflows.items():
        for api, api_cost in apis.items():
            parts = {**shared, f"Step Functions {workflow}": workflow_cost, api: api_cost}
            table[f"{workflow} + {api}"] = {k: v * 1_000_000 for k, v in parts.items()}
    return table


def archive_cost(counts: dict[str, float], prices: dict[str, Any]) -> dict[str, float]:
    """Per operation: Firehose's ingestion (each record billed in 5 KB steps) and a month of
    S3 Standard for what it stores (then Glacier Instant Retrieval, per the lifecycle rule)."""
    step = prices["firehose_billing_step_bytes"]
    billed = math.ceil(ARCHIVE["event_bytes"] / step) * step
    stored = ARCHIVE["stored_bytes_per_event"]
    return {
        "Firehose": counts["kinesis_puts"] * billed / GIB * prices["firehose_per_gb_ingested"],
        "S3 (a month stored)": counts["kinesis_puts"]
        * stored
        / GIB
        * prices["s3_standard_per_gb_month"],
    }


def review_cost_per_million(prices: dict[str, Any], transitions: int) -> dict[str, float]:
    """What human review adds per 1M reviewed operations (Standard + REST API), given the
    state transitions it adds."""
    gb_seconds = ASSUMED["lambda_memory_gb"] * ASSUMED["lambda_ms_per_invocation"] / 1000
    per_invocation = prices["lambda_per_request"] + gb_seconds * prices["lambda_per_gb_second"]
    parts = {
        "Step Functions Standard": transitions * prices["step_functions_standard_per_transition"],
        "Lambda": REVIEW_EXTRA["lambda_invocations"] * per_invocation,
        "REST API": REVIEW_EXTRA["api_requests"] * prices["api_gateway_rest_per_request"],
    }
    return {k: v * 1_000_000 for k, v in parts.items()}


def cost(args: argparse.Namespace) -> None:
    prices = json.loads((HERE / "prices.json").read_text())
    counts = service_counts(load_counts(args.counts), args.polls)
    print(f"prices: {prices['region']}, as of {prices['as_of']} (benchmarks/prices.json)")
    definition = workflow_definition()
    transitions = " → ".join(success_path(definition))
    measured = {k: round(v, 2) for k, v in counts.items() if k != "state_transitions"}
    print(f"per operation, measured ({args.counts.name}): {json.dumps(measured)}")
    print(f"state transitions per operation: {counts['state_transitions']:g} ({transitions})")
    broken = broken_paths(definition)
    lengths = sorted({len(path) for path in broken.values()})
    ending = " → ".join(next(iter(broken.values()))[-2:])
    print(
        f"  a step broken after its retries: {lengths[0]} to {lengths[-1]} states (broken at "
        f"{', '.join(broken)}; then {ending})"
    )
    print(f"assumed: {json.dumps(ASSUMED)}; client GETs per operation: {args.polls}")
    print(f"archive, measured: {json.dumps(ARCHIVE)}")
    print()
    for name, parts in cost_per_million(counts, prices).items():
        total = sum(parts.values())
        detail = ", ".join(f"{k} ${v:,.2f}" for k, v in sorted(parts.items(), key=lambda i: -i[1]))
        print(f"{name:<22} ${total:8,.2f} per 1M operations   ({detail})")
    review = review_cost_per_million(prices, review_transitions(definition))
    detail = ", ".join(f"{k} ${v:,.2f}" for k, v in review.items())
    reviewed = workflow_path(definition, reviewed=True)
    print()
    print(
        "human review: an execution waiting for a person costs nothing while it waits "
        "(Standard bills state transitions, not time; Express cannot wait for a callback)."
    )
    print(
        f"  a reviewed operation passes {len(reviewed)} states ({' → '.join(reviewed)}) and "
        f"adds ${sum(review.values()):,.2f} per 1M on Standard + REST API ({detail}), plus a "
        "few DynamoDB units"
    )


def capacity(args: argparse.Namespace) -> None:
    rate = args.rate
    prices = json.loads((HERE / "prices.json").read_text())
    counts = service_counts(load_counts(args.counts), args.polls)
    # The starter works through a batch one record at a time: per shard, concurrency comes
    # from ParallelizationFactor (at most 10).
    starter_concurrency = rate * ASSUMED["starter_ms_per_record"] / 1000
    shards = max(math.ceil(rate / 1000 * 1.25), math.ceil(starter_concurrency / 10))
    parallelization = max(1, min(10, math.ceil(starter_concurrency / shards)))
    invocation_seconds = ASSUMED["lambda_ms_per_invocation"] / 1000
    lambda_concurrency = (
        rate * counts["api_requests"] * ASSUMED["api_handler_ms"] / 1000
        + rate * (counts["lambda_invocations"] - counts["api_requests"]) * invocation_seconds
        + shards * parallelization
    )
    records_per_shard = rate * counts["kinesis_puts"] / shards
    read_kb_per_shard = len(STREAM_READERS) * records_per_shard * ARCHIVE["event_bytes"] / 1024
    demand = {
        "Step Functions Standard StartExecution refill (per s)": rate,
        "Step Functions Standard state transitions refill (per s)": rate
        * counts["state_transitions"],
        "Step Functions Express StartExecution (per s)": rate,
        "Lambda concurrent executions (account)": lambda_concurrency,
        "API Gateway requests (per s, account)": rate * counts["api_requests"],
        "DynamoDB on-demand table throughput (write units per s)": rate * counts["write_units"],
        "Kinesis GetRecords per shard (per s)": sum(STREAM_READERS.values()),
        "Kinesis reads per shard (KB per s)": read_kb_per_shard,
    }
    standard_fits = all(demand[q] <= QUOTAS[q] for q in QUOTAS if "Standard" in q)
    # The workflow waits for reviewers (.waitForTaskToken): only Standard can.
    relevant = sorted(
        (q for q in QUOTAS if "Express" not in q), key=lambda q: -demand[q] / QUOTAS[q]
    )
    print(f"at {rate:,.0f} operations/s (assumptions: {json.dumps(ASSUMED)})")
    print(
        f"  Kinesis: {shards} shards (1,000 records/s each, 25% headroom), "
        f"ParallelizationFactor {parallelization}"
    )
    print(f"  starter concurrency {starter_concurrency:,.0f}; Lambda ~{lambda_concurrency:,.0f}")
    readers = " + ".join(f"{name} {calls}/s" for name, calls in STREAM_READERS.items())
    print(
        f"  stream reads per shard: {readers}; {len(STREAM_READERS)} x "
        f"{records_per_shard:,.0f} records/s x {ARCHIVE['event_bytes']} B out "
        "(a third reader, or over 1 MB/s in per shard, needs enhanced fan-out)"
    )
    print(
        "  workflow type: Standard (it waits for reviewers; Express cannot)"
        + ("" if standard_fits else ": its default quotas are exceeded, ask AWS to raise them")
    )
    print("  quotas, demand / default (the first binds first):")
    for quota in relevant:
        ratio = demand[quota] / QUOTAS[quota]
        print(f"    {quota:<58} {demand[quota]:>10,.0f} / {QUOTAS[quota]:>7,}  {ratio:5.0%}")
    table = cost_per_million(counts, prices)
    key = "Standard + REST API"
    per_op = sum(table[key].values()) / 1_000_000
    # The replay stream's shard, and the archive's objects (one per buffer, or per 5 MB).
    stream_shards = shards + definition_replay_shards()
    objects_per_second = max(
        1 / ARCHIVE["buffer_seconds"],
        rate * counts["kinesis_puts"] * ARCHIVE["event_bytes"] / FIREHOSE_MAX_OBJECT_BYTES,
    )
    monthly = (
        rate * SECONDS_PER_MONTH * per_op
        + stream_shards * 24 * 30 * prices["kinesis_per_shard_hour"]
        + objects_per_second * SECONDS_PER_MONTH * prices["s3_per_put"]
    )
    operations = rate * SECONDS_PER_MONTH / 1e9
    print(
        f"  cost: ${monthly:,.0f} per month ({key}, {operations:.2f}B operations, with the "
        "shards of both streams and the archive's objects)"
    )


def definition_replay_shards() -> int:
    """The stack's definition says how many shards the replay stream has."""
    if str(HERE.parent) not in sys.path:  # run as a script, not as benchmarks.model
        sys.path.insert(0, str(HERE.parent))
    from infra.definition import REPLAY_SHARDS

    return REPLAY_SHARDS


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=cli.Parser)
    for name in ("cost", "capacity"):
        command = sub.add_parser(name)
        command.add_argument("--counts", type=Path, default=DEFAULT_COUNTS)
        command.add_argument(
            "--polls",
            type=cli.number(float, zero=True),
            default=2.0,
            help="client GETs per operation",
        )
        if name == "capacity":
            command.add_argument(
                "--rate",
                type=cli.number(float, suffix="/s", example="2000/s"),
                required=True,
                help="operations per second, e.g. 2000/s",
            )
    args = parser.parse_args(argv)

    def chosen() -> int:
        (cost if args.command == "cost" else capacity)(args)
        return 0

    return cli.run(chosen)


if __name__ == "__main__":
    sys.exit(main())
