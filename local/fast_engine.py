"""Take the waste out of moto's hot paths (emulator speed, same behaviour).

Profiling a local run (yappi, wall clock) showed, per operation: the ASL definition
re-parsed by ANTLR (~16 ms); a new boto3 client built for every task (tens of ms, plus a
fresh connection); every JSONPath of the ASL compiled anew, each building a yacc parser
(~1.4 ms, ~18 per execution); and every request to moto listing its handler class's methods
with inspect (~1.5 ms). All are pure functions of their inputs, so they are cached: the
parsed program per definition text (evaluation state lives in each execution's own
Environment, not in the parsed components), compiled JSONPaths per path, one client per
service and region, and method names per class.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from botocore.client import BaseClient
from botocore.config import Config
from moto.core.models import botocore_stubber
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client

# Modules that imported boto_client_for by name and call it per task.
_CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
)
_clients: dict[tuple[Any, ...], BaseClient] = {}
_lock = threading.Lock()


def _shared_client(region: str, service: str, state_credentials: Any = None) -> BaseClient:
    import boto3

    in_process = botocore_stubber.enabled
    key = (region, service, in_process, moto_server_port())
    with _lock:
        if key not in _clients:
            endpoint = {} if in_process else {"endpoint_url": _endpoint()}
            _clients[key] = boto3.client(
                service_name=service,
                region_name=region,
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
                config=Config(
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    max_pool_connections=50,
                ),
                **endpoint,
            )
        return _clients[key]


def _endpoint() -> str:
    # The local stack's server listens on MOTO_HOST; moto's own default, "localhost", may
    # try ::1 first on every new connection.
    return f"http://{os.environ.get('MOTO_HOST', '127.0.0.1')}:{moto_server_port()}"


# (module, attribute) of pure functions worth memoising.
_MEMOISED = (
    ("moto.stepfunctions.parser.asl.utils.json_path", "parse"),
    ("moto.stepfunctions.parser.asl.component.common.path.result_path", "parse"),
    ("moto.core.responses", "method_names_from_class"),
)


@contextlib.contextmanager
def faster_engine() -> Iterator[None]:
    patches: list[tuple[Any, str, Any]] = [
        (importlib.import_module(name), "boto_client_for", _shared_client) for name in _CLIENT_USERS
    ]
    patches.append((boto_client, "boto_client_for", _shared_client))
    for name, attribute in _MEMOISED:
        module = importlib.import_module(name)
        patches.append(
            (module, attribute, functools.lru_cache(maxsize=1024)(getattr(module, attribute)))
        )
    original_parse = AmazonStateLanguageParser.parse
    patches.append(
        (
            AmazonStateLanguageParser,
            "parse",
            staticmethod(functools.lru_cache(maxsize=16)(original_parse)),
        )
    )
    originals = [
        (target, attribute, target.__dict__[attribute]) for target, attribute, _ in patches
    ]
    for target, attribute, replacement in patches:
        setattr(target, attribute, replacement)
    try:
        yield
    finally:
        for target, attribute, original in reversed(originals):
            setattr(target, attribute, original)
        _clients.clear()
