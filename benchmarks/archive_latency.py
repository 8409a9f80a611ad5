"""How soon an accepted operation's event is in the archive, on a running local stack.

    .venv/bin/python -m benchmarks.archive_latency [--url http://127.0.0.1:8000]
        [--endpoint http://127.0.0.1:4566] [-n 20]

For each of n users, one at a time: POST /users, then list the archive bucket (as
`aws s3 ls --recursive` does) every 20 ms until a new object is there. Prints the seconds
from the 202 to the listing: min, median, max.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

import boto3
import requests

from benchmarks.load import check_answers
from infra import aws_session, cli
from infra.definition import emulated_archive_bucket

BUCKET = emulated_archive_bucket("local")


def main() -> int:
    parser = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--endpoint", default="http://127.0.0.1:4566")
    parser.add_argument("-n", type=cli.number(int), default=20)
    args = parser.parse_args()
    return aws_session.run(lambda: measure(args))


def measure(args: argparse.Namespace) -> int:
    check_answers(args.url)
    s3 = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id="local-emulator-no-secret",
        aws_secret_access_key="local-emulator-no-secret",
    )

    def objects() -> int:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return sum(page.get("KeyCount", 0) for page in pages)

    samples = []
    for _ in range(args.n):
        before = objects()
        email = f"archive-{uuid.uuid4().hex[:12]}@example.org"
        accepted = requests.post(f"{args.url}/users", json={"email": email, "name": "A"}, timeout=5)
        accepted.raise_for_status()
        started = time.monotonic()
        while objects() == before:
            time.sleep(0.02)
        samples.append(time.monotonic() - started)
    print(
        f"archived after: n={len(samples)} min {min(samples):.2f} s, "
        f"median {statistics.median(samples):.2f} s, max {max(samples):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
