"""What chalicelib/adapters/tracing.py and its two tracers (tracing_xray, tracing_otel) share:
the trace context's format, the annotation's name, and how a tracing failure is reported."""

from __future__ import annotations

import dataclasses
import logging

logger = logging.getLogger("chalicelib.adapters.tracing")
ANNOTATION = "operation_id"  # the one annotation: traces are found by it
_reported: set[str] = set()


@dataclasses.dataclass(frozen=True)
class TraceHeader:
    """An X-Ray trace header: `Root=1-<8 hex: epoch s>-<24 hex>;Parent=<16 hex>;Sampled=0|1`."""

    root: str
    parent: str | None = None
    sampled: bool = True

    @classmethod
    def parse(cls, text: str | None) -> TraceHeader | None:
        """The header in `text`, None when it has no well-formed Root."""
        if not text:
            return None
        fields = dict(part.strip().partition("=")[::2] for part in text.split(";") if "=" in part)
        root = fields.get("Root", "")
        pieces = root.split("-")
        if len(pieces) != 3 or len(pieces[1]) != 8 or len(pieces[2]) != 24:
            return None
        if not all(_is_hex(piece) for piece in pieces[1:]):
            return None
        parent = fields.get("Parent") or None
        if parent is not None and (len(parent) != 16 or not _is_hex(parent)):
            parent = None
        return cls(root, parent, fields.get("Sampled", "1") != "0")

    def __str__(self) -> str:
        parent = f";Parent={self.parent}" if self.parent else ""
        return f"Root={self.root}{parent};Sampled={int(self.sampled)}"

    @property
    def started(self) -> int:
        """When the trace began, in seconds since the epoch (the root's second part)."""
        return int(self.root.split("-")[1], 16)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text.lower())


def failed(what: str, error: BaseException) -> None:
    """Logs a tracing failure the first time one of its kind happens; later ones are dropped."""
    if what in _reported:
        return
    _reported.add(what)
    logger.warning(
        "tracing: %s failed (%s: %s); the work goes on untraced where it must, and this is "
        "not logged again",
        what,
        type(error).__name__,
        error,
    )
