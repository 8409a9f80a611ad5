"""Users and the rules that decide whether one may be created."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Iterable

# Users are derived from their operation so that a retried user-create writes the same user.
_USER_ID_NAMESPACE = uuid.UUID("5f2a4c1e-8d0b-4f7a-9a51-3c2e7b9d6a10")

# RFC 2606 and RFC 6761 reserve these top-level domains: no real mailbox lives there.
RESERVED_TOP_LEVEL_DOMAINS = frozenset({"invalid", "test", "example", "localhost"})


class UserStatus(enum.StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    ACTIVE = "ACTIVE"
    REJECTED = "REJECTED"


@dataclasses.dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    status: UserStatus
    created_at: str
    operation_id: str


def user_id_for_operation(operation_id: str) -> str:
    return str(uuid.uuid5(_USER_ID_NAMESPACE, operation_id))


def normalize_email(email: str) -> str:
    """The form under which an email is unique: addresses compare case-insensitively."""
    return email.strip().casefold()


class Verdict(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"  # the rules leave it to a person


@dataclasses.dataclass(frozen=True)
class Approval:
    verdict: Verdict
    reason: str = ""

    @property
    def approved(self) -> bool:
        return self.verdict is Verdict.APPROVE


def approve(
    email: str, denied_domains: Iterable[str], review_domains: Iterable[str] = ()
) -> Approval:
    """user-approve's rules: reserved top-level domains and a configurable deny list reject;
    then an address at a domain listed for review goes to a person; the rest is approved.

    A list's entry matches the domain itself and every subdomain of it.
    """
    domain = normalize_email(email).rpartition("@")[2].rstrip(".")
    top_level = domain.rpartition(".")[2]
    if top_level in RESERVED_TOP_LEVEL_DOMAINS:
        return Approval(
            Verdict.REJECT, f"the top-level domain .{top_level} is reserved (RFC 2606/6761)"
        )
    if _listed(domain, denied_domains):
        return Approval(Verdict.REJECT, "the email domain is not accepted")
    if _listed(domain, review_domains):
        return Approval(Verdict.REVIEW, "the email domain is reviewed by a person")
    return Approval(Verdict.APPROVE)


def _listed(domain: str, entries: Iterable[str]) -> bool:
    for listed in entries:
        entry = listed.strip().casefold().lstrip(".")
        if entry and (domain == entry or domain.endswith("." + entry)):
            return True
    return False
