"""The Kinesis stream that carries accepted operations to the starter."""

from __future__ import annotations

import dataclasses

import botocore.exceptions

from chalicelib.adapters import aws
from chalicelib.domain.errors import PublishFailed, TransientError
from chalicelib.domain.events import OperationRequested
from chalicelib.domain.operations import utc_now


class EventStream:
    def __init__(self, stream_name: str) -> None:
        self._stream = stream_name

    def publish(self, event: OperationRequested) -> None:
        try:
            with aws.transient_errors():
                aws.client("kinesis").put_record(
                    StreamName=self._stream,
                    # Stamped as it is published: the archive is replayed by this time.
                    Data=dataclasses.replace(event, published_at=utc_now()).to_bytes(),
                    # Operations are independent: spread them evenly over the shards.
                    PartitionKey=event.operation_id,
                )
        except (TransientError, botocore.exceptions.ClientError) as error:
            raise PublishFailed(str(error)) from error
