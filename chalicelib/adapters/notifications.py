"""The reviewers' topic (SNS): a word that a review waits, to whoever subscribed (an email
address on AWS, the local console's queue in the local stack)."""

from __future__ import annotations

import botocore.exceptions

from chalicelib.adapters import aws
from chalicelib.domain.errors import NotificationFailed
from chalicelib.domain.reviews import Review, review_notification


class ReviewTopic:
    def __init__(self, topic_name: str, page_url: str, topic_arn: str | None = None) -> None:
        self._topic_name = topic_name
        self._page_url = page_url
        self._known_arn = topic_arn

    @property
    def _topic_arn(self) -> str:
        # Without a given ARN it is built from the name, as the state machine's is.
        return self._known_arn or aws.arn("sns", self._topic_name)

    def review_requested(self, review: Review) -> None:
        notification = review_notification(review, self._page_url)
        try:
            with aws.transient_errors():
                aws.client("sns").publish(
                    TopicArn=self._topic_arn,
                    Subject=notification.subject,
                    Message=notification.text,
                )
        except botocore.exceptions.ClientError as error:
            raise NotificationFailed(f"{aws.error_code(error)}: {error}") from error
