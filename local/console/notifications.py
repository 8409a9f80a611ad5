"""What the review topic sent, for the console: the local stack subscribes a queue to the topic
(local/aws/provision.py), as a team subscribes an email address on AWS, and the console reads
that queue like an inbox, keeping the newest messages."""

from __future__ import annotations

import collections
import functools
import json
import threading
from typing import Any

KEPT = 50
_READS = 10  # at most this many ReceiveMessage calls (10 messages each) per look


class Inbox:
    def __init__(self, session: Any, queue_url: str, topic_arn: str) -> None:
        self._session = session
        self._queue_url = queue_url
        self._topic_arn = topic_arn
        self._messages: collections.deque[dict[str, Any]] = collections.deque(maxlen=KEPT)
        self._lock = threading.Lock()

    @functools.cached_property
    def _sqs(self) -> Any:
        return self._session.client("sqs")

    def messages(self) -> dict[str, Any]:
        """The newest first: what arrived since the last look, read off the queue, then what
        earlier looks kept."""
        with self._lock:
            for _ in range(_READS):
                received = self._sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
                ).get("Messages", [])
                if not received:
                    break
                for message in received:
                    self._messages.append(_notification(message["Body"]))
                self._sqs.delete_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                        for n, m in enumerate(received)
                    ],
                )
            newest_first = sorted(self._messages, key=lambda m: m["sentAt"] or "", reverse=True)
        return {"topicArn": self._topic_arn, "messages": newest_first}


def _notification(body: str) -> dict[str, Any]:
    """An SNS notification as SQS holds it (the JSON envelope, raw delivery off)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        return {"messageId": None, "sentAt": None, "subject": None, "message": body}
    return {
        "messageId": envelope.get("MessageId"),
        "sentAt": envelope.get("Timestamp"),
        "subject": envelope.get("Subject"),
        "message": envelope.get("Message"),
    }
