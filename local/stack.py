"""The emulated system: resources, in-process functions and the Kinesis poller, wired.

Tests run it inside moto's in-process mock and drive it step by step (drain); the local stack
(`make run`) runs the same pieces behind moto's server with the poller on a thread.
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

from infra import definition
from local.atomicity import atomic_operations
from local.fast_engine import faster_engine
from local.kinesis_poller import MappingConfig, RecordsArrived, StreamPoller
from local.lambdas import FunctionSpec, InProcessLambdas, lambda_handlers
from local.metrics import CallCounter
from local.provision import LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_SECONDS, Provisioned, provision
from local.retention import weakly_tracked_models

logger = logging.getLogger(__name__)
EMULATOR_CONFIG = {"stepfunctions": {"execute_state_machine": True}}


class Stack:
    def __init__(self, app: Chalice, stage: str, session: boto3.Session) -> None:
        self.app = app
        self.stage = stage
        self.session = session
        self.lambdas = InProcessLambdas()
        self.aws_calls = CallCounter()
        self.poller_wakeup = RecordsArrived()
        self.resources: Provisioned | None = None
        self.poller: StreamPoller | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Stack]:
        """Provision and wire everything; the emulator must already be up."""
        with (
            self.lambdas.installed(),
            atomic_operations(),
            faster_engine(),
            self.aws_calls.counting_aws_calls(),
            self.poller_wakeup.on_put(),
            weakly_tracked_models(),
        ):
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

    def drain(self, timeout: float = 30.0) -> None:
        """Deliver every record on the stream and wait for every execution to end."""
        assert self.poller is not None and self.resources is not None
        self.poller.drain()
        sfn = self.session.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while sfn.list_executions(
            stateMachineArn=self.resources.state_machine_arn, statusFilter="RUNNING"
        )["executions"]:
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
            self.poller_wakeup.clear()
            try:
                busy = self.poller.poll()
            except Exception:
                logger.exception("kinesis poller failed; retrying")
                busy = False
            if not busy:
                self.poller_wakeup.wait(idle_wait)
