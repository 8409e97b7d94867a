"""Identifiers: transaction control numbers (TCN), case ids and message ids."""

from __future__ import annotations

import hashlib
from datetime import datetime


def transaction_control_number(ori: str, moment: datetime, sequence: int) -> str:
    """A TCN unique per originating agency: ORI, timestamp, sequence (EBTS 1.009)."""
    return f"{ori}-{moment:%Y%m%d%H%M%S}-{sequence:06d}"


def derived_id(prefix: str, *parts: object) -> str:
    """A stable id derived from its causes, so a replayed handler produces the same id."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:20]
    return f"{prefix}-{digest}"
