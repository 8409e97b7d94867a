"""Gallery snapshots bound to the audit chain.

A snapshot of a repository's gallery (`scomm.store.templates.SnapshotGallery`) saves the
start-up the rebuild from the template rows costs, but the rows are the source of truth: a
snapshot whose files were changed (two identity ids swapped, one byte altered) would send
IDENT and CJIS results to the wrong person.  So every snapshot saved is recorded in the
chain, in the transaction of the caller (an audit entry `gallery`/`GALLERY_SNAPSHOT` with
its repository, generation, engine, content hash and number of identities), and a snapshot
is used on load only when the content hash of the bytes it was built from is the one the
LATEST such entry for its repository and engine records (whatever its generation), and
that entry's generation is the repository's current one: an older snapshot the chain once
recorded, put back with the generation row lowered to match it, is not used.  Otherwise
it is not used, the gallery is rebuilt from the rows and saved again; where the chain
recorded a snapshot for this repository and engine but the folder holds other content (or
no longer reads), a warning is logged and an `alarm`/`GALLERY_SNAPSHOT_MISMATCH` entry
names the repository, the folder and both hashes.  An entry that is not what
`save_snapshot` writes (its payload not JSON, its generation or hash of another type) is
no record: the snapshot is rebuilt and recorded again, never a failed start.

The hash covers every file of the snapshot, its header (coder, image size, generation,
engine) included, all but the seal that holds it (`SnapshotGallery.snapshot_sha256`).  The
load reads each file into memory once, hashes those bytes and builds the gallery from them
(`SnapshotGallery.restore`): what is hashed is what is used, and a file changed after the
check changes nothing (no file stays memory-mapped).  A snapshot whose header claims
another generation or engine is stale and not used, without an alarm (the chain is not
asked about it).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.audit import chain
from scomm.biometrics.protocols import Gallery, TemplateCodec
from scomm.domain.records import Repository
from scomm.store.models import AuditEntryRow
from scomm.store.templates import SnapshotGallery, gallery_generation
from scomm.store.templates import load_gallery as load_rows

log = logging.getLogger(__name__)

SNAPSHOT_KIND = "gallery"
SNAPSHOT = "GALLERY_SNAPSHOT"
ALARM_KIND = "alarm"
MISMATCH = "GALLERY_SNAPSHOT_MISMATCH"
# scomm itself keeps the snapshots (not the repository, which takes no part in it): an
# entry by IDENT would say a message reached it
ACTOR = "system"


@dataclass(frozen=True)
class RecordedSnapshot:
    """What a `GALLERY_SNAPSHOT` entry records of a snapshot."""

    seq: int
    generation: int
    content_sha256: str


def _recorded(
    session: Session, repository: Repository, engine: str
) -> Iterator[RecordedSnapshot | None]:
    """The `GALLERY_SNAPSHOT` entries for `repository` and `engine`, latest first; None for
    one whose generation or hash is not what `save_snapshot` writes. An entry whose payload
    is not a JSON object names no repository: it is passed over."""
    rows = session.execute(
        select(AuditEntryRow.seq, AuditEntryRow.payload)
        .where(
            AuditEntryRow.case_id == "",  # indexed: entries outside any case are few
            AuditEntryRow.kind == SNAPSHOT_KIND,
            AuditEntryRow.name == SNAPSHOT,
        )
        .order_by(AuditEntryRow.seq.desc())
    )
    for seq, text in rows:
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if not isinstance(payload, dict):
            continue
        if payload.get("repository") != repository.value or payload.get("engine") != engine:
            continue
        generation, content = payload.get("generation"), payload.get("content_sha256")
        if type(generation) is not int or not isinstance(content, str):
            log.warning("audit entry %d records no usable gallery snapshot: %s", seq, text[:200])
            yield None
            continue
        yield RecordedSnapshot(seq, generation, content)


def latest_snapshot(
    session: Session, repository: Repository, engine: str
) -> RecordedSnapshot | None:
    """The snapshot the latest `GALLERY_SNAPSHOT` entry for `repository` and `engine`
    records, whatever its generation; None when the chain records none (or that entry is
    odd: no record to vouch for a snapshot)."""
    return next(_recorded(session, repository, engine), None)


def recorded_hash(
    session: Session, repository: Repository, generation: int, engine: str
) -> str | None:
    """The content hash the latest `GALLERY_SNAPSHOT` entry for `repository`, `generation`
    and `engine` records; None when the chain records no such snapshot."""
    for recorded in _recorded(session, repository, engine):
        if recorded is not None and recorded.generation == generation:
            return recorded.content_sha256
    return None


def save_snapshot(
    session: Session,
    repository: Repository,
    gallery: Gallery,
    snapshots: Path,
    engine: str,
    recorded_at: datetime,
) -> bool:
    """Write `gallery`'s snapshot into `snapshots/<repository>` (in place of what the folder
    held) with the repository's current generation, and record its content hash in the
    chain (in `session`'s transaction: the caller commits).  A snapshot that is byte for
    byte the one the chain already records for this generation and engine is not recorded
    again.  False when the gallery cannot snapshot itself, or the repository never stored
    a template (nothing to save a start from)."""
    if not isinstance(gallery, SnapshotGallery):
        return False
    generation = gallery_generation(session, repository)
    if generation == 0:
        return False
    folder = snapshots / repository.value
    if folder.is_dir():  # scomm's own folder: nothing but the snapshot written now stays in it
        shutil.rmtree(folder)
    content_sha256 = gallery.save(folder, {"generation": generation, "engine": engine})
    latest = latest_snapshot(session, repository, engine)
    if latest is None or (latest.generation, latest.content_sha256) != (
        generation,
        content_sha256,
    ):
        chain.append(
            session,
            recorded_at=recorded_at,
            kind=SNAPSHOT_KIND,
            name=SNAPSHOT,
            actor=ACTOR,
            case_id="",
            payload={
                "repository": repository.value,
                "generation": generation,
                "engine": engine,
                "content_sha256": content_sha256,
                "identities": len(gallery),
            },
        )
    return True


def load_gallery(
    session: Session,
    repository: Repository,
    gallery: Gallery,
    codec: TemplateCodec,
    snapshots: Path | None,
    engine: str,
    recorded_at: datetime,
) -> int:
    """Fill `gallery` with every stored identity of `repository`; returns how many.

    With `snapshots` (a folder) and a `SnapshotGallery`, the snapshot in
    `snapshots/<repository>` is used when the chain vouches for it (see the module);
    otherwise the gallery is built from the rows and snapshotted again (`save_snapshot`).
    What this records (an alarm, the new snapshot) is in `session`'s transaction: the
    caller commits."""
    if snapshots is None or not isinstance(gallery, SnapshotGallery):
        return load_rows(session, repository, gallery, codec)
    generation = gallery_generation(session, repository)
    folder = snapshots / repository.value
    if folder.is_dir():
        if _vouched(session, repository, gallery, folder, generation, engine, recorded_at):
            return len(gallery)
        gallery.clear()
    count = load_rows(session, repository, gallery, codec)
    save_snapshot(session, repository, gallery, snapshots, engine, recorded_at)
    return count


def _vouched(
    session: Session,
    repository: Repository,
    gallery: SnapshotGallery,
    folder: Path,
    generation: int,
    engine: str,
    recorded_at: datetime,
) -> bool:
    """Restore the snapshot in `folder` into `gallery`; True when it may be used."""
    latest = latest_snapshot(session, repository, engine)
    meta: dict[str, Any] | None
    found: str | None
    problem = ""
    try:
        meta, found = gallery.restore(folder)  # the hash of exactly the bytes restored
    except (ValueError, OSError) as error:  # SnapshotError is a ValueError
        meta, found, problem = None, getattr(error, "content_sha256", None), str(error)
    current = meta is not None and (meta.get("generation"), meta.get("engine")) == (
        generation,
        engine,
    )
    if meta is not None and not current:  # another generation or engine: the usual case
        log.info("gallery snapshot %s is stale; rebuilding from the database", folder)
        return False
    if latest is None:
        log.warning(
            "gallery snapshot %s not used: %s",
            folder,
            problem if meta is None else "no audit entry records it",
        )
        return False
    if found is None:  # not even read: what it holds, for the alarm
        try:
            found = gallery.snapshot_sha256(folder)
        except OSError as error:
            found = f"unreadable ({error.strerror})"
    if found == latest.content_sha256:
        if meta is not None and latest.generation == generation:
            return True
        if meta is None:
            # the recorded snapshot, unchanged, but not for this gallery (another pair coder)
            log.warning("gallery snapshot %s not used: %s", folder, problem)
            return False
    log.warning(
        "gallery snapshot %s not used: its content hash %s is not the %s the audit chain "
        "recorded last for %s (%s), at generation %d (entry %d), for generation %d now; "
        "rebuilding from the database",
        folder,
        found,
        latest.content_sha256,
        repository.value,
        engine,
        latest.generation,
        latest.seq,
        generation,
    )
    chain.append(
        session,
        recorded_at=recorded_at,
        kind=ALARM_KIND,
        name=MISMATCH,
        actor=ACTOR,
        case_id="",
        payload={
            "repository": repository.value,
            "folder": str(folder),
            "generation": generation,
            "engine": engine,
            "expected_sha256": latest.content_sha256,
            "found_sha256": found,
        },
    )
    return False
