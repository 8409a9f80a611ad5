"""The UserRepository port (chalicelib/services/ports.py): FakeUsers and UsersTable keep the
same promises."""

import dataclasses
import uuid

import pytest

from chalicelib.domain.errors import EmailAlreadyRegistered, UserCreationIncomplete
from chalicelib.domain.users import User, UserStatus
from tests.builders import a_user, unique_email


def _user(email: str) -> User:
    return a_user(email=email)


def _retry_of(user: User) -> User:
    """The same step of the same operation, run again a little later."""
    return dataclasses.replace(user, created_at="2026-01-01T00:00:09.000Z")


def test_an_added_user_reads_back_as_it_was_stored(users):
    user = _user(unique_email())
    assert users.add(user) == user
    assert users.get(user.id) == user


def test_an_unknown_user_is_none(users):
    assert users.get(str(uuid.uuid4())) is None


def test_adding_again_for_the_same_operation_returns_what_was_stored(users):
    user = users.add(_user(unique_email()))
    assert users.add(_retry_of(user)) == user


def test_an_email_is_registered_once_case_insensitively(users):
    email = unique_email()
    users.add(_user(email))
    with pytest.raises(EmailAlreadyRegistered):
        users.add(_user(email.upper()))


def test_activation_is_repeatable(users):
    user = users.add(_user(unique_email()))
    assert users.activate(user.id) == dataclasses.replace(user, status=UserStatus.ACTIVE)
    assert users.activate(user.id).status is UserStatus.ACTIVE
    assert users.get(user.id).status is UserStatus.ACTIVE


def test_a_rejected_user_is_never_activated(users):
    user = users.add(_user(unique_email()))
    users.reject(user.id)
    with pytest.raises(UserCreationIncomplete):
        users.activate(user.id)
    assert users.get(user.id).status is UserStatus.REJECTED


def test_a_missing_user_is_never_activated(users):
    with pytest.raises(UserCreationIncomplete):
        users.activate(str(uuid.uuid4()))


def test_rejection_is_repeatable_and_frees_the_email(users):
    email = unique_email()
    user = users.add(_user(email))
    rejected = dataclasses.replace(user, status=UserStatus.REJECTED)
    assert users.reject(user.id) == rejected
    assert users.reject(user.id) == rejected  # a retried step
    assert users.get(user.id) == rejected
    assert users.add(_user(email)).request.email == email  # free for another operation


def test_a_missing_user_cannot_be_rejected(users):
    with pytest.raises(UserCreationIncomplete):
        users.reject(str(uuid.uuid4()))


def test_rejection_frees_only_its_own_claim(users):
    email = unique_email()
    first = users.add(_user(email))
    users.reject(first.id)
    second = users.add(_user(email))  # the email went to another operation meanwhile
    assert users.reject(first.id).status is UserStatus.REJECTED  # a retried step
    with pytest.raises(EmailAlreadyRegistered):
        users.add(_user(email))
    assert users.get(second.id) == second


def test_a_retried_add_after_rejection_does_not_claim_the_email_again(users):
    email = unique_email()
    user = users.add(_user(email))
    users.reject(user.id)
    assert users.add(_retry_of(user)).status is UserStatus.REJECTED
    assert users.add(_user(email)).request.email == email  # still free
