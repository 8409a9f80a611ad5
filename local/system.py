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
from local.clock import Clock
from local.kinesis_poller import MappingConfig, RecordsArrived, StreamPoller
from local.lambdas import FunctionSpec, InProcessLambdas, lambda_handlers
from local.metrics import CallCounter
from local.persistence import TableState
from local.provision import LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_SECONDS, Provisioned, provision

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

    @contextlib.contextmanager
    def running(self) -> Iterator[System]:
        """Patch moto, provision and wire everything; the emulator must already be up."""
        with patches.applied(self.engine), _app_time(self.clock):
            self.resources = provision(self.app, self.stage, self.session)
            handlers = lambda_handlers(self.app)
            for name, function_name in self.resources.functions.items():
                self.lambdas.register(
                    function_name,
                    FunctionSpec(
                        handlers[name],
                        self.resources.function_arns[name],
                        LAMBDA_MEMORY_MB,
                        LAMBDA_TIMEOUT_SECONDS,
                    ),
                )
            self.poller = StreamPoller(
                self._starter_mapping(self.resources),
                self.session.client("kinesis"),
                self.session.client("lambda"),
                self.session.client("sqs"),
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
        assert self.poller is not None
        self.poller.drain()
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
        assert self.poller is not None
        while not stop.is_set():
            self.records_arrived.clear()
            try:
                busy = self.poller.poll()
            except Exception:
                logger.exception("kinesis poller failed; retrying")
                busy = False
            if not busy:
                self.records_arrived.wait(idle_wait)
