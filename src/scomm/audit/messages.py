"""How a message's audit entry binds its outbox payload: the sha256 of the exact payload
text, and (in entries of every age) the body as the audit keeps it. Used by the unit of work
that writes both, the dispatcher that checks a row before delivery, and `scomm audit
reconcile` that checks every row."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from scomm.audit.chain import canonical_json

PAYLOAD_SHA256 = "payload_sha256"  # the message entry's field: the outbox payload's digest


def payload_digest(text: str) -> str:
    """The sha256 (hex) of an outbox payload as stored."""
    return hashlib.sha256(text.encode()).hexdigest()


def audit_view(payload: dict[str, Any]) -> dict[str, Any]:
    """The message body as the audit keeps it: a whole transaction becomes its digest."""
    view = dict(payload)
    if isinstance(view.get("transaction"), str):
        raw = view["transaction"].encode()
        view["transaction"] = {"sha256_b64": hashlib.sha256(raw).hexdigest(), "length": len(raw)}
    return view


def same_body(body: Any, text: str) -> bool:
    """An older message entry's audited `body` (written before entries kept the payload's
    hash, migration 0004) against the outbox payload `text`."""
    try:
        payload = json.loads(text)
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    return canonical_json(body) == canonical_json(audit_view(payload))
