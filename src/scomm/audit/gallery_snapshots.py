"""Gallery snapshots bound to the audit chain.

A snapshot of a repository's gallery (`scomm.store.templates.SnapshotGallery`) saves the
start-up the rebuild from the template rows costs, but the rows are the source of truth: a
snapshot whose files were changed (two identity ids swapped, one byte altered) would send
IDENT and CJIS results to the wrong person.  So every snapshot saved is recorded in the
chain, in the transaction of the caller (an audit entry `gallery`/`GALLERY_SNAPSHOT` with
its repository, generation, engine, content hash and number of identities), and a snapshot
is used on load only when its files' content hash, computed again, is the one the latest
such entry for its repository, generation and engine records.  Otherwise it is not used,
the gallery is rebuilt from the rows and saved again; where the chain recorded a snapshot
of this generation and engine but the folder holds other content (or no longer reads), a
warning is logged and an `alarm`/`GALLERY_SNAPSHOT_MISMATCH` entry names the repository,
the folder and both hashes.

The hash covers every file of the snapshot, its header (coder, image size, generation,
engine) included, all but the seal that holds it (`SnapshotGallery.snapshot_sha256`): one
pass at hashlib's speed, which every start that uses a snapshot pays (it reads the files a
memory-mapped load would otherwise page in only when searched).  A snapshot whose header
claims another generation or engine is stale and not used, without an alarm (the chain
is not asked about it).
"""

from __future__ import annotations

import json
import logging
import shutil
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


def recorded_hash(
    session: Session, repository: Repository, generation: int, engine: str
) -> str | None:
    """The content hash the latest `GALLERY_SNAPSHOT` entry for `repository`, `generation`
    and `engine` records; None when the chain records no such snapshot."""
    payloads = session.scalars(
        select(AuditEntryRow.payload)
        .where(
            AuditEntryRow.case_id == "",  # indexed: entries outside any case are few
            AuditEntryRow.kind == SNAPSHOT_KIND,
            AuditEntryRow.name == SNAPSHOT,
        )
        .order_by(AuditEntryRow.seq.desc())
    )
    for text in payloads:
        payload = json.loads(text)
        if (
            payload.get("repository") == repository.value
            and payload.get("generation") == generation
            and payload.get("engine") == engine
        ):
            return str(payload.get("content_sha256"))
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
    if recorded_hash(session, repository, generation, engine) != content_sha256:
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
    recorded = recorded_hash(session, repository, generation, engine)
    meta: dict[str, Any] | None
    problem = ""
    try:
        meta = gallery.restore(folder)
    except (ValueError, OSError) as error:  # SnapshotError is a ValueError
        meta, problem = None, str(error)
    current = meta is not None and (meta.get("generation"), meta.get("engine")) == (
        generation,
        engine,
    )
    if meta is not None and not current:  # another generation or engine: the usual case
        log.info("gallery snapshot %s is stale; rebuilding from the database", folder)
        return False
    if recorded is None:
        log.warning(
            "gallery snapshot %s not used: %s",
            folder,
            problem if meta is None else "no audit entry records it",
        )
        return False
    found = gallery.snapshot_sha256(folder)
    if found == recorded:
        if meta is not None:
            return True
        # the recorded snapshot, unchanged, but not for this gallery (another pair coder)
        log.warning("gallery snapshot %s not used: %s", folder, problem)
        return False
    log.warning(
        "gallery snapshot %s not used: its content hash %s is not the %s the audit chain "
        "recorded for %s generation %d (%s); rebuilding from the database",
        folder,
        found,
        recorded,
        repository.value,
        generation,
        engine,
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
            "expected_sha256": recorded,
            "found_sha256": found,
        },
    )
    return False
