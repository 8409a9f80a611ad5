"""Replay a time window of the archive through the replay stream:

    make replay FROM=2026-11-23T10:00:00Z TO=2026-11-23T11:00:00Z [STAGE=dev] [ARGS=--dry-run]

Reads the archive's objects that can hold events published in [FROM, TO), keeps those
events, and puts them, unchanged, on the replay stream, which the starter reads through its
own mapping. Safe to repeat: the starter starts only operations that are not done (it marks
them RUNNING conditionally), and each execution is named after its operation, so an
operation in flight is started at most once.
"""

from __future__ import annotations

import dataclasses
import sys

from ops import cli
from ops.archive import Window, archived_keys, parse_event, parse_window, read_object, split_records
from ops.publish import progress_bar, publish
from ops.target import OpsError, Target


@dataclasses.dataclass
class ReplayReport:
    objects: int = 0
    records: int = 0
    in_window: int = 0
    outside_window: int = 0
    untimed: int = 0  # archived before events carried publishedAt
    unreadable: int = 0
    published: int = 0

    def lines(self, target: Target, dry_run: bool) -> list[str]:
        published = f"none (dry run; {self.in_window} would be)" if dry_run else str(self.published)
        return [
            f"read      {self.objects} objects, {self.records} records from s3://{target.bucket}",
            f"in window {self.in_window}",
            f"skipped   {self.outside_window} outside the window, {self.untimed} without "
            f"publishedAt, {self.unreadable} not operation events",
            f"published {published} to {target.replay_stream}",
        ]


def replay(
    target: Target, window: Window, dry_run: bool = False, progress: bool | None = None
) -> ReplayReport:
    keys = archived_keys(target, window.start, window.end)
    report = ReplayReport(objects=len(keys))
    kinesis = target.client("kinesis")
    with progress_bar("replaying", len(keys), progress) as step:
        for key in keys:
            selected: list[tuple[str, bytes]] = []
            for data in split_records(read_object(target, key)):
                report.records += 1
                archived = parse_event(data)
                if archived is None:
                    report.unreadable += 1
                elif archived.published_at is None:
                    report.untimed += 1
                elif archived.published_at not in window:
                    report.outside_window += 1
                else:
                    selected.append((archived.event.operation_id, archived.data))
            report.in_window += len(selected)
            if not dry_run:
                report.published += publish(kinesis, target.replay_stream, selected)
            step()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--from", dest="start", default="", help="ISO 8601, inclusive")
    parser.add_argument("--to", dest="end", default="", help="ISO 8601, exclusive")
    args = parser.parse_args(argv)
    try:
        window = parse_window(args.start, args.end)
    except OpsError as error:
        return cli.fail(error)

    def command(target: Target) -> int:
        report = replay(target, window, args.dry_run)
        print(f"window    {window} on {target.stage}")
        print("\n".join(report.lines(target, args.dry_run)))
        return 0

    return cli.run(args, command)


if __name__ == "__main__":
    sys.exit(main())
