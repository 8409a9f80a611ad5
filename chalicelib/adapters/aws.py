"""boto3 clients, created lazily and shared, configured from the environment.

boto3 reads AWS_ENDPOINT_URL and AWS_REGION/AWS_DEFAULT_REGION itself, so the same code
talks to AWS or to the local emulator. Creating a client costs tens of milliseconds, so one
per service and endpoint is kept for the life of the process (a Lambda container).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
import botocore.config
import botocore.exceptions

from chalicelib.domain.errors import TransientError

if TYPE_CHECKING:  # the boto3 stubs are a development dependency
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient

# The services the app calls have typed clients below; any other gets an untyped one, which
# its adapter annotates with the service's stub type (`ses: SESV2Client = aws.client("sesv2")`),
# so a new service needs no change here.

_CLIENT_CONFIG = botocore.config.Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
)
_clients: dict[tuple[str, str | None, str | None], Any] = {}
_lock = threading.Lock()
_account_id: str | None = None

# Error codes that mean "try again later" across DynamoDB, Kinesis, SNS and Step Functions.
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "TransactionConflictException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSThrottlingException",
        "ThrottledException",  # SNS
        "InternalErrorException",  # SNS
        "LimitExceededException",
    }
)


@overload
def client(service: Literal["dynamodb"]) -> DynamoDBClient: ...
@overload
def client(service: Literal["kinesis"]) -> KinesisClient: ...
@overload
def client(service: Literal["sns"]) -> SNSClient: ...
@overload
def client(service: Literal["stepfunctions"]) -> SFNClient: ...
@overload
def client(service: Literal["sts"]) -> STSClient: ...
@overload
def client(service: str) -> Any: ...
def client(service: str) -> Any:
    key = (
        service,
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
    )
    found = _clients.get(key)
    if found is None:
        # boto3's default session is not thread-safe while it builds a client.
        with _lock:
            found = _clients.get(key)
            if found is None:
                # boto3's stubs type the call per service name; the overloads above type it here.
                found = _clients[key] = boto3.client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]
    return found


def arn(service: str, resource: str) -> str:
    """The ARN of a resource of this account and region (the account is asked once)."""
    global _account_id
    sts = client("sts")
    if _account_id is None:
        _account_id = str(sts.get_caller_identity()["Account"])
    return f"arn:{sts.meta.partition}:{service}:{sts.meta.region_name}:{_account_id}:{resource}"


def error_code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def transient_errors() -> Iterator[None]:
    """Turn throttling, timeouts and service faults into TransientError."""
    try:
        yield
    except botocore.exceptions.ClientError as error:
        if error_code(error) in _TRANSIENT_CODES:
            raise TransientError(f"{error_code(error)}: {error}") from error
        raise
    except (
        botocore.exceptions.ConnectionError,
        botocore.exceptions.HTTPClientError,
    ) as error:
        raise TransientError(str(error)) from error
