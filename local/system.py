"""The emulated system: resources, in-process functions and the Kinesis poller, wired.

Tests run it inside moto's in-process mock on manual time and drive it step by step
(`drain`, `clock.advance`); the local stack (`make run`, local/run.py) runs the same pieces
behind moto's server, on real (or faster) time, with the poller on a thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

import boto3
from chalice import Chalice
from chalice.app import KinesisEventConfig
from moto.core.config import DefaultConfig

from chalicelib import clock
from infra import definition
from local import patches
from local.archive import ArchivePollers
from local.clock import Clock
from local.kinesis_poller import MappingConfig, RecordsArrived, StreamPoller
from local.lambdas import FunctionSpec, InProcessLambdas, lambda_handlers
from local.metrics import CallCounter
from local.persistence import TableState
from local.provision import Provisioned, provision

logger = logging.getLogger(__name__)
EMULATOR_CONFIG: DefaultConfig = {"stepfunctions": {"execute_state_machine": True}}


@contextlib.contextmanager
def _app_time(emulated: Clock) -> Iterator[None]:
    """The app reads the emulator's time, as functions on AWS read the services' time."""
    clock.set_source(emulated.now)
    try:
        yield
    finally:
        clock.set_source(None)


class System:
    def __init__(
        self,
        app: Chalice,
        stage: str,
        session: boto3.Session,
        clock: Clock | None = None,
        journal: TableState | None = None,
    ) -> None:
        self.app = app
        self.stage = stage
        self.session = session
        self.clock = clock or Clock()
        self.lambdas = InProcessLambdas()
        self.aws_calls = CallCounter()
        self.records_arrived = RecordsArrived()
        self.engine = patches.Engine(
            clock=self.clock,
            lambdas=self.lambdas,
            aws_calls=self.aws_calls,
            records_arrived=self.records_arrived,
            journal=journal,
        )
        self.resources: Provisioned | None = None
        self.poller: StreamPoller | None = None
        self.archive: ArchivePollers | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[System]:
        """Patch moto, provision and wire everything; the emulator must already be up."""
        with patches.applied(self.engine), _app_time(self.clock):
            self.resources = provision(self.app, self.stage, self.session)
            handlers = lambda_handlers(self.app)
            limits = definition.function_limits(self.stage)
            for name, function_name in self.resources.functions.items():
                self.lambdas.register(
                    function_name,
                    FunctionSpec(
                        handlers[name],
                        self.resources.function_arns[name],
                        limits.memory_mb,
                        limits.timeout_seconds,
                    ),
                )
            self.poller = StreamPoller(
                self._starter_mapping(self.resources),
                self.session.client("kinesis"),
                self.session.client("lambda"),
                self.session.client("sqs"),
                now=self.clock.time,
            )
            self.archive = ArchivePollers(
                self._starter_mapping(self.resources), self.resources, self.session, self.clock.time
            )
            yield self

    def _starter_mapping(self, resources: Provisioned) -> MappingConfig:
        decorator = next(
            source
            for source in self.app.event_sources
            if isinstance(source, KinesisEventConfig) and source.name == definition.STARTER_FUNCTION
        )
        if decorator.stream != resources.stream_name:
            raise RuntimeError(
                f"app.py subscribes to {decorator.stream!r} but the stage's stream is "
                f"{resources.stream_name!r}: set EVENT_STREAM before importing app"
            )
        return MappingConfig.from_definition(
            resources.functions[definition.STARTER_FUNCTION],
            resources.stream_arn,
            decorator,
            definition.starter_mapping(self.stage),
            resources.failure_queue_url,
        )

    def stream_readers(self) -> dict[str, dict[str, int | None]]:
        """Per stream and shard, the lowest sequence number a reader of the stack (the
        starter's mappings, the archive's feeder) still needs: what the janitor may trim
        below (local/retention.py). None: nothing read yet."""
        assert self.poller is not None and self.archive is not None
        merged: dict[str, dict[str, int | None]] = {}
        for reader in (self.poller, self.archive.feeder, self.archive.replay):
            for stream, shards in reader.needed_from().items():
                known = merged.setdefault(stream, {})
                for shard, needed in shards.items():
                    if shard not in known:
                        known[shard] = needed
                    elif needed is None or known[shard] is None:
                        known[shard] = None
                    else:
                        known[shard] = min(known[shard] or 0, needed)
        return merged

    def running_executions(self) -> int:
        assert self.resources is not None
        sfn = self.session.client("stepfunctions")
        return len(
            sfn.list_executions(
                stateMachineArn=self.resources.state_machine_arn, statusFilter="RUNNING"
            )["executions"]
        )

    def drain(self, timeout: float = 30.0, waiting: int = 0) -> None:
        """Deliver every record on the stream and wait until at most `waiting` executions are
        still running (those waiting for a callback or for the clock)."""
        assert self.poller is not None and self.archive is not None
        self.poller.drain()
        self.archive.drain()
        deadline = time.monotonic() + timeout
        while self.running_executions() > waiting:
            if time.monotonic() > deadline:
                raise TimeoutError("executions still running after drain timeout")
            time.sleep(0.01)

    def poll_forever(self, stop: threading.Event, idle_wait: float = 0.25) -> None:
        """The poller thread of the local stack: nothing it meets may end it.

        Idle, it sleeps until a record is put (or idle_wait passes, for batching windows and
        retries): no busy polling, no sleep between a put and its delivery.
        """
        assert self.poller is not None and self.archive is not None
        while not stop.is_set():
            self.records_arrived.clear()
            try:
                busy = self.poller.poll()
                busy = self.archive.poll() or busy
            except Exception:
                logger.exception("kinesis poller failed; retrying")
                busy = False
            if not busy:
                self.records_arrived.wait(idle_wait)
