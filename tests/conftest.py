"""Shared fixtures: the whole system over moto, in process (`stack`, `shared_stack`) and as
`make run` runs it (`local_stack`); and each test's markers, derived from where it lives."""

from __future__ import annotations

import ast
import collections
import contextlib
import functools
import gc
import itertools
import os
from collections.abc import Iterator, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import botocore.handlers
import pytest
from _pytest.mark.expression import Expression, ExpressionMatcher
from hypothesis import settings

from infra.definition import stage_environment

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest
    from chalice import Chalice
    from moto.core.config import DefaultConfig

    from local.emulator import Emulator
    from tests.local_stack_process import LocalStackProcess

TESTS = Path(__file__).parent
pytest_plugins = ("tests.scheduling",)  # the order xdist hands out files: the slow first
# What a module imports, or the fixture its tests take, when it starts the local stack (or
# another of the project's processes) in a subprocess: its tests are marked `process`.
SUBPROCESS_MODULES = {"tests.local_stack_process", "local.process.child"}
PROCESS_FIXTURE = "local_stack"  # the fixture that runs the local stack in a subprocess
PROCESS = "process"  # the marker of the tests that drive it
DEPLOYED = "deployed"  # the black-box suite's tier (tests/deployed)
STAGE = "test"  # like the local stage, but for moto in process (no endpoint URL)
# The environment pytest started in: the black-box suite (tests/deployed) reaches a deployed
# stage with the caller's own AWS settings, which the lines below replace for the emulator.
ORIGINAL_ENVIRONMENT = dict(os.environ)
# app.py reads the stream name at import, as Chalice does at package time; set it first.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        **stage_environment(STAGE),
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
# The credentials calls are signed with in this process: the placeholders above, and moto's
# own (its mock sets them while it runs).
PLACEHOLDER_KEYS = (os.environ["AWS_ACCESS_KEY_ID"], "FOOBARKEY")
NO_EMULATOR = (
    "this test called AWS, but no emulator runs: take the `stack` fixture (tests/conftest.py) "
    "and call the app through `stack.client` (or `with Client(app)` inside that test), as "
    'docs/contributors.md, "Write a test", shows'
)


def _no_aws_outside_the_emulator(request: AWSPreparedRequest, **_: object) -> None:
    """A call signed with this process's placeholder credentials that moto does not answer would
    leave for AWS. The app's adapters count a connection that fails as a passing fault (503
    "the service is busy"); here it is a test run without the emulator, so it fails at once with
    what to use instead. (The black-box suite, tests/deployed, signs with the caller's own
    credentials, and a local stack in a subprocess is at 127.0.0.1: neither is stopped.)"""
    from moto.core.models import botocore_stubber

    host = urlsplit(request.url).hostname or ""
    signed = str(request.headers.get("Authorization", ""))
    placeholder = any(f"Credential={key}/" in signed for key in PLACEHOLDER_KEYS)
    if host.endswith(".amazonaws.com") and placeholder and not botocore_stubber.enabled:
        pytest.fail(NO_EMULATOR, pytrace=False)


# Every botocore session made from here on (boto3's default one, the app's clients') has it.
botocore.handlers.BUILTIN_HANDLERS.append(("before-send", _no_aws_outside_the_emulator))


def caller_session() -> boto3.Session:
    """The caller's AWS credentials and region, as they were when pytest started: for the
    suites that can be pointed at AWS (tests/deployed, tests/states)."""
    env = ORIGINAL_ENVIRONMENT
    return boto3.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        profile_name=env.get("AWS_PROFILE"),
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
    )


# Hypothesis times each example against a deadline by default: a wall-clock assertion, which
# a loaded machine (parallel workers, CI) fails now and then. Performance is measured in
# benchmarks/, not here.
settings.register_profile("project", deadline=None)
settings.load_profile("project")


@functools.cache
def _session() -> boto3.Session:
    """One session for the test process: it parses each service's model once (a third of a
    stack's start-up), where a session per stack parsed them again for every test. And one
    client per service, as the app's adapters keep theirs (chalicelib/adapters/aws.py): a
    client takes ~7 ms to build, a stack's set-up asked for twenty and a drain for one per
    poll. Neither holds state of a test: moto's mock is per stack, and intercepts every
    client's requests whenever it was built."""
    session = boto3.Session()
    session.client = functools.cache(session.client)  # type: ignore[method-assign]
    return session


@contextlib.contextmanager
def emulated_aws(config: DefaultConfig | None = None) -> Iterator[boto3.Session]:
    """moto's in-process mock (with moto's `config`), boto3's default session in it the test
    process's one (_session), which it yields: moto sets boto3's default session aside for the
    mock, and then each mock's first boto3.client(...) made a session of its own, which loaded
    botocore's endpoints and each service's model again (0.1 s and more, every time)."""
    from moto import mock_aws

    with mock_aws(config=config):
        boto3.DEFAULT_SESSION = _session()
        yield boto3.DEFAULT_SESSION


@contextlib.contextmanager
def running_stack(app: Chalice | None = None, trace_all: bool = False) -> Iterator[Emulator]:
    """The whole system in process over moto's mock, for app.py's app (or another one, such as
    the app imported with another stage's authorizers); its traces sampled as X-Ray's default
    rule does (cheap: about one operation a second is recorded), or, with trace_all, every
    one (the tests that read traces)."""
    # Imported here, after the environment above: app.py reads the stage's stream name.
    from chalice.test import Client

    from local import emulator as emulation
    from local.state.clock import Clock

    if app is None:
        from app import app as app_py

        app = app_py
    # boto3.client(...) in the tests and the app's adapters: the process's session too.
    with emulated_aws(emulation.EMULATOR_CONFIG):
        # Test time: a retry's backoff moves the clock instead of waiting, and a timeout
        # fires when a test advances the clock.
        emulator = emulation.Emulator(
            app, STAGE, _session(), clock=Clock(skip_sleeps=True), trace_all=trace_all
        )
        with emulator.running(), Client(app, stage_name=STAGE) as client:
            _trace_requests(client.http, emulator)
            emulator.client = client  # type: ignore[attr-defined]
            yield emulator


def _trace_requests(http: Any, emulator: Emulator) -> None:
    """Chalice's test client's requests traced as the local stack's HTTP front traces them
    (API Gateway's segment and the API function's invocation), so traces start at the API."""
    untraced = http.request

    def request(method: str, path: str, headers: dict | None = None, body: bytes = b"") -> Any:
        header = (headers or {}).get("X-Amzn-Trace-Id")
        with emulator.api_request(method.upper(), path, header) as traced:
            with emulator.api_function(traced):
                response = untraced(method, path, headers, body)
            traced.status = response.status_code
            return response

    http.request = request


@pytest.fixture
def stack() -> Iterator[Emulator]:
    """The whole system in process, fresh for each test: the emulator on test time, with
    Chalice's test client of the app as `stack.client`."""
    with running_stack() as emulator:
        yield emulator


@pytest.fixture
def young_heap() -> None:
    """Everything alive before the test out of the collector's sight (gc.freeze), as what
    was alive once the tests were collected is (pytest_collection_finish): a collection and a
    walk of the heap (tests/helpers.py: live) then see only the objects made since, by the
    test and the fixtures it takes after this one, at a cost that does not grow with all the
    worker ran before (a full pass took ~0.5 s late in a run). Take it first."""
    gc.freeze()


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[Emulator]:
    """The same, one for a module whose tests do not depend on each other's data."""
    with running_stack() as emulator:
        yield emulator


@pytest.fixture
def shared(shared_stack: Emulator) -> Iterator[Emulator]:
    """The module's shared_stack, for a test that asserts only on what it did itself (its own
    operations and what was made while it ran, with unique emails and keys), and drained
    after it, so that it leaves nothing in flight for the next. A module's tests that take a
    stack of their own come before the first that takes this one: no stack starts while the
    shared one runs (moto's mock and the patches are on already)."""
    yield shared_stack
    shared_stack.drain()


class _SharedLocalStack:
    """The `local_stack` of this test process (a pytest-xdist worker): started when a test
    first takes it, stopped when the next test will not (and started again if a later one
    does)."""

    def __init__(self) -> None:
        self._running: contextlib.AbstractContextManager[LocalStackProcess] | None = None
        self._process: LocalStackProcess | None = None

    def get(self) -> LocalStackProcess:
        if self._process is None:
            from tests.local_stack_process import running

            running_stack = running()
            self._process = running_stack.__enter__()
            self._running = running_stack
        return self._process

    def stop(self) -> None:
        """Ctrl-C, and the stack must stop cleanly (tests/local_stack_process.py: running)."""
        if self._running is not None:
            running_stack, self._running, self._process = self._running, None, None
            running_stack.__exit__(None, None, None)


_LOCAL_STACK = _SharedLocalStack()


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStackProcess]:
    """The local stack as `make run` runs it (`python -m local run`), in a subprocess on free
    ports: one for every module that takes it, since a start costs a few seconds of CPU.
    tests/scheduling.py runs those modules first, one after the other on one pytest-xdist
    worker, and the stack is stopped with Ctrl-C, and required to stop cleanly, after the
    last of them (pytest_runtest_teardown below). So its tables, executions and queues hold
    the data of every such module: a test works on data of its own (tests/builders.py:
    unique_email) and asserts on what it did, never on how much the stack holds; and a module
    leaves no review waiting (checked after it): the fuzz's journeys would decide it, and the
    reviewer page would not be empty. A module whose tests take it is marked `process`; a
    test that needs a stack of its own (one it kills or restarts, other options) starts it
    with tests.local_stack_process.running() or LocalStackProcess."""
    import requests

    stack = _LOCAL_STACK.get()
    yield stack
    waiting = requests.get(f"{stack.api}/reviews", headers=stack.reviewer(), timeout=10)
    assert waiting.status_code == 200, waiting.text
    assert waiting.json()["reviews"] == [], "reviews left waiting on the shared local stack"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the item's own teardown: the shared local stack stops once the next test's module
    does not take it (or after the last test of the run, or of the worker: nextitem None)."""
    torn_down = yield
    if nextitem is None or not takes_local_stack(nextitem.path):
        _LOCAL_STACK.stop()
    return torn_down


def takes_local_stack(module: Path) -> bool:
    """Whether a test module's tests take the shared local stack: as the fixture (a parameter
    of one of its tests or fixtures), or, in the black-box suite (tests/deployed), through its
    `target`, which takes it unless pointed elsewhere."""
    return _takes_process_fixture(module) or DEPLOYED in _markers(module)


@functools.cache
def _markers(module: Path) -> frozenset[str]:
    """A test module's markers: its tier, the directory it lives in (tests/<tier>/...), and
    `process` when it drives the local stack in a subprocess (a test takes the `local_stack`
    fixture, or the module imports one of SUBPROCESS_MODULES). Derived, not written, so a new
    file cannot forget them (and --strict-markers refuses an unregistered tier); read from the
    path and the source, so they are known before the module is imported."""
    misplaced = _misplaced(module)
    if misplaced is not None:
        raise pytest.UsageError(misplaced)
    process = _drives_a_subprocess(module) or _takes_process_fixture(module)
    tier = module.relative_to(TESTS).parts[0]
    return frozenset({tier, PROCESS} if process else {tier})


@functools.cache
def _source(module: Path) -> bytes:
    return module.read_bytes()


@functools.cache
def _tree(module: Path) -> ast.Module:
    return ast.parse(_source(module), str(module))


def _named(module: Path, names: Set[str]) -> bool:
    """Whether the module's source names any of `names` at all: where it does not (most
    modules), neither does its syntax tree, which is then neither parsed nor walked (0.5 s
    of CPU for all the modules, in each pytest process)."""
    return any(name.encode() in _source(module) for name in names)


@functools.cache
def _drives_a_subprocess(module: Path) -> bool:
    """Whether the module imports one of SUBPROCESS_MODULES."""
    return _named(module, SUBPROCESS_MODULES) and any(
        name in SUBPROCESS_MODULES
        for node in ast.walk(_tree(module))
        for name in (
            [node.module]
            if isinstance(node, ast.ImportFrom)
            else [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else []
        )
    )


@functools.cache
def _takes_process_fixture(module: Path) -> bool:
    """Whether one of the module's functions, its tests and fixtures, takes PROCESS_FIXTURE."""
    return _named(module, {PROCESS_FIXTURE}) and any(
        argument.arg == PROCESS_FIXTURE
        for node in ast.walk(_tree(module))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for argument in node.args.args
    )


def _misplaced(module: Path) -> str | None:
    """Why a test module is not where the markers can be derived, if it is not."""
    parts = module.relative_to(TESTS).parts
    tiers = {line.split(":")[0].strip() for line in _registered_markers()}
    if len(parts) >= 2 and parts[0] in tiers:
        return None
    return (
        f"{module.relative_to(TESTS.parent)}: a test module lives in a tier folder, "
        f"tests/<tier>/, one of: {', '.join(sorted(tiers - {PROCESS}))} "
        "(pyproject.toml registers the tiers as markers)"
    )


def pytest_configure(config: pytest.Config) -> None:
    """A test module outside a tier folder is named before anything runs, in one line: raised
    while collecting, pytest-xdist's workers would report it as an INTERNALERROR."""
    for argument in config.args:
        given = Path(argument.split("::")[0]).resolve()
        if not given.is_relative_to(TESTS):
            continue
        modules = sorted(given.rglob("test_*.py")) if given.is_dir() else [given]
        for module in modules:
            if module.match("test_*.py") and (misplaced := _misplaced(module)) is not None:
                raise pytest.UsageError(misplaced)


@functools.cache
def _registered_markers() -> tuple[str, ...]:
    import tomllib

    with open(TESTS.parent / "pyproject.toml", "rb") as file:
        return tuple(tomllib.load(file)["tool"]["pytest"]["ini_options"]["markers"])


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A test module none of whose tests `-m` can select is not imported at all: `make
    test-fast` neither builds the fuzz's schemathesis cases nor imports selenium in every
    worker. A test may carry markers beyond its module's (a contract test's fake is `unit`),
    so a module is left out only if no combination of further registered markers selects
    it."""
    expression = config.getoption("markexpr")
    if not expression or not collection_path.match("test_*.py"):
        return None
    known = _markers(collection_path)
    registered = {line.split(":")[0].strip() for line in _registered_markers()}
    further = sorted(registered - known)
    compiled = Expression.compile(expression)
    combinations = itertools.chain.from_iterable(
        itertools.combinations(further, size) for size in range(len(further) + 1)
    )
    if any(compiled.evaluate(_has(known | set(added))) for added in combinations):
        return None
    return True


def _has(markers: Set[str]) -> ExpressionMatcher:
    def matcher(name: str, /, **arguments: str | int | bool | None) -> bool:
        return not arguments and name in markers

    return matcher


def pytest_collection_finish(session: pytest.Session) -> None:
    """The collector as in the local stack's process (local/state/retention.py:
    settle_collector): what exists once the tests are collected (the modules, the tests)
    lives to the end, and the stacks allocate heavily."""
    from local.state.retention import settle_collector

    settle_collector()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test with its module's markers (above)."""
    seen = collections.Counter(item.nodeid for item in items)
    if twice := [nodeid for nodeid, count in seen.items() if count > 1]:
        # pytest-xdist keys its work by node id: all but one of these would never run.
        raise pytest.UsageError(f"tests with the same node id: {twice}")
    for item in items:
        for marker in sorted(_markers(item.path)):
            item.add_marker(marker)
