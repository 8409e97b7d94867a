"""Gallery snapshots next to the database: used while current and vouched for by the audit
chain, rebuilt from the rows when stale, changed or unrecorded."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text

from scomm.audit import chain
from scomm.audit.chain import entry_hash, verify
from scomm.audit.gallery_snapshots import load_gallery, recorded_hash, save_snapshot
from scomm.biometrics.index.finger_arrays import snapshot_sha256
from scomm.biometrics.index.gallery import IndexedGallery, MinutiaeCodec, MinutiaeTemplate
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.records import Repository
from scomm.sim.synth import minutiae_sets
from scomm.sim.synth.pair_coder import synthetic_pair_coder
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, AuditHeadRow
from scomm.store.templates import gallery_generation, store_templates
from scomm.system import System, baseline_context

ENGINE = "test-engine"
AT = datetime(2026, 1, 5, 9, 0)
CRIMINAL = Repository.CRIMINAL


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


POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not POSTGRES,
                reason="SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)",
            ),
        ),
    ]
)
def db(request: pytest.FixtureRequest, database_url: str) -> Any:
    if request.param == "postgresql":
        assert POSTGRES is not None
        database = Database(POSTGRES)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def store(db: Database, numbers: range) -> None:
    with db.sessions() as session:
        for n in numbers:
            store_templates(session, CRIMINAL, f"F{n}", person(n), ENGINE)
        session.commit()


def load(db: Database, snapshots: Path, codec: CountingCodec, engine: str = ENGINE) -> Any:
    """(count, gallery) of a start: `load_gallery` and the commit of what it recorded."""
    with db.sessions() as session:
        gallery = new_gallery()
        count = load_gallery(session, CRIMINAL, gallery, codec, snapshots, engine, AT)
        session.commit()
    return count, gallery


def audited(db: Database, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    with db.sessions() as session:
        rows = session.execute(
            select(AuditEntryRow.name, AuditEntryRow.actor, AuditEntryRow.payload)
            .where(AuditEntryRow.kind == kind)
            .order_by(AuditEntryRow.seq)
        ).all()
    return [(name, actor, json.loads(payload)) for name, actor, payload in rows]


def top(gallery: IndexedGallery, n: int) -> str:
    return gallery.search(person(n)).candidates[0].identity_id


def test_snapshot_used_while_current_and_rebuilt_when_stale(db: Database, tmp_path: Path) -> None:
    snapshots = tmp_path / "galleries"
    store(db, range(3))
    codec = CountingCodec()
    with db.sessions() as session:
        assert gallery_generation(session, CRIMINAL) == 3
    count, first = load(db, snapshots, codec)
    assert count == 3 and codec.calls == 30 and (snapshots / "criminal" / "header.json").exists()

    count, second = load(db, snapshots, codec)  # current and recorded: no row is decoded
    assert count == 3 and codec.calls == 30 and "F2" in second
    probe = person(1)
    assert [c.identity_id for c in second.search(probe).candidates] == [
        c.identity_id for c in first.search(probe).candidates
    ]

    store(db, range(3, 4))  # a new identity: the snapshot is stale
    count, third = load(db, snapshots, codec)
    assert count == 4 and codec.calls == 70 and "F3" in third

    load(db, snapshots, codec, "other-engine")  # another engine's snapshot is not used either
    assert codec.calls == 110
    load(db, snapshots, codec)  # nor is the other engine's snapshot by this engine...
    assert codec.calls == 150
    assert [name for name, *_ in audited(db, "alarm")] == []  # ... and none is an alarm


def test_a_saved_snapshot_is_recorded_in_the_chain_and_used(db: Database, tmp_path: Path) -> None:
    snapshots = tmp_path / "galleries"
    store(db, range(2))
    codec = CountingCodec()
    _, gallery = load(db, snapshots, codec)
    store(db, range(2, 3))
    gallery.enrol("F2", person(2))  # what the service does after its commit
    with db.sessions() as session:
        assert save_snapshot(session, CRIMINAL, gallery, snapshots, ENGINE, AT)
        session.commit()
    folder = snapshots / "criminal"
    digest = snapshot_sha256(folder)
    assert (folder / "content.sha256").read_text() == digest + "\n"
    entries = audited(db, "gallery")
    assert [(name, actor) for name, actor, _ in entries] == [("GALLERY_SNAPSHOT", "system")] * 2
    assert entries[-1][2] == {
        "repository": "criminal",
        "generation": 3,
        "engine": ENGINE,
        "content_sha256": digest,
        "identities": 3,
    }
    with db.sessions() as session:
        assert recorded_hash(session, CRIMINAL, 3, ENGINE) == digest
        assert recorded_hash(session, CRIMINAL, 3, "other-engine") is None
        assert recorded_hash(session, Repository.IMMIGRATION, 3, ENGINE) is None

    calls = codec.calls
    count, again = load(db, snapshots, codec)
    assert count == 3 and codec.calls == calls and top(again, 2) == "F2"
    # saved again unchanged (the end of a run that enrolled nobody): nothing new recorded
    with db.sessions() as session:
        assert save_snapshot(session, CRIMINAL, again, snapshots, ENGINE, AT)
        session.commit()
    assert len(audited(db, "gallery")) == 2 and snapshot_sha256(folder) == digest
    with db.sessions() as session:
        assert verify(session).ok


def swap_two_ids(folder: Path) -> None:
    ids = np.load(folder / "ids.npy")
    ids[[0, 1]] = ids[[1, 0]]
    np.save(folder / "ids.npy", ids)


def change_one_byte(folder: Path) -> None:
    data = bytearray((folder / "codes.npy").read_bytes())
    data[-1] ^= 0x01
    (folder / "codes.npy").write_bytes(data)


def write_garbage(folder: Path) -> None:
    (folder / "codes.npy").write_bytes(b"garbage")


def change_the_header(folder: Path) -> None:
    """The image size the minutiae are read back against (not an array, still the content)."""
    header = json.loads((folder / "header.json").read_text())
    header["width"] += 100
    (folder / "header.json").write_text(json.dumps(header, indent=2))


def add_a_file(folder: Path) -> None:
    (folder / "extra.npy").write_bytes(b"")


@pytest.mark.parametrize(
    "tamper", [swap_two_ids, change_one_byte, write_garbage, change_the_header, add_a_file]
)
def test_a_changed_snapshot_is_not_used_and_raises_an_alarm(
    db: Database, tmp_path: Path, tamper: Any, caplog: pytest.LogCaptureFixture
) -> None:
    snapshots = tmp_path / "galleries"
    folder = snapshots / "criminal"
    store(db, range(3))
    codec = CountingCodec()
    load(db, snapshots, codec)
    recorded = snapshot_sha256(folder)
    tamper(folder)
    found = snapshot_sha256(folder)
    assert found != recorded
    if tamper is swap_two_ids:  # the attack is real: the snapshot alone answers wrongly
        fooled = new_gallery()
        fooled.restore(folder)
        assert top(fooled, 1) == "F0"

    with caplog.at_level(logging.WARNING, logger="scomm.audit.gallery_snapshots"):
        count, gallery = load(db, snapshots, codec)
    assert count == 3 and codec.calls == 60  # built from the rows
    assert [top(gallery, n) for n in range(3)] == ["F0", "F1", "F2"]
    assert "not used" in caplog.text and str(folder) in caplog.text
    assert audited(db, "alarm") == [
        (
            "GALLERY_SNAPSHOT_MISMATCH",
            "system",
            {
                "repository": "criminal",
                "folder": str(folder),
                "generation": 3,
                "engine": ENGINE,
                "expected_sha256": recorded,
                "found_sha256": found,
            },
        )
    ]
    # ... and snapshotted again, recorded: the next start uses it, with no new alarm
    rebuilt = snapshot_sha256(folder)
    assert rebuilt == recorded  # the rows give back the snapshot that was changed
    count, again = load(db, snapshots, codec)
    assert count == 3 and codec.calls == 60 and top(again, 1) == "F1"
    assert len(audited(db, "alarm")) == 1
    with db.sessions() as session:
        assert verify(session).ok


def test_a_snapshot_no_audit_entry_records_is_not_used(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    snapshots = tmp_path / "galleries"
    folder = snapshots / "criminal"
    store(db, range(3))
    codec = CountingCodec()
    with db.sessions() as session:
        built = new_gallery()
        load_gallery(session, CRIMINAL, built, codec, None, ENGINE, AT)  # rows only
    built.enrol("F1", person(0))  # a forged snapshot of the current generation, unrecorded
    built.save(folder, {"generation": 3, "engine": ENGINE})
    assert audited(db, "gallery") == []

    with caplog.at_level(logging.WARNING, logger="scomm.audit.gallery_snapshots"):
        count, gallery = load(db, snapshots, codec)
    assert count == 3 and codec.calls == 60 and top(gallery, 1) == "F1"
    assert top(gallery, 0) == "F0"
    assert "no audit entry records it" in caplog.text
    assert audited(db, "alarm") == []  # unrecorded is not changed: nothing to alarm about
    assert [payload["generation"] for _, _, payload in audited(db, "gallery")] == [3]
    count, again = load(db, snapshots, codec)  # the one saved after the rebuild is used
    assert count == 3 and codec.calls == 60


def system(tmp_path: Path) -> System:
    """A System on a SQLite file (its galleries snapshotted beside it) whose repositories are
    this module's galleries."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'run.db'}")
    context = replace(
        baseline_context(settings, us_federal_holiday()),
        codec=MinutiaeCodec(),
        engine_name=ENGINE,
        criminal_gallery=new_gallery(),
        immigration_gallery=new_gallery(),
    )
    return System(settings, ScenarioClock(AT), context=context)


def test_a_system_starts_on_a_snapshot_only_where_the_chain_vouches_for_it(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'run.db'}")
    db.migrate()
    store(db, range(3))
    db.dispose()
    first = system(tmp_path)  # built from the rows, snapshotted and recorded
    try:
        first.save_galleries()  # what the end of a run does: unchanged, not recorded again
        assert [p["generation"] for _, _, p in audited(first.db, "gallery")] == [3]
    finally:
        first.close()
    folder = tmp_path / "run.db.galleries" / "criminal"
    swap_two_ids(folder)

    second = system(tmp_path)
    try:
        gallery = second.ctx.criminal_gallery
        assert isinstance(gallery, IndexedGallery)
        assert [top(gallery, n) for n in range(3)] == ["F0", "F1", "F2"]
        alarms = [(n, p["repository"], p["folder"]) for n, _, p in audited(second.db, "alarm")]
        assert alarms == [("GALLERY_SNAPSHOT_MISMATCH", "criminal", str(folder))]
        entries = len(audited(second.db, "gallery"))
    finally:
        second.close()

    third = system(tmp_path)  # the snapshot saved after the rebuild is used, and no alarm
    try:
        gallery = third.ctx.criminal_gallery
        assert isinstance(gallery, IndexedGallery) and top(gallery, 1) == "F1"
        assert len(audited(third.db, "alarm")) == 1
        assert len(audited(third.db, "gallery")) == entries
    finally:
        third.close()


# --- what is hashed is what is used; the latest record, not the generation row, decides ------


def overwrite_in_place(path: Path) -> None:
    """Zero an array file's data where it lies (same file, same size, no truncation): what a
    memory-mapped array would see at once."""
    with path.open("r+b") as file:
        version = np.lib.format.read_magic(file)
        assert version == (1, 0)
        np.lib.format.read_array_header_1_0(file)
        start = file.tell()
        size = path.stat().st_size - start
        file.write(b"\0" * size)


def test_restore_returns_the_hash_of_the_bytes_it_took(db: Database, tmp_path: Path) -> None:
    snapshots = tmp_path / "galleries"
    store(db, range(2))
    load(db, snapshots, CountingCodec())
    folder = snapshots / "criminal"
    gallery = new_gallery()
    meta, content = gallery.restore(folder)
    assert content == snapshot_sha256(folder) == (folder / "content.sha256").read_text().strip()
    assert meta["generation"] == 2 and len(gallery) == 2
    assert not isinstance(gallery.arrays.minutiae, np.memmap)  # in memory, not mapped


def test_a_snapshot_file_changed_after_the_load_changes_nothing_it_answers(
    db: Database, tmp_path: Path
) -> None:
    snapshots = tmp_path / "galleries"
    store(db, range(3))
    codec = CountingCodec()
    load(db, snapshots, codec)
    count, gallery = load(db, snapshots, codec)  # vouched for: built from the snapshot
    assert count == 3 and codec.calls == 30
    before = [(c.identity_id, c.fused_score) for c in gallery.search(person(1)).candidates]
    assert before[0][0] == "F1"
    folder = snapshots / "criminal"
    for name in ("minutiae.npy", "codes.npy"):  # after the check: the live gallery's files
        overwrite_in_place(folder / name)
    after = [(c.identity_id, c.fused_score) for c in gallery.search(person(1)).candidates]
    assert after == before


def test_an_older_recorded_snapshot_put_back_with_the_generation_lowered_is_not_used(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    snapshots = tmp_path / "galleries"
    folder = snapshots / "criminal"
    store(db, range(3))
    codec = CountingCodec()
    load(db, snapshots, codec)  # generation 3: saved and recorded
    old = snapshot_sha256(folder)
    shutil.copytree(folder, tmp_path / "kept")
    store(db, range(3, 5))
    load(db, snapshots, codec)  # generation 5: saved and recorded
    latest = snapshot_sha256(folder)
    with db.sessions() as session:
        assert recorded_hash(session, CRIMINAL, 3, ENGINE) == old  # the chain did record it
    # the rollback: the older snapshot put back, the generation row lowered to match it
    shutil.rmtree(folder)
    shutil.copytree(tmp_path / "kept", folder)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE gallery_generations SET generation = 3"))
    calls = codec.calls
    with caplog.at_level(logging.WARNING, logger="scomm.audit.gallery_snapshots"):
        count, gallery = load(db, snapshots, codec)
    assert count == 5 and codec.calls == calls + 50  # built from the rows: F3, F4 kept
    assert top(gallery, 4) == "F4"
    assert "recorded last for criminal" in caplog.text and "at generation 5" in caplog.text
    ((name, _, payload),) = audited(db, "alarm")
    assert name == "GALLERY_SNAPSHOT_MISMATCH"
    assert (payload["expected_sha256"], payload["found_sha256"]) == (latest, old)
    assert payload["generation"] == 3


def test_a_snapshot_whose_generation_differs_from_its_latest_record_is_not_used(
    db: Database, tmp_path: Path
) -> None:
    # The latest entry records this very content, but at another generation than the
    # repository's (a forged entry, or a lowered row): not vouched for.
    snapshots = tmp_path / "galleries"
    store(db, range(2))
    codec = CountingCodec()
    load(db, snapshots, codec)
    digest = snapshot_sha256(snapshots / "criminal")
    with db.sessions() as session:
        chain.append(
            session, recorded_at=AT, kind="gallery", name="GALLERY_SNAPSHOT", actor="system",
            case_id="", payload={"repository": "criminal", "generation": 7, "engine": ENGINE,
                                 "content_sha256": digest, "identities": 2},
        )  # fmt: skip
        session.commit()
    count, _ = load(db, snapshots, codec)
    assert count == 2 and codec.calls == 40  # rebuilt from the rows
    assert [name for name, *_ in audited(db, "alarm")] == ["GALLERY_SNAPSHOT_MISMATCH"]


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2]",
        json.dumps(
            {"repository": "criminal", "engine": ENGINE, "generation": "2", "content_sha256": 5}
        ),
        json.dumps({"repository": "criminal", "engine": ENGINE, "generation": 2}),
    ],  # fmt: skip
)
def test_an_odd_snapshot_entry_is_no_record_and_no_failed_start(
    db: Database, tmp_path: Path, payload: str
) -> None:
    snapshots = tmp_path / "galleries"
    store(db, range(2))
    codec = CountingCodec()
    load(db, snapshots, codec)  # saved and recorded
    with db.sessions() as session:  # a well-hashed entry that is not what save_snapshot writes
        head = session.get(AuditHeadRow, 1)
        assert head is not None
        seq = head.seq + 1
        digest = entry_hash(head.entry_hash, seq, AT, "gallery", "GALLERY_SNAPSHOT", "system",
                            "", payload)  # fmt: skip
        session.add(
            AuditEntryRow(
                seq=seq,
                recorded_at=AT,
                kind="gallery",
                name="GALLERY_SNAPSHOT",
                actor="system",
                case_id="",
                payload=payload,
                prev_hash=head.entry_hash,
                entry_hash=digest,
            )  # fmt: skip
        )
        head.seq, head.entry_hash = seq, digest
        session.commit()
    count, gallery = load(db, snapshots, codec)  # no error, whatever the entry holds
    assert count == 2 and top(gallery, 1) == "F1"
    with db.sessions() as session:
        assert verify(session).ok
    count, _ = load(db, snapshots, codec)  # the next start: a snapshot recorded after it
    assert count == 2
    calls = codec.calls
    load(db, snapshots, codec)
    assert codec.calls == calls  # used: no row decoded
