"""What `scomm stats` and `scomm foia export` share: the name a release may have, and the one
release, built from one chain head, that a folder may hold."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from scomm.cli.errors import BadInput
from scomm.reports.ledger import ChainHead

RELEASE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_release_name(release: str) -> None:
    if not RELEASE_NAME.fullmatch(release):
        raise BadInput(f"--release {release!r}: letters, digits, '.', '_' and '-' only (<= 64)")


def release_in(out: Path, release: str | None) -> dict[str, Any] | None:
    """The manifest of the release `out` holds (None: none yet). The manifest covers the whole
    folder under one release name: a folder holding another release is not written into."""
    from scomm.reports.manifest import read_manifest

    existing = read_manifest(out) if out.is_dir() else None
    if existing is not None and release is not None and existing.get("release") != release:
        raise BadInput(
            f"--out {out} holds release {existing.get('release')!r}, not {release!r}: "
            "choose an empty folder or the same release"
        )
    return existing


def check_same_head(out: Path, existing: dict[str, Any] | None, session: Session) -> ChainHead:
    """The chain head `session` sees; a folder holding a release is written into only from
    the chain head it was built from."""
    from scomm.reports.ledger import recorded_head
    from scomm.reports.manifest import manifest_chain_head

    earlier = manifest_chain_head(out) if existing is not None else None
    head = recorded_head(session)
    if earlier is not None and earlier != head:
        raise BadInput(
            f"--out {out} holds a release built from audit entry {earlier.seq}, this "
            f"database's chain ends at entry {head.seq}: choose an empty folder"
        )
    return head
