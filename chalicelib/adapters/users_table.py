"""The users table: users, and one email claim per address that keeps emails unique."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from chalicelib import codecs
from chalicelib.adapters import aws
from chalicelib.adapters.dynamodb import (
    TableSchema,
    cancellation_codes,
    from_item,
    get_item,
    to_item,
)
from chalicelib.domain.errors import EmailAlreadyRegistered, UserCreationIncomplete
from chalicelib.domain.users import User, UserStatus, normalize_email

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import DeleteTypeDef, PutTypeDef, UpdateTypeDef

_USER_PREFIX = "user#"
_EMAIL_PREFIX = "email#"
# Users and email claims by key: no index, no expiry.
SCHEMA = TableSchema()


class UsersTable:
    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def add(self, user: User) -> User:
        claim = {
            "pk": _EMAIL_PREFIX + normalize_email(user.request.email),
            "userId": user.id,
            "operationId": user.operation_id,
        }
        try:
            with aws.transient_errors():
                # Claim and user in one transaction: of two concurrent requests for one
                # email exactly one commits; the other sees the claim.
                aws.client("dynamodb").transact_write_items(
                    TransactItems=[
                        {"Put": self._put_new(claim)},
                        {"Put": self._put_new(_user_values(user))},
                    ]
                )
        except botocore.exceptions.ClientError as error:
            if "ConditionalCheckFailed" not in cancellation_codes(error):
                raise
            existing_claim = get_item(self._table, claim["pk"])
            if existing_claim is not None and existing_claim["operationId"] != user.operation_id:
                raise EmailAlreadyRegistered() from None
            # A retry of this very step: what it wrote the first time stands.
            stored = self.get(user.id)
            if stored is None:
                raise
            return stored
        return user

    def _put_new(self, values: dict[str, Any]) -> PutTypeDef:
        return {
            "TableName": self._table,
            "Item": to_item(values),
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def get(self, user_id: str) -> User | None:
        item = get_item(self._table, _USER_PREFIX + user_id)
        return None if item is None else _user_from(item)

    def activate(self, user_id: str) -> User:
        try:
            with aws.transient_errors():
                response = aws.client("dynamodb").update_item(
                    TableName=self._table,
                    Key={"pk": {"S": _USER_PREFIX + user_id}},
                    UpdateExpression="SET #status = :active",
                    ConditionExpression="#status IN (:pending, :active)",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":pending": {"S": UserStatus.PENDING_APPROVAL.value},
                        ":active": {"S": UserStatus.ACTIVE.value},
                    },
                    ReturnValues="ALL_NEW",
                )
        except botocore.exceptions.ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                raise UserCreationIncomplete(f"user {user_id} cannot be activated") from error
            raise
        return _user_from(from_item(response["Attributes"]))

    def reject(self, user_id: str) -> User:
        user = self.get(user_id)
        if user is None:
            raise UserCreationIncomplete(f"user {user_id} does not exist")
        rejected: UpdateTypeDef = {
            "TableName": self._table,
            "Key": {"pk": {"S": _USER_PREFIX + user_id}},
            "UpdateExpression": "SET #status = :rejected",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":rejected": {"S": UserStatus.REJECTED.value}},
        }
        # Free the email with it, unless the claim is no longer this user's.
        free_claim: DeleteTypeDef = {
            "TableName": self._table,
            "Key": {"pk": {"S": _EMAIL_PREFIX + normalize_email(user.request.email)}},
            "ConditionExpression": "attribute_not_exists(pk) OR userId = :id",
            "ExpressionAttributeValues": {":id": {"S": user_id}},
        }
        try:
            with aws.transient_errors():
                aws.client("dynamodb").transact_write_items(
                    TransactItems=[{"Update": rejected}, {"Delete": free_claim}]
                )
        except botocore.exceptions.ClientError as error:
            if cancellation_codes(error)[1:] != ["ConditionalCheckFailed"]:
                raise
            # A retry after the email went to another operation: only the user changes.
            with aws.transient_errors():
                aws.client("dynamodb").update_item(**rejected)
        return dataclasses.replace(user, status=UserStatus.REJECTED)


def _user_values(user: User) -> dict[str, Any]:
    return {
        "pk": _USER_PREFIX + user.id,
        **codecs.encode_user(user),
        "operationId": user.operation_id,
    }


def _user_from(item: dict[str, Any]) -> User:
    return codecs.decode_user(item, item["operationId"])
