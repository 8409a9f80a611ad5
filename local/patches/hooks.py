"""Hooks: what the patched moto code calls into (the emulator's objects it hands work to).

A patch's factory gets moto's original, the Hooks of the emulator being patched and the
attribute's name, and returns the replacement; the replacement reaches the emulator only
through these fields.
"""

from __future__ import annotations

import dataclasses

from local.aws.kinesis_poller import RecordsArrived
from local.aws.lambda_runtime import InProcessLambdas
from local.aws.trace_segments import ServiceSegments
from local.aws.xray_daemon import TraceStore
from local.state.clock import Clock
from local.state.counters import CallCounter
from local.state.persistence import TableState


@dataclasses.dataclass
class Hooks:
    clock: Clock = dataclasses.field(default_factory=Clock)
    lambdas: InProcessLambdas = dataclasses.field(default_factory=InProcessLambdas)
    aws_calls: CallCounter = dataclasses.field(default_factory=CallCounter)
    records_arrived: RecordsArrived | None = None  # the Kinesis poller's wake-up
    journal: TableState | None = None  # --state: the tables' journal
    trace_store: TraceStore | None = None  # X-Ray's traces (local/aws/xray_daemon.py)
    segments: ServiceSegments | None = None  # the services' own segments
