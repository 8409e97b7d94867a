"""TransactionError: a rejected ANSI/NIST-ITL transaction, naming the field or record at fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from scomm.errors import ScommError
from scomm.nist.mnemonics import mnemonic_for

_T = TypeVar("_T")

# ERRT 2.060 MSG: each occurrence is at most 300 characters, at most 11 occurrences.
ERRT_MESSAGE_MAX_CHARS = 300
ERRT_MESSAGE_MAX_COUNT = 11


class NistError(ScommError):
    """The family of errors of the wire formats (ANSI/NIST-ITL, NLETS); see scomm.errors."""


class TransactionError(NistError):
    """A transaction that cannot be encoded or decoded; `field` names the culprit.

    `field` is an ANSI/NIST tag such as ``"2.022"``, a record such as ``"Type-14"``,
    or ``None`` when no single field or record is to blame (e.g. random bytes).
    """

    field: str | None
    reason: str

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason

    @property
    def mnemonic(self) -> str | None:
        """The EBTS mnemonic of `field` (``"DOB"`` for ``"2.022"``), if it has one."""
        return mnemonic_for(self.field) if self.field is not None else None

    def __str__(self) -> str:
        if self.field is None:
            return self.reason
        name = self.mnemonic
        prefix = f"{self.field} {name}" if name else self.field
        return f"{prefix}: {self.reason}"

    def __repr__(self) -> str:
        return f"TransactionError(field={self.field!r}, reason={self.reason!r})"

    def errt_messages(self) -> list[str]:
        """Lines for an ERRT 2.060 MSG field: printable ASCII, each <= 300 chars, at most 11."""
        return split_errt_text(str(self))


def split_errt_text(text: str) -> list[str]:
    """Make `text` safe for 2.060 MSG and cut it into <= 300-char occurrences (at most 11)."""
    cleaned = "".join(ch if " " <= ch <= "~" else " " for ch in text)
    cleaned = " ".join(cleaned.split()) or "transaction rejected"
    lines: list[str] = []
    rest = cleaned
    while rest and len(lines) < ERRT_MESSAGE_MAX_COUNT:
        if len(rest) <= ERRT_MESSAGE_MAX_CHARS:
            lines.append(rest)
            break
        cut = rest.rfind(" ", 0, ERRT_MESSAGE_MAX_CHARS + 1)
        if cut <= 0:
            cut = ERRT_MESSAGE_MAX_CHARS
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    else:
        if rest and lines:
            # Out of occurrences: mark the last line as cut short.
            last = lines[-1]
            lines[-1] = last[: ERRT_MESSAGE_MAX_CHARS - 3] + "..."
    return lines


def only_transaction_errors(decode: Callable[[bytes], _T], raw: bytes) -> _T:
    """Run a decoder so that nothing but TransactionError can escape it.

    Decoders map every fault they know of to a TransactionError naming the field; an
    unforeseen exception is a bug, reported as "internal error" rather than let loose.
    """
    try:
        return decode(raw)
    except TransactionError:
        raise
    except Exception as exc:
        raise TransactionError(
            None, f"internal error while decoding ({type(exc).__name__}: {exc})"[:300]
        ) from exc
