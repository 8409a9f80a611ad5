"""Users and the rules that decide whether one may be created."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
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
class UserRequest:
    """What a client asks a user to be: the payload of the operation, and what the stored
    user, its review and the stream's event carry whole (chalicelib/codecs.py writes it).

    Add a field here (docs/extending.md, "Add a field"): an optional one defaults to None, and
    where it is None it is left out everywhere, so earlier requests keep their shape.
    """

    email: str
    name: str

    def fingerprint(self) -> str:
        """Stable hash of the request, used to tell an idempotent replay from a misuse. Only
        the fields set count: an optional field added later leaves every earlier request's
        fingerprint, kept with its Idempotency-Key, as it was."""
        given = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        canonical = json.dumps(given, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class User:
    id: str
    request: UserRequest  # what the client asked for: email, name...
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
