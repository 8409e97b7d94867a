"""Gallery snapshots next to the database: used while current, rebuilt when stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.index.gallery import IndexedGallery, MinutiaeCodec, MinutiaeTemplate
from scomm.domain.records import Repository
from scomm.sim.synth import minutiae_sets
from scomm.sim.synth.pair_coder import synthetic_pair_coder
from scomm.store.db import Database
from scomm.store.templates import (
    gallery_generation,
    load_gallery,
    save_snapshot,
    store_templates,
)

ENGINE = "test-engine"


def person(n: int) -> dict[int, MinutiaeTemplate]:
    batch = minutiae_sets.generate_impressions(9, np.array([n]), kind="rolled")
    return {f: MinutiaeTemplate(f, batch[f - 1]) for f in range(1, 11)}


def new_gallery() -> IndexedGallery:
    return IndexedGallery(synthetic_pair_coder(0, 1_000), thresholds={10: 1.0}, shortlist=5)


class CountingCodec(MinutiaeCodec):
    def __init__(self) -> None:
        self.calls = 0

    def decode(self, data: bytes, finger: int) -> MinutiaeTemplate:
        self.calls += 1
        return super().decode(data, finger)


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    return database


def store(db: Database, numbers: range) -> None:
    with db.sessions() as session:
        for n in numbers:
            store_templates(session, Repository.CRIMINAL, f"F{n}", person(n), ENGINE)
        session.commit()


def test_snapshot_used_while_current_and_rebuilt_when_stale(db: Database, tmp_path: Path) -> None:
    snapshots = tmp_path / "galleries"
    store(db, range(3))
    codec = CountingCodec()
    with db.sessions() as session:
        assert gallery_generation(session, Repository.CRIMINAL) == 3
        first = new_gallery()
        assert load_gallery(session, Repository.CRIMINAL, first, codec, snapshots, ENGINE) == 3
    assert codec.calls == 30 and (snapshots / "criminal" / "header.json").exists()

    with db.sessions() as session:  # current: no row is decoded
        second = new_gallery()
        assert load_gallery(session, Repository.CRIMINAL, second, codec, snapshots, ENGINE) == 3
    assert codec.calls == 30 and "F2" in second
    probe = person(1)
    assert [c.identity_id for c in second.search(probe).candidates] == [
        c.identity_id for c in first.search(probe).candidates
    ]

    store(db, range(3, 4))  # a new identity: the snapshot is stale
    with db.sessions() as session:
        third = new_gallery()
        assert load_gallery(session, Repository.CRIMINAL, third, codec, snapshots, ENGINE) == 4
    assert codec.calls == 70 and "F3" in third

    with db.sessions() as session:  # another engine's snapshot is not used either
        fourth = new_gallery()
        load_gallery(session, Repository.CRIMINAL, fourth, codec, snapshots, "other-engine")
    assert codec.calls == 110


def test_save_after_a_run_and_a_broken_snapshot(db: Database, tmp_path: Path) -> None:
    snapshots = tmp_path / "galleries"
    store(db, range(2))
    codec = CountingCodec()
    with db.sessions() as session:
        gallery = new_gallery()
        load_gallery(session, Repository.CRIMINAL, gallery, codec, snapshots, ENGINE)
    store(db, range(2, 3))
    gallery.enrol("F2", person(2))  # what the service does after its commit
    with db.sessions() as session:
        assert save_snapshot(session, Repository.CRIMINAL, gallery, snapshots, ENGINE)
    calls = codec.calls
    with db.sessions() as session:
        again = new_gallery()
        assert load_gallery(session, Repository.CRIMINAL, again, codec, snapshots, ENGINE) == 3
    assert codec.calls == calls
    (snapshots / "criminal" / "codes.npy").write_bytes(b"garbage")
    with db.sessions() as session:
        broken = new_gallery()
        assert load_gallery(session, Repository.CRIMINAL, broken, codec, snapshots, ENGINE) == 3
    assert codec.calls == calls + 30 and "F0" in broken


def test_snapshot_folder_sits_beside_a_sqlite_file() -> None:
    from scomm.store.templates import snapshot_folder

    assert snapshot_folder("sqlite:///demo-out/scomm.db") == Path("demo-out/scomm.db.galleries")
    assert snapshot_folder("sqlite:////tmp/x/a.db") == Path("/tmp/x/a.db.galleries")
    assert snapshot_folder("sqlite:///:memory:") is None
    assert snapshot_folder("postgresql://u@h/db") is None
