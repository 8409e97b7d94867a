"""The manifest of a release folder: what it was built from (the audit chain's head), the
rules applied, the row counts, and the sha256 and size of every file, so that anyone can
check that a copy is whole and unchanged (`verify_manifest`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scomm.reports.errors import ReleaseInputError
from scomm.reports.ledger import ChainHead

MANIFEST = "manifest.json"
# The public pages are built from a release (`scomm stats site`, into DIR/site by default):
# a view of it, holding copies of its files, not a part of it.
PAGES = "site"
FORMAT = 1


def head_dict(head: ChainHead) -> dict[str, Any]:
    return {"seq": head.seq, "entry_hash": head.entry_hash}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def release_files(directory: Path) -> list[dict[str, Any]]:
    """Every file under `directory` but the manifest itself and the pages built from the
    release (DIR/site): path (relative, with '/'), size in bytes and sha256, sorted by path."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if relative == MANIFEST or relative.startswith(PAGES + "/"):
            continue
        found.append({"path": relative, "bytes": path.stat().st_size, "sha256": file_digest(path)})
    return found


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest in `directory`, None where there is none; one that is not a JSON
    object is refused (`ReleaseInputError`), never taken for an absent one."""
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ReleaseInputError(f"{path}: not a readable manifest ({error})") from None
    if not isinstance(loaded, dict):
        raise ReleaseInputError(f"{path}: not a manifest (a JSON object)")
    return loaded


def write_manifest(
    directory: Path,
    *,
    release: str,
    chain_head: ChainHead | None,
    rules: Mapping[str, Any],
    row_counts: Mapping[str, int],
    created: datetime | None = None,
) -> dict[str, Any]:
    """Write DIR/manifest.json over every file now in `directory`.

    Parts of a release are written by different commands (the statistics, the case
    tables): the rules and row counts of a manifest already there are kept, and those
    given here replace theirs key by key; the files are always hashed anew. `created`
    defaults to now (UTC)."""
    previous = read_manifest(directory) or {}
    merged_rules = dict(previous.get("rules") or {})
    merged_rules.update(rules)
    merged_counts = dict(previous.get("row_counts") or {})
    merged_counts.update(row_counts)
    moment = created or datetime.now(UTC)
    document: dict[str, Any] = {
        "format": FORMAT,
        "release": release,
        "created": moment.isoformat(timespec="seconds"),
        "chain_head": head_dict(chain_head) if chain_head is not None else None,
        "rules": dict(sorted(merged_rules.items())),
        "row_counts": dict(sorted(merged_counts.items())),
        "files": release_files(directory),
    }
    (directory / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
    return document


def manifest_chain_head(directory: Path) -> ChainHead | None:
    """The chain head a manifest already in `directory` records (None when none does)."""
    head = (read_manifest(directory) or {}).get("chain_head")
    if not isinstance(head, dict):
        return None
    seq, digest = head.get("seq"), head.get("entry_hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(digest, str):
        raise ReleaseInputError(f"{directory / MANIFEST}: chain_head is not {{seq, entry_hash}}")
    return ChainHead(seq, digest)


@dataclass
class ManifestCheck:
    problems: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_manifest(directory: Path) -> ManifestCheck:
    """Re-hash every file the manifest lists; name each one missing, changed (size or
    sha256) or present but not listed."""
    check = ManifestCheck()
    try:
        document = read_manifest(directory)
    except ReleaseInputError as error:
        check.problems.append(str(error))
        return check
    if document is None:
        check.problems.append(f"no readable {MANIFEST} in {directory}")
        return check
    files = document.get("files")
    entries = files if isinstance(files, list) else []
    if not isinstance(files, list):
        check.problems.append(f"{MANIFEST}: its files are not a list")
    listed: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("path"), str)):
            check.problems.append(f"{MANIFEST}: files[{index}] names no path")
            continue
        listed[entry["path"]] = entry
    present = {entry["path"]: entry for entry in release_files(directory)}
    check.files = len(listed)
    for path, entry in listed.items():
        found = present.get(path)
        if found is None:
            check.problems.append(f"{path}: listed but missing")
        elif found["bytes"] != entry.get("bytes") or found["sha256"] != entry.get("sha256"):
            check.problems.append(
                f"{path}: changed (sha256 {found['sha256']}, listed {entry.get('sha256')})"
            )
    for path in sorted(set(present) - set(listed)):
        check.problems.append(f"{path}: present but not listed")
    return check
