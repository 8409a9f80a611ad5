"""The local stack: the whole system in one process, behaving like AWS.

- moto's server (Kinesis, DynamoDB, Step Functions executing the real ASL, SQS, Lambda...)
  on an AWS-compatible endpoint, so the AWS CLI and boto3 work against it;
- the Chalice app's API through Chalice's own local server;
- its Lambda functions in process (local/lambdas.py), the starter fed by a Kinesis poller
  with Lambda's event-source-mapping semantics (local/kinesis_poller.py);
- a janitor that runs the sweeper on its schedule and trims what moto would otherwise keep
  for ever (local/retention.py);
- /_local/executions, a JSON view of executions and their step-by-step history.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import logging
import os
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import boto3

from local.metrics import CallCounter
from local.persistence import TableState
from local.retention import Bounds, Retention

if TYPE_CHECKING:
    from chalicelib.services.workflow import SweepReport

ROOT = Path(__file__).resolve().parent.parent
LOCAL_PREFIX = "/_local/executions"
METRICS_PATH = "/_local/metrics"
SWEEP_EVERY_SECONDS = 60
TABLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
logger = logging.getLogger("local")


@dataclasses.dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    api_port: int = 8000
    aws_port: int = 4566
    region: str = "us-east-1"
    stage: str = "local"
    keep_executions: int = 1000
    verbose: bool = False
    state: Path | None = None  # where the tables are saved and loaded from (local/persistence.py)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"


class PortBusy(Exception):
    pass


def _check_free(host: str, port: int, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortBusy(
                f"port {port} on {host} is busy ({error.strerror}); use {flag}"
            ) from None


def _environment(options: Options) -> dict[str, str]:
    from infra.definition import stage_environment

    return {
        **stage_environment(options.stage),
        "AWS_ENDPOINT_URL": options.endpoint,
        "AWS_DEFAULT_REGION": options.region,
        "AWS_REGION": options.region,
        # moto's Step Functions tasks call back into the emulator on this port.
        "MOTO_PORT": str(options.aws_port),
        "MOTO_HOST": options.host,
    }


def _quiet_emulator(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if verbose:
        return
    for name in ("werkzeug", "moto", "botocore", "urllib3", "local.kinesis_poller"):
        logging.getLogger(name).setLevel(logging.ERROR)


class LocalStack:
    def __init__(self, options: Options) -> None:
        self.options = options
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._moto: Any = None
        self._api: Any = None
        self._runtime: Any = None
        self._state: TableState | None = None
        self._journalling: contextlib.AbstractContextManager[None] | None = None
        self.persistence: str | None = None

    def start(self) -> None:
        options = self.options
        _check_free(options.host, options.aws_port, "--aws-port")
        _check_free(options.host, options.api_port, "--api-port")
        _quiet_emulator(options.verbose)
        os.environ.update(_environment(options))
        session = boto3.Session(region_name=options.region)
        if options.state is not None:
            from chalicelib.config import settings

            config = settings()
            tables = [config.operations_table, config.users_table]
            self._state = TableState(options.state, tables, session)

        from moto import mock_aws
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        from local.stack import EMULATOR_CONFIG

        default_user_config.update(EMULATOR_CONFIG)
        # Two doors to the same in-memory AWS: the server for clients outside this process
        # (AWS CLI, chalice local), and moto's in-process interception for the app, the
        # Step Functions engine and the poller, which saves an HTTP round trip per call.
        self._in_process = mock_aws(config=EMULATOR_CONFIG)
        self._in_process.start()
        self._moto = ThreadedMotoServer(ip_address=options.host, port=options.aws_port)
        self._moto.start()

        # Import the app only now: it reads the stage's stream name from the environment.
        sys.path.insert(0, str(ROOT))
        from app import app
        from local.stack import Stack

        self.stack = Stack(app, options.stage, session)
        if self._state is not None:
            # Entered before the runtime's own patches, so that theirs wrap it and it outlives
            # them: the journal runs until the process ends, and keeps a write that a stopping
            # stack still acknowledges.
            self._journalling = self._state.journalling()
            self._journalling.__enter__()
        self._runtime = self.stack.running()
        self._runtime.__enter__()
        self.view = _executions_view(self.stack)
        self.api_requests = CallCounter()
        self._api = _api_server(app, options, self.view, self.metrics, self.api_requests)
        # In this process, calls go through the in-process door (loading Chalice's config
        # for the API server put the stage's endpoint back into the environment).
        os.environ.pop("AWS_ENDPOINT_URL", None)
        if self._state is not None:
            self._load(self._state)
        # Everything long-lived exists now: keep the collector off it, and collect young
        # objects less often (moto allocates heavily per call; measured +24% operations/s).
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
        self._spawn("kinesis-poller", self.stack.poll_forever, self._stop)
        self._spawn("janitor", self._janitor)
        if self._state is not None:
            self._spawn("snapshots", self._state.save_while_changing, self._stop, self._writes)
        self._spawn("api", self._api.serve_forever)

    def _load(self, state: TableState) -> None:
        """Loads the saved tables, journals from now on, and restarts what was in flight."""
        loaded = state.restore()
        state.save()  # the journal starts here
        if loaded is None:
            self.persistence = f"{state.path} (new)"
            return
        recovered = self._recover_in_flight()
        items = ", ".join(f"{count} in {table}" for table, count in loaded["items"].items())
        self.persistence = (
            f"{state.path}: snapshot of {loaded['takenAt']} and {loaded['journalled']} journalled "
            f"writes loaded ({items}); {recovered.republished} in-flight operations "
            f"published again, {recovered.failed} failed as too old"
        )

    def _recover_in_flight(self) -> SweepReport:
        """A fresh emulator has no executions, so every loaded operation still in flight is
        orphaned: the sweep publishes them again now rather than once they have gone quiet."""
        from chalicelib import wiring
        from chalicelib.services import workflow

        policy = dataclasses.replace(wiring.sweep_policy(), republish_after=timedelta(0))
        return workflow.sweep(
            datetime.now(UTC), policy, wiring.operations(), wiring.events(), wiring.workflows()
        )

    def _writes(self) -> int:
        """Table write calls so far (failed ones too), by anyone: the app, the state machine,
        the AWS endpoint."""
        calls = self.stack.aws_calls.snapshot()
        return sum(calls.get(f"dynamodb.{action}", 0) for action in TABLE_WRITES)

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _janitor(self) -> None:
        assert self.stack.poller is not None
        retention = Retention(
            Bounds(executions=self.options.keep_executions), self.stack.poller.needed_from
        )
        next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
        while not self._stop.wait(2.0):
            try:
                retention.run()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
                    self._invoke_sweeper()
            except Exception:
                logger.exception("janitor failed; it carries on")

    def _invoke_sweeper(self) -> None:
        assert self.stack.resources is not None
        event = {
            "version": "0",
            "id": "local-schedule",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": self.options.region,
            "resources": [],
            "detail": {},
        }
        self.stack.session.client("lambda").invoke(
            FunctionName=self.stack.resources.functions["sweeper"], Payload=json.dumps(event)
        )

    def metrics(self) -> dict[str, Any]:
        return {
            "apiRequests": self.api_requests.snapshot(),
            "lambdaInvocations": dict(self.stack.lambdas.invocations),
            "awsCalls": self.stack.aws_calls.snapshot(),
        }

    def stop(self) -> None:
        self._stop.set()
        if self._api is not None:
            self._api.shutdown()
        if self._state is not None:
            self._state.save()  # a compaction: every write is in the journal already
        if self._runtime is not None:
            self._runtime.__exit__(None, None, None)
        if self._moto is not None:
            self._moto.stop()
            self._in_process.stop()

    def banner(self) -> str:
        o = self.options
        assert self.stack.resources is not None
        r = self.stack.resources
        return "\n".join(
            [
                "",
                f"  user-service local stack (stage {o.stage}) is up",
                "",
                f"  API               {o.api_url}",
                f"  executions        {o.api_url}{LOCAL_PREFIX}",
                f"  AWS endpoint      {o.endpoint}   region {o.region}",
                f"  state machine     {r.state_machine_arn}",
                f"  stream            {r.stream_name}",
                f"  on-failure queue  {r.failure_queue_url}",
                f"  state             {self.persistence or 'in memory: gone when the stack stops'}",
                "",
                "  Try:",
                f"    curl -X POST {o.api_url}/users -H 'content-type: application/json' \\",
                '         -d \'{"email":"ada@example.org","name":"Ada"}\'',
                "    make demo            # a few users and each operation's journey",
                "    make executions      # what the state machine ran",
                "",
                "  AWS CLI / boto3 against the emulator:",
                f"    export AWS_ENDPOINT_URL={o.endpoint} AWS_DEFAULT_REGION={o.region}"
                f" AWS_ACCESS_KEY_ID={os.environ['AWS_ACCESS_KEY_ID']}"
                f" AWS_SECRET_ACCESS_KEY={os.environ['AWS_SECRET_ACCESS_KEY']}",
                f"    aws stepfunctions list-executions --state-machine-arn {r.state_machine_arn}",
                "",
                "  Ctrl-C stops everything.",
                "",
            ]
        )


def _executions_view(stack: Any) -> Any:
    from local.executions import ExecutionsView

    assert stack.resources is not None
    return ExecutionsView(stack.session.client("stepfunctions"), stack.resources.state_machine_arn)


def _api_server(
    app: Any, options: Options, view: Any, metrics: Any, api_requests: CallCounter
) -> Any:
    """Chalice's own local server, with /_local/executions added in front of the app."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import (
        ChaliceRequestHandler,
        CustomLocalChalice,
        LocalChalice,
        LocalDevServer,
        ThreadedHTTPServer,
    )

    class BackloggedServer(ThreadedHTTPServer):
        # socketserver's default backlog of 5 refuses connections under a modest load.
        request_queue_size = 256

    class LocalApiHandler(ChaliceRequestHandler):
        # Headers and body leave in separate writes; with Nagle's algorithm on, a kept-alive
        # connection waits for the client's delayed ACK (~40 ms) between them.
        disable_nagle_algorithm = True

        def __init__(self, *args: Any, view: Any, **kwargs: Any) -> None:
            self._view = view
            super().__init__(*args, **kwargs)

        def _generic_handle(self) -> None:
            path = urlsplit(self.path).path
            if path == LOCAL_PREFIX or path.startswith(LOCAL_PREFIX + "/"):
                self._serve_executions(unquote(path[len(LOCAL_PREFIX) :].strip("/")))
            elif path == METRICS_PATH:
                self._send_json(200, metrics())
            else:
                api_requests.add(self.command)
                super()._generic_handle()

        def _serve_executions(self, operation_id: str) -> None:
            if self.command != "GET":
                status, body = 405, {"title": "Method not allowed", "status": 405}
            elif not operation_id:
                status, body = 200, {"executions": self._view.listing()}
            else:
                found = self._view.history(operation_id)
                status, body = (
                    (200, found) if found else (404, {"title": "Not found", "status": 404})
                )
            self._send_json(status, body)

        def _send_json(self, status: int, body: Any) -> None:
            payload = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        # The base class binds the HTTP verbs to its own method; rebind them to ours.
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY...) is answered by the gateway as API Gateway
            # would (403/405), where http.server would say 501.
            if name.startswith("do_"):
                return self._generic_handle
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            if options.verbose:
                super().log_message(format, *args)

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=options.stage)
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    handler = functools.partial(LocalApiHandler, view=view)
    return LocalDevServer(
        app,
        config,
        options.host,
        options.api_port,
        handler_cls=handler,
        server_cls=BackloggedServer,
    )
