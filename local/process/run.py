"""`make run`: the whole system in one process, behaving like AWS.

- moto's server (Kinesis, DynamoDB, Step Functions executing the real ASL, SQS, Lambda...)
  on an AWS-compatible endpoint, so the AWS CLI and boto3 work against it;
- the emulated system (local/emulator.py): the app's Lambda functions in process, the starter
  fed by a Kinesis poller with Lambda's event-source-mapping semantics, moto patched through
  one registry (local/patches/), on the emulator's clock (local/state/clock.py);
- the Chalice app's API through Chalice's own local server, behind the gateway's edge
  (local/http/), with the console under /_local/ (local/console/);
- the housekeeping: the app's schedules (the sweeper), what the emulator would keep for ever
  forgotten;
- optionally, the tables kept on disk (local/state/persistence.py).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3

from infra.definition import ROOT, generated_password
from local.aws.reviewers import USERNAME as LOCAL_REVIEWER
from local.process.options import Options, check_free
from local.state import allocator
from local.state.clock import Clock
from local.state.counters import CallCounter
from local.state.persistence import TableState
from local.state.retention import Bounds, settle_collector

if TYPE_CHECKING:
    from chalicelib.services.workflow import SweepReport

TABLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def _quiet_emulator(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if verbose:
        return
    for name in ("werkzeug", "moto", "botocore", "urllib3", "local.aws.kinesis_poller"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # The interpreter logs at ERROR every exception a state meets, handled ones included (an
    # IsPresent test of an absent path, a caught task failure): the execution's history tells
    # what happened to it.
    logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(
        logging.CRITICAL
    )


class Run:
    """One run of the local stack: start(), banner(), stop()."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._closers: list[Callable[[], Any]] = []
        self._state: TableState | None = None
        self._api: Any = None
        self.persistence: str | None = None
        self.api_requests = CallCounter()
        # The local reviewer's password: LOCAL_REVIEWER_PASSWORD, or one generated (and then
        # printed in the banner).
        given = os.environ.get("LOCAL_REVIEWER_PASSWORD") or None
        self.reviewer_password_generated = given is None
        self.reviewer_password = given or generated_password()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()  # what did start stops again
            raise

    def _start(self) -> None:
        allocator.limit_arenas()  # before this run starts any thread
        options = self.options
        check_free(options.host, options.aws_port, "--aws-port")
        check_free(options.host, options.api_port, "--api-port")
        check_free(options.host, options.xray_port, "--xray-port", socket.SOCK_DGRAM)
        check_free(options.host, options.otlp_port, "--otlp-port")
        _quiet_emulator(options.verbose)
        from local.console.logbook import LogBook

        self.logbook = LogBook.install()  # after logging's set-up, before any app code runs
        os.environ.update(options.environment())
        session = boto3.Session(region_name=options.region)
        if options.state is not None:
            from chalicelib.config import settings

            config = settings()
            tables = [config.operations_table, config.users_table, config.reviews_table]
            self._state = TableState(options.state, tables, session)

        from moto import mock_aws
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        from local.emulator import EMULATOR_CONFIG, Emulator
        from local.patches import registry

        registry.check()  # before anything starts: a moto that no longer fits stops here
        default_user_config.update(EMULATOR_CONFIG)
        # Two doors to the same in-memory AWS: the server for clients outside this process
        # (AWS CLI, chalice local), and moto's in-process interception for the app, the
        # Step Functions engine and the poller, which saves an HTTP round trip per call.
        in_process = mock_aws(config=EMULATOR_CONFIG)
        in_process.start()
        self._closers.append(in_process.stop)
        server = ThreadedMotoServer(ip_address=options.host, port=options.aws_port)
        server.start()
        self._closers.append(server.stop)
        # In this process, calls go through the in-process door: the emulator's clients
        # (provisioning's, the pollers', the feeder's) are built below and keep the endpoint
        # they were built with, so the server's address must not be in the environment then.
        os.environ.pop("AWS_ENDPOINT_URL", None)

        # Import the app only now: it reads the stage's stream name from the environment.
        sys.path.insert(0, str(ROOT))
        from app import app

        self.emulator = Emulator(
            app,
            options.stage,
            session,
            clock=Clock(options.speed),
            journal=self._state,
            bounds=Bounds(executions=options.keep_executions, traces=options.keep_traces),
            xray_daemon=options.xray_daemon,
            trace_all=options.trace_all,
        )
        self._trace_collectors()
        running = self.emulator.running()
        running.__enter__()
        self._closers.append(lambda: running.__exit__(None, None, None))
        self._api = self._api_server(app)
        # Loading Chalice's config for the API server put the stage's endpoint back into the
        # environment: out again, for the app's clients.
        os.environ.pop("AWS_ENDPOINT_URL", None)
        self._add_reviewer()
        if self._state is not None:
            self._load(self._state)
        settle_collector()
        self._spawn("kinesis-poller", self.emulator.poll_forever, self._stop)
        self._spawn("housekeeping", self.emulator.housekeeping_forever, self._stop)
        if self._state is not None:
            self._spawn("snapshots", self._state.save_while_changing, self._stop, self._writes)
        self._spawn("api", self._api.serve_forever)

    def _trace_collectors(self) -> None:
        """The X-Ray daemon (UDP) and OTLP/HTTP, both into the emulator's trace store."""
        from local.aws.otlp import Receiver
        from local.aws.xray_daemon import Daemon

        o = self.options
        daemon = Daemon(self.emulator.traces, o.host, o.xray_port)
        self._closers.append(daemon.stop)
        self._spawn("xray-daemon", daemon.serve_forever)
        receiver = Receiver(self.emulator.traces.put, o.host, o.otlp_port)
        self._closers.append(receiver.stop)
        self._spawn("otlp", receiver.serve_forever)

    def _api_server(self, app: Any) -> Any:
        from chalicelib import wiring
        from local.console.routes import Console
        from local.http.front import api_server

        console = Console.for_emulator(
            self.emulator, self.logbook, wiring.operations().get, wiring.reviews().get, self.metrics
        )
        o = self.options
        return api_server(
            app,
            o.stage,
            console.handle,
            self.api_requests,
            host=o.host,
            port=o.api_port,
            verbose=o.verbose,
            authorizers=self._authorizers(app),
            traced=self.emulator,
        )

    def _authorizers(self, app: Any) -> Any:
        """API Gateway's Cognito authorizer for the reviewers' routes, on the stage's pool."""
        from chalicelib.http.auth import REVIEWERS_AUTHORIZER
        from local.aws.cognito import TokenVerifier
        from local.http.authorizer import CognitoAuthorizers

        resources = self.emulator.resources
        assert resources is not None
        if resources.reviewers is None:
            return None
        verifier = TokenVerifier(resources.reviewers, now=self.emulator.clock.time)
        return CognitoAuthorizers(app, self.options.stage, {REVIEWERS_AUTHORIZER: verifier})

    def _add_reviewer(self) -> None:
        """The local reviewer, and what the reviewer page reads to sign in."""
        from local.aws.reviewers import add_local_reviewer

        pool = self.emulator.resources.reviewers if self.emulator.resources else None
        if pool is None:
            return
        add_local_reviewer(self.emulator.session, pool, self.reviewer_password)
        os.environ.update({"REVIEWER_POOL_ID": pool.pool_id, "REVIEWER_CLIENT_ID": pool.client_id})

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
        calls = self.emulator.aws_calls.snapshot()
        return sum(calls.get(f"dynamodb.{action}", 0) for action in TABLE_WRITES)

    def _spawn(self, name: str, target: Callable[..., Any], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def metrics(self) -> dict[str, Any]:
        return {
            "apiRequests": self.api_requests.snapshot(),
            "lambdaInvocations": dict(self.emulator.lambdas.invocations),
            "awsCalls": self.emulator.aws_calls.snapshot(),
        }

    def stop(self) -> None:
        self._stop.set()
        if self._api is not None:
            self._api.shutdown()
        if self._state is not None:
            if self._state.journalling:
                self._state.save()  # a compaction: every write is in the journal already
            self._state.close_journal()
            self._state.close()
        for close in reversed(self._closers):
            close()
        self._closers.clear()

    def _reviewer_lines(self) -> list[str]:
        """How a person, or a script, signs in as the local reviewer."""
        o = self.options
        pool = self.emulator.resources.reviewers if self.emulator.resources else None
        if pool is None:
            return []
        password = (
            f"{self.reviewer_password}   (generated: set LOCAL_REVIEWER_PASSWORD to choose it)"
            if self.reviewer_password_generated
            else "$LOCAL_REVIEWER_PASSWORD"
        )
        return [
            f"  reviewer page     {o.api_url}/review/",
            f"  reviewer          user {LOCAL_REVIEWER}, password {password}",
            f"  reviewers' pool   {pool.pool_id}, page client {pool.client_id}",
            "  sign in from a script (the IdToken is what GET /reviews takes as Authorization):",
            f"    aws cognito-idp initiate-auth --endpoint-url {o.endpoint} --region {o.region} \\",
            f"        --client-id {pool.client_id} --auth-flow USER_PASSWORD_AUTH \\",
            f"        --auth-parameters USERNAME={LOCAL_REVIEWER},PASSWORD=<password>"
            " --query AuthenticationResult.IdToken",
            "",
        ]

    def banner(self) -> str:
        o = self.options
        r = self.emulator.resources
        assert r is not None
        speed = "real time" if o.speed == 1 else f"{o.speed:g}x real time"
        # make demo and make executions call the default API's address unless told another.
        url = "" if o.api_url == Options().api_url else f" URL={o.api_url}"
        credentials = o.environment()  # the stage's placeholders, as .chalice/config.json has them
        return "\n".join(
            [
                "",
                f"  {self.emulator.app.app_name} local stack (stage {o.stage}) is up",
                "",
                f"  API               {o.api_url}",
                f"  console           {o.api_url}/_local/",
                f"  AWS endpoint      {o.endpoint}   region {o.region}",
                f"  X-Ray daemon      udp://{o.xray_daemon}   OTLP http://{o.host}:{o.otlp_port}"
                "/v1/traces",
                "  traces            "
                + ("every request" if o.trace_all else "sampled as X-Ray does (--trace-all: all)"),
                f"  state machine     {r.state_machine_arn}",
                f"  stream            {r.stream_name}",
                f"  on-failure queue  {r.failure_queue_url}",
                f"  replay stream     {r.replay_stream_arn.rpartition('/')[2]}",
                f"  archive           s3://{r.archive.bucket}/events/" if r.archive else "",
                f"  state             {self.persistence or 'in memory: gone when the stack stops'}",
                f"  clock             {speed}",
                "",
                *self._reviewer_lines(),
                "  Try:",
                f"    curl -X POST {o.api_url}/users -H 'content-type: application/json' \\",
                '         -d \'{"email":"ada@example.org","name":"Ada"}\'',
                f"    make demo{url}            # a few users and each operation's journey",
                f"    make executions{url}      # what the state machine ran",
                "",
                "  AWS CLI / boto3 against the emulator:",
                f"    export AWS_ENDPOINT_URL={o.endpoint} AWS_DEFAULT_REGION={o.region}"
                f" AWS_ACCESS_KEY_ID={credentials['AWS_ACCESS_KEY_ID']}"
                f" AWS_SECRET_ACCESS_KEY={credentials['AWS_SECRET_ACCESS_KEY']}"
                # TestState and StartSyncExecution's host prefix ("sync-") would leave the
                # emulator's address.
                " AWS_DISABLE_HOST_PREFIX_INJECTION=true",
                f"    aws stepfunctions list-executions --state-machine-arn {r.state_machine_arn}",
                "",
                "  Ctrl-C stops everything.",
                "",
            ]
        )
