"""The Kinesis stream that carries accepted operations to the starter."""

from __future__ import annotations

import botocore.exceptions

from chalicelib.adapters import aws
from chalicelib.domain.errors import PublishFailed, TransientError
from chalicelib.domain.events import OperationRequested


class EventStream:
    def __init__(self, stream_name: str) -> None:
        self._stream = stream_name

    def publish(self, event: OperationRequested) -> None:
        try:
            with aws.transient_errors():
                aws.client("kinesis").put_record(
                    StreamName=self._stream,
                    Data=event.to_bytes(),
                    # Operations are independent: spread them evenly over the shards.
                    PartitionKey=event.operation_id,
                )
        except (TransientError, botocore.exceptions.ClientError) as error:
            raise PublishFailed(str(error)) from error
