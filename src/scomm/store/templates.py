"""Finger templates in the database (source of truth) and the in-memory galleries from them.

Every write of a repository's templates also counts up that repository's generation
(`gallery_generations`), in the same transaction.  A gallery that can snapshot itself
(`SnapshotGallery`, e.g. `IndexedGallery`) is saved next to the database with the
generation it holds and a content hash; whether a snapshot may be used instead of the rows
is decided above this layer, against the hash the audit chain recorded when it was saved
(`scomm.audit.gallery_snapshots`).  The rows stay the source of truth: deleting a snapshot
costs only time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from scomm.biometrics.protocols import Gallery, Template, TemplateCodec
from scomm.domain.records import Repository
from scomm.store.models import FingerTemplateRow, GalleryGenerationRow


@runtime_checkable
class SnapshotGallery(Gallery, Protocol):
    """A gallery that can be written to a folder and read back."""

    def save(self, folder: Path, extra: Mapping[str, Any] | None = None) -> str:
        """Write the snapshot with `extra` metadata; returns its content hash."""
        ...

    def restore(self, folder: Path) -> tuple[dict[str, Any], str]:
        """Take the snapshot's contents; returns its metadata and the content hash of exactly
        the bytes taken (raises ValueError or OSError when it cannot be read)."""
        ...

    def snapshot_sha256(self, folder: Path) -> str:
        """The content hash of the snapshot in `folder` as its files are now."""
        ...

    def clear(self) -> None: ...


def gallery_generation(session: Session, repository: Repository) -> int:
    row = session.get(GalleryGenerationRow, repository.value)
    return row.generation if row is not None else 0


def _count_up(session: Session, repository: Repository) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # two workers' first enrolments at once: the second waits for the first's row
        # instead of inserting it again (a unique violation)
        session.execute(
            pg_insert(GalleryGenerationRow)
            .values(repository=repository.value, generation=0)
            .on_conflict_do_nothing()
        )
    row = session.get(GalleryGenerationRow, repository.value, with_for_update=True)
    if row is None:
        session.add(GalleryGenerationRow(repository=repository.value, generation=1))
    else:
        row.generation += 1


def store_templates(
    session: Session,
    repository: Repository,
    identity_id: str,
    templates: Mapping[int, Template],
    engine: str,
) -> None:
    for finger, template in templates.items():
        session.merge(
            FingerTemplateRow(
                repository=repository.value,
                identity_id=identity_id,
                finger=finger,
                engine=engine,
                data=template.to_bytes(),
            )
        )
    _count_up(session, repository)


def load_gallery(
    session: Session, repository: Repository, gallery: Gallery, codec: TemplateCodec
) -> int:
    """Fill `gallery` with every stored identity of `repository` from the rows; returns how
    many.  (A snapshot is taken instead only where the audit chain vouches for it:
    `scomm.audit.gallery_snapshots.load_gallery`.)"""
    by_identity: dict[str, dict[int, Template]] = defaultdict(dict)
    rows = session.execute(
        select(
            FingerTemplateRow.identity_id, FingerTemplateRow.finger, FingerTemplateRow.data
        ).where(FingerTemplateRow.repository == repository.value)
    )
    for identity_id, finger, data in rows:
        by_identity[identity_id][finger] = codec.decode(data, finger)
    enrol_many = getattr(gallery, "enrol_many", None)
    if enrol_many is not None:  # one batch: a gallery that codes its fingers does it once
        enrol_many(list(by_identity.items()))
    else:
        for identity_id, templates in by_identity.items():
            gallery.enrol(identity_id, templates)
    return len(by_identity)


def snapshot_folder(database_url: str) -> Path | None:
    """Where the galleries of a SQLite file database are snapshotted: beside the file
    (`scomm.db` -> `scomm.db.galleries/`); None for other databases and in-memory ones."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or database_url in (prefix, "sqlite:///:memory:"):
        return None
    path = Path(database_url[len(prefix) :])
    return path.with_name(path.name + ".galleries")
