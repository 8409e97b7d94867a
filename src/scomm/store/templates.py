"""Finger templates in the database (source of truth) and the in-memory galleries from them.

Every write of a repository's templates also counts up that repository's generation
(`gallery_generations`), in the same transaction.  A gallery that can snapshot itself
(`SnapshotGallery`, e.g. `IndexedGallery`) is saved next to the database with the
generation it holds; at start-up `load_gallery` takes the snapshot when its generation and
engine are the database's, and otherwise rebuilds the gallery from the rows (and saves a
fresh snapshot).  The rows stay the source of truth: deleting a snapshot costs only time.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.biometrics.protocols import Gallery, Template, TemplateCodec
from scomm.domain.records import Repository
from scomm.store.models import FingerTemplateRow, GalleryGenerationRow

log = logging.getLogger(__name__)


@runtime_checkable
class SnapshotGallery(Gallery, Protocol):
    """A gallery that can be written to a folder and read back."""

    def save(self, folder: Path, extra: Mapping[str, Any] | None = None) -> None: ...

    def restore(self, folder: Path) -> dict[str, Any]: ...

    def clear(self) -> None: ...


def gallery_generation(session: Session, repository: Repository) -> int:
    row = session.get(GalleryGenerationRow, repository.value)
    return row.generation if row is not None else 0


def _count_up(session: Session, repository: Repository) -> None:
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
    session: Session,
    repository: Repository,
    gallery: Gallery,
    codec: TemplateCodec,
    snapshots: Path | None = None,
    engine: str = "",
) -> int:
    """Fill `gallery` with every stored identity of `repository`; returns how many.

    With `snapshots` (a folder) and a `SnapshotGallery`, a current snapshot in
    `snapshots/<repository>` is used instead of the rows, and a stale or missing one is
    rewritten after the rebuild."""
    generation = gallery_generation(session, repository)
    folder = snapshots / repository.value if snapshots is not None else None
    if folder is not None and isinstance(gallery, SnapshotGallery):
        if (folder / "header.json").exists():
            try:
                meta = gallery.restore(folder)
            except (ValueError, OSError) as error:  # SnapshotError is a ValueError
                log.warning("gallery snapshot %s not used: %s", folder, error)
            else:
                if meta.get("generation") == generation and meta.get("engine") == engine:
                    return len(gallery)
                log.info("gallery snapshot %s is stale; rebuilding from the database", folder)
            gallery.clear()
        count = _enrol_rows(session, repository, gallery, codec)
        gallery.save(folder, {"generation": generation, "engine": engine})
        return count
    return _enrol_rows(session, repository, gallery, codec)


def save_snapshot(
    session: Session, repository: Repository, gallery: Gallery, snapshots: Path, engine: str
) -> bool:
    """Write `gallery`'s snapshot with the repository's current generation (after a run);
    False when the gallery cannot snapshot itself."""
    if not isinstance(gallery, SnapshotGallery):
        return False
    generation = gallery_generation(session, repository)
    gallery.save(snapshots / repository.value, {"generation": generation, "engine": engine})
    return True


def _enrol_rows(
    session: Session, repository: Repository, gallery: Gallery, codec: TemplateCodec
) -> int:
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
