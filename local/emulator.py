"""The emulated system: the stack's resources on moto, the app's functions in process, the
Kinesis pollers, Firehose's feeder and the schedule, wired, with moto patched; the metrics the
functions write (embedded metric format) read into a bounded series store.

Tests run it inside moto's in-process mock on test time and drive it step by step (`drain`,
`clock.advance`); the local stack (`make run`, local/process/run.py) runs the same pieces
behind moto's server, on real (or faster) time, with the pollers and the housekeeping on
threads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
from chalice import Chalice
from chalice.app import KinesisEventConfig
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.config import DefaultConfig

from chalicelib import clock
from chalicelib.adapters import metrics, tracing
from infra import definition
from local.aws.emf import DataPoints, EmfReader
from local.aws.firehose import ArchiveFeeder
from local.aws.kinesis_poller import MappingConfig, RecordsArrived, StreamPoller
from local.aws.lambda_runtime import FunctionSpec, InProcessLambdas, lambda_handlers
from local.aws.provision import Provisioned, provision
from local.aws.schedule import Schedule
from local.aws.trace_segments import ApiRequest, Invocation, Sampler, ServiceSegments
from local.aws.xray_daemon import TraceStore
from local.patches import registry
from local.patches.hooks import Hooks
from local.state.clock import Clock
from local.state.counters import CallCounter
from local.state.persistence import TableState
from local.state.retention import Bounds, Retention, StreamReaders
from local.state.series import SeriesStore, series_key

logger = logging.getLogger(__name__)
EMULATOR_CONFIG: DefaultConfig = {"stepfunctions": {"execute_state_machine": True}}
HOUSEKEEPING_EVERY_SECONDS = 2.0  # emulated


@contextlib.contextmanager
def _app_time(emulated: Clock) -> Iterator[None]:
    """The app reads the emulator's time, as functions on AWS read the services' time."""
    clock.set_source(emulated.now)
    try:
        yield
    finally:
        clock.set_source(None)


class Emulator:
    def __init__(
        self,
        app: Chalice,
        stage: str,
        session: boto3.Session,
        *,
        clock: Clock | None = None,
        journal: TableState | None = None,
        bounds: Bounds | None = None,
        xray_daemon: str | None = None,
        trace_all: bool = True,
    ) -> None:
        """`xray_daemon`: where the functions' X-Ray SDK sends its segments (the local X-Ray
        daemon's UDP address, as Lambda's AWS_XRAY_DAEMON_ADDRESS); None: straight into the
        trace store, in process. `trace_all`: every trace a request or an event source
        begins is sampled; else X-Ray's default rule (local/aws/trace_segments.py: Sampler)."""
        self.app = app
        self.stage = stage
        self.session = session
        self.clock = clock or Clock()
        bounds = bounds or Bounds()
        self.lambdas = InProcessLambdas(self.clock.time)
        self.aws_calls = CallCounter()
        self.records_arrived = RecordsArrived()
        self.xray_daemon = xray_daemon
        self.traces = TraceStore(bounds.traces, DEFAULT_ACCOUNT_ID)
        self.segments = ServiceSegments(
            self.traces.put, self.clock.wall, DEFAULT_ACCOUNT_ID, Sampler(every=trace_all)
        )
        self.lambdas.segments = self.segments
        self.hooks = Hooks(
            clock=self.clock,
            lambdas=self.lambdas,
            aws_calls=self.aws_calls,
            records_arrived=self.records_arrived,
            journal=journal,
            trace_store=self.traces,
            segments=self.segments,
        )
        self.retention = Retention(bounds, self.stream_readers)
        # CloudWatch's metrics of the app: what the functions' EMF lines make.
        self.metric_series = SeriesStore()
        self.emf = EmfReader(self._metric)
        self.resources: Provisioned | None = None
        self.poller: StreamPoller | None = None  # the starter's mapping of the event stream
        self.replay: StreamPoller | None = None  # the starter's mapping of the replay stream
        self.archive: ArchiveFeeder | None = None  # Firehose's reads of the event stream
        self.schedule: Schedule | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Emulator]:
        """Patch moto, provision and wire everything; the emulator must already be up."""
        with (
            registry.applied(self.hooks),
            _app_time(self.clock),
            self._tracing(),
            self._reading_metrics(),
        ):
            resources = self.resources = provision(self.app, self.stage, self.session)
            handlers = lambda_handlers(self.app)
            limits = definition.function_limits(self.stage)
            for name, function_name in resources.functions.items():
                self.lambdas.register(
                    function_name,
                    FunctionSpec(
                        handlers[name],
                        resources.function_arns[name],
                        limits.memory_mb,
                        limits.timeout_seconds,
                    ),
                )
            starter = self._starter_mapping(resources)
            kinesis = self.session.client("kinesis")
            self.poller = self._mapping(starter)
            # The same settings as the event stream's mapping, on the replay stream.
            self.replay = self._mapping(
                dataclasses.replace(starter, stream_arn=resources.replay_stream_arn)
            )
            assert resources.archive is not None
            self.archive = ArchiveFeeder(
                resources.stream_arn, resources.archive, kinesis, self.session.client("firehose")
            )
            self.schedule = Schedule(
                self.app, self.clock, self.session.region_name, DEFAULT_ACCOUNT_ID, self.invoke
            )
            try:
                yield self
            finally:
                self.lambdas.drain()  # an Event invocation under way ends while moto is here

    @contextlib.contextmanager
    def _reading_metrics(self) -> Iterator[None]:
        """The functions' metrics lines, read as CloudWatch Logs reads them (local/aws/emf.py)."""
        emitting = logging.getLogger(metrics.LOGGER)
        emitting.addHandler(self.emf)
        try:
            yield
        finally:
            emitting.removeHandler(self.emf)

    def _metric(self, points: DataPoints) -> None:
        key = series_key(points.namespace, points.name, points.dimensions)
        self.metric_series.put(key, points.unit, points.values, points.timestamp)

    @contextlib.contextmanager
    def _tracing(self) -> Iterator[None]:
        """The functions trace as on Lambda with active tracing: the X-Ray SDK finds the
        daemon's address in AWS_XRAY_DAEMON_ADDRESS (or, in process, hands its documents to
        the trace store); an OpenTelemetry stage gets the ADOT layer's part."""
        previous = os.environ.get("AWS_XRAY_DAEMON_ADDRESS")
        os.environ["AWS_XRAY_DAEMON_ADDRESS"] = self.xray_daemon or "127.0.0.1:2000"
        tracing.reset()
        try:
            with self._tracer_layer():
                yield
        finally:
            if previous is None:
                os.environ.pop("AWS_XRAY_DAEMON_ADDRESS", None)
            else:
                os.environ["AWS_XRAY_DAEMON_ADDRESS"] = previous
            tracing.reset()

    @contextlib.contextmanager
    def _tracer_layer(self) -> Iterator[None]:
        if tracing.tracer_name() == "otel":
            import local.aws.otel_layer as otel_layer  # noqa: PLR0402 (mypy reads it so)

            with otel_layer.installed(self.traces.put) as layer:
                self.lambdas.layer = layer.invocation
                tracing.active()  # decided now, under the stage's environment
                try:
                    yield
                finally:
                    self.lambdas.layer = tracing.invocation
            return
        tracer = tracing.active()
        if tracer is None or self.xray_daemon is not None:
            yield
            return
        from chalicelib.adapters.tracing_xray import XRayTracer

        assert isinstance(tracer, XRayTracer)
        tracer.emitter.deliver = self.traces.put
        try:
            yield
        finally:
            tracer.emitter.deliver = None

    def api_request(
        self, method: str, path: str, header: str | None
    ) -> contextlib.AbstractContextManager[ApiRequest]:
        """One request at the API's stage, traced as API Gateway traces it (the block answers
        it; set its status)."""
        api = definition.app_name()
        return self.segments.api_request(
            api, definition.api_stage(self.stage), method, path, header
        )

    def api_function(
        self, request: ApiRequest
    ) -> contextlib.AbstractContextManager[Invocation | None]:
        """The API function's invocation for that request, traced as Lambda traces it."""
        function = definition.api_function_name(self.stage)
        arn = f"arn:aws:lambda:{self.session.region_name}:{DEFAULT_ACCOUNT_ID}:function:{function}"
        request.invoked = True
        return self.lambdas.traced(function, arn, str(uuid.uuid4()), request.trace)

    def _mapping(self, config: MappingConfig) -> StreamPoller:
        return StreamPoller(
            config,
            self.session.client("kinesis"),
            self.session.client("lambda"),
            self.session.client("sqs"),
            now=self.clock.time,
        )

    def _pollers(self) -> tuple[StreamPoller, ...]:
        assert self.poller is not None and self.replay is not None and self.archive is not None
        return self.poller, self.archive, self.replay

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

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Invokes one of the app's functions (by its Chalice name) through the Lambda API, as
        an event source would; its answer, parsed."""
        assert self.resources is not None
        response = self.session.client("lambda").invoke(
            FunctionName=self.resources.functions[function], Payload=json.dumps(event)
        )
        return json.loads(response["Payload"].read())

    def stream_readers(self) -> StreamReaders:
        """Per stream and shard, the lowest sequence number a reader of the stack (the
        starter's mappings, the archive's feeder) still needs: what retention may trim
        below (local/state/retention.py). None: nothing read yet."""
        merged: dict[str, dict[str, int | None]] = {}
        for reader in self._pollers():
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

    def poll(self) -> bool:
        """One poll of every mapping and of the feeder; whether any had work."""
        busy = False
        for poller in self._pollers():
            busy = poller.poll() or busy
        return busy

    def drain(self, timeout: float = 30.0, waiting: int = 0) -> None:
        """Deliver every record on the streams and wait until at most `waiting` executions are
        still running (those waiting for a callback or for the clock)."""
        for poller in self._pollers():
            poller.drain()
        deadline = time.monotonic() + timeout
        while self.running_executions() > waiting:
            if time.monotonic() > deadline:
                raise TimeoutError("executions still running after drain timeout")
            time.sleep(0.01)

    def poll_forever(
        self, stop: threading.Event, holding_wait: float = 0.25, idle_wait: float = 2.0
    ) -> None:
        """The pollers' thread of the local stack: nothing it meets may end it.

        It sleeps until a record is put: no busy polling, no sleep between a put and its
        delivery. While a poller holds records (a batching window, the archive's buffer) it
        also looks every holding_wait; with none held there is nothing to look for (a stack
        left idle polled 12 GetRecords a second, a sixth of a core), so it looks every
        idle_wait only to see `stop`.
        """
        while not stop.is_set():
            self.records_arrived.clear()
            try:
                busy = self.poll()
            except Exception:
                logger.exception("kinesis poller failed; retrying")
                busy = False
            if not busy:
                holding = not all(poller.idle for poller in self._pollers())
                self.records_arrived.wait(holding_wait if holding else idle_wait)

    def housekeeping(self) -> None:
        """What runs on the clock besides the workflows: what the emulator would keep for ever
        is forgotten (local/state/retention.py), and the app's schedules run when due."""
        assert self.schedule is not None
        self.retention.run()
        self.schedule.tick()

    def housekeeping_forever(self, stop: threading.Event) -> None:
        """The housekeeping thread: every 2 emulated seconds (at least 20 times a second)."""
        while not stop.wait(max(0.05, HOUSEKEEPING_EVERY_SECONDS / self.clock.speed)):
            try:
                self.housekeeping()
            except Exception:
                logger.exception("housekeeping failed; it carries on")
