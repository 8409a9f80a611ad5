"""Use cases on the stream side: start workflows, recover operations that went quiet, measure
the failures the workflow records itself."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from chalicelib.domain.errors import ErrorCode, TransientError
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import (
    Operation,
    OperationError,
    OperationStatus,
    OperationStep,
    to_iso,
)
from chalicelib.services.ports import (
    UNMEASURED,
    EventPublisher,
    Metrics,
    OperationRepository,
    Workflows,
)

logger = logging.getLogger(__name__)
# The failures measured by one sweep at most, oldest first: a flood of them (a dependency down)
# is measured over the next sweeps, and leaves the sweeper's other work its time.
MEASURED_PER_SWEEP = 1000


def start_workflow(
    event: OperationRequested, operations: OperationRepository, workflows: Workflows
) -> bool:
    """Start the operation's workflow unless it is done; safe to repeat for a duplicate.

    RUNNING is recorded first, conditionally, so that an event for a failed operation (say,
    one whose publish timed out yet landed) never starts anything. If the start then fails,
    the record is retried, and the sweeper covers a RUNNING operation without execution.
    """
    if not operations.mark_running(event.operation_id):
        logger.warning(
            "operation is done or unknown; workflow not started",
            extra={"operation_id": event.operation_id},
        )
        return False
    workflows.start(event)
    logger.info("workflow started", extra={"operation_id": event.operation_id})
    return True


def process_batch(
    records: Iterable[tuple[str, bytes]], handle: Callable[[bytes], object]
) -> list[str]:
    """Handle every record; return the sequence numbers of those that failed.

    Operations are independent, so a failed record does not stop the ones after it: they
    are handled now, and again (harmlessly) if Lambda redelivers from the failed one.
    """
    failures: list[str] = []
    for sequence_number, data in records:
        try:
            handle(data)
        except Exception:
            logger.exception("record failed", extra={"sequence_number": sequence_number})
            failures.append(sequence_number)
    return failures


@dataclasses.dataclass
class SweepReport:
    republished: int = 0
    failed: int = 0
    still_running: int = 0


@dataclasses.dataclass(frozen=True)
class SweepPolicy:
    republish_after: timedelta
    give_up_after: timedelta


def sweep(
    now: datetime,
    policy: SweepPolicy,
    operations: OperationRepository,
    events: EventPublisher,
    workflows: Workflows,
    *,
    metrics: Metrics = UNMEASURED,
) -> SweepReport:
    """Make sure no operation stays in flight for ever.

    A PENDING operation whose event never reached the starter (the API crashed between
    storing and publishing, or the record went to the on-failure queue) is published again;
    a RUNNING one whose execution is gone or ended without recording a result is failed.
    """
    report = SweepReport()
    quiet_since = to_iso(now - policy.republish_after)
    given_up_before = to_iso(now - policy.give_up_after)
    for operation in operations.in_flight(OperationStatus.PENDING, quiet_since):
        if operation.created_at < given_up_before:
            message = "the workflow could not be started in time"
            failed = operations.mark_failed(
                operation.id, OperationError(ErrorCode.NOT_STARTED, message)
            )
            report.failed += _measured(failed, metrics)
        else:
            events.publish(OperationRequested.of(operation))
            report.republished += 1
    for operation in operations.in_flight(OperationStatus.RUNNING, quiet_since):
        execution_status = workflows.status(operation.id)
        if execution_status == "RUNNING":
            report.still_running += 1
        elif execution_status is None and (
            operation.created_at >= given_up_before
            # Waiting for a person may take days; the review's own expiry bounds it (its
            # workflow, run again, concludes an expired review as timed out).
            or operation.step is OperationStep.AWAITING_REVIEW
        ):
            events.publish(OperationRequested.of(operation))
            report.republished += 1
        else:
            ended = execution_status or "without starting"
            message = f"the workflow ended {ended} without recording a result"
            failed = operations.mark_failed(
                operation.id, OperationError(ErrorCode.WORKFLOW_ENDED, message)
            )
            report.failed += _measured(failed, metrics)
    if report.republished or report.failed:
        logger.warning("sweep recovered operations", extra=dataclasses.asdict(report))
    return report


def _measured(failed: Operation | None, metrics: Metrics) -> int:
    """1 for an operation the sweep failed (measured), 0 when it was done already."""
    if failed is None:
        return 0
    metrics.operation_done(failed)
    return 1


def measure_recorded_failures(
    operations: OperationRepository, metrics: Metrics, limit: int = MEASURED_PER_SWEEP
) -> int:
    """Measure the operations the workflow failed itself (its failure-recording state, where no
    function runs), each once: the repository gives each to one caller only, before it is
    measured (a sweep that dies in between loses that count rather than doubling it). How many
    it measured; a throttled table leaves the rest to the next sweep."""
    measured = 0
    try:
        for failed in operations.take_unmeasured_failures(limit):
            metrics.operation_done(failed)
            measured += 1
    except TransientError:
        # Each one taken is measured already; the others keep their mark for the next sweep.
        logger.warning("failures recorded by the workflow left to the next sweep", exc_info=True)
    return measured
