"""Finger templates in the database (source of truth) and the in-memory galleries from them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.biometrics.protocols import Gallery, Template, TemplateCodec
from scomm.domain.records import Repository
from scomm.store.models import FingerTemplateRow


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


def load_gallery(
    session: Session, repository: Repository, gallery: Gallery, codec: TemplateCodec
) -> int:
    """Enrol every stored identity of `repository` into `gallery`; returns how many."""
    by_identity: dict[str, dict[int, Template]] = defaultdict(dict)
    rows = session.execute(
        select(
            FingerTemplateRow.identity_id, FingerTemplateRow.finger, FingerTemplateRow.data
        ).where(FingerTemplateRow.repository == repository.value)
    )
    for identity_id, finger, data in rows:
        by_identity[identity_id][finger] = codec.decode(data, finger)
    for identity_id, templates in by_identity.items():
        gallery.enrol(identity_id, templates)
    return len(by_identity)
