"""Signed checkpoints anchor the audit chain: what an owner of the database can do to the chain
(rewrite and rehash, truncate, forge an append, empty it) passes the plain chain walk, and is
caught by the checkpoints, naming the entry at fault. On SQLite, and on PostgreSQL when CI
names a server."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import delete, text
from tampering import rewrite_and_rehash, tampering  # tests/audit/tampering.py

from scomm.audit.chain import (
    GENESIS_HASH,
    append,
    consistent_snapshot,
    verify,
    verify_database,
)
from scomm.audit.checkpoints import (
    ABANDONED,
    CLOSED,
    OPEN,
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    Anchor,
    AnchorCheck,
    Checkpoint,
    Gap,
    compare,
    describe,
    generate_keys,
    key_id,
    load_private_key,
    load_public_key,
    read_log,
    require_new_log,
    sign,
    signature_valid,
    unanchored_line,
    verify_anchored,
    writers_folder,
)
from scomm.audit.errors import AuditError, CheckpointLogError, KeyFileError
from scomm.config import DEFAULT_CHECKPOINT_EVERY, Settings, load_settings
from scomm.errors import ScommError
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, AuditHeadRow

POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, database_url: str) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file, or the CI PostgreSQL server's (reset)."""
    if request.param == "postgresql":
        if not POSTGRES:
            pytest.skip("SCOMM_TEST_POSTGRES_URL not set (CI runs these against a server)")
        database = Database(POSTGRES)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        database = Database(database_url)
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def private(key_pair: tuple[Path, Path]) -> Ed25519PrivateKey:
    return load_private_key(key_pair[0])


@pytest.fixture
def public(key_pair: tuple[Path, Path]) -> Ed25519PublicKey:
    return load_public_key(key_pair[1])


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "checkpoints.jsonl"


def add_entries(db: Database, first: int, count: int, anchor: Anchor | None = None) -> None:
    """`count` entries appended by the application, each committed (then the cadence)."""
    for i in range(first, first + count):
        with db.sessions() as session:
            append(
                session,
                recorded_at=datetime(2010, 1, 1, 0, i % 60, i // 60),
                kind="outcome",
                name="IDR_NO_MATCH",
                actor="ident",
                case_id=f"case-{i}",
                payload={"n": i},
            )
            session.commit()
        if anchor is not None:
            anchor.tick()


def a_run(
    db: Database, key: Ed25519PrivateKey, log_path: Path, entries: int = 10, every: int = 4
) -> Anchor:
    """A writer from start to end: open, `entries` appended with a checkpoint every
    `every`, closed."""
    anchor = Anchor(db, key, log_path, every)
    anchor.begin()
    add_entries(db, 1, entries, anchor)
    anchor.close()
    return anchor


def check(db: Database, log_path: Path, public: Ed25519PublicKey) -> AnchorCheck:
    chain, anchored = verify_anchored(db, log_path, public)
    assert chain.ok, chain.problem  # every attack below beats the plain chain walk
    assert anchored is not None
    return anchored


# --- signatures and keys ----------------------------------------------------------------


def test_a_checkpoint_round_trips_through_its_line(
    private: Ed25519PrivateKey, public: Ed25519PublicKey
) -> None:
    signed = sign(private, seq=7, entry_hash="ab" * 32, state=OPEN, writer="w1")
    again = Checkpoint.parse(signed.line(), "line 1")
    assert again == signed and signature_valid(public, again)
    assert again.key_id == key_id(public) and len(again.key_id) == 16
    assert set(json.loads(signed.line())) == {
        "seq", "entry_hash", "signed_at", "key_id", "state", "writer", "signature",
    }  # fmt: skip


def test_a_wrong_key_or_an_altered_field_fails_the_signature(
    private: Ed25519PrivateKey, public: Ed25519PublicKey
) -> None:
    signed = sign(private, seq=7, entry_hash="ab" * 32, state=CLOSED, writer="w1")
    other = Ed25519PrivateKey.generate().public_key()
    assert not signature_valid(other, signed)
    for field, value in (("seq", 8), ("entry_hash", "cd" * 32), ("state", OPEN)):
        altered = Checkpoint(**{**json.loads(signed.line()), field: value})
        assert not signature_valid(public, altered), field


def test_keygen_keeps_the_private_key_to_its_owner_and_never_overwrites(tmp_path: Path) -> None:
    private, public = generate_keys(tmp_path / "k")
    assert (private.name, public.name) == (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert load_private_key(private).public_key() == load_public_key(public)
    before = private.read_bytes()
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        generate_keys(tmp_path / "k")
    assert private.read_bytes() == before
    with pytest.raises(KeyFileError, match="not an unencrypted PEM private key"):
        load_private_key(public)


def test_a_log_line_signed_by_another_key_or_altered_is_rejected(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path)
    other = Ed25519PrivateKey.generate()
    assert not check(db, log_path, other.public_key()).ok  # the lines name another key
    lines = log_path.read_text().splitlines()
    second = json.loads(lines[1])
    lines[1] = json.dumps({**second, "seq": second["seq"] + 1})  # JSON still, signature not
    log_path.write_text("\n".join(lines) + "\n")
    result = check(db, log_path, public)
    assert not result.ok and "checkpoint line 2" in result.problem
    assert "bad signature" in result.problem


# --- an honest history ------------------------------------------------------------------


def test_a_run_signs_its_start_its_cadence_and_its_end(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path, entries=10, every=4)
    assert [(c.seq, c.state) for c in read_log(log_path)] == [
        (0, OPEN), (4, OPEN), (8, OPEN), (10, CLOSED),
    ]  # fmt: skip
    result = check(db, log_path, public)
    assert result.ok and result.unanchored == 0
    assert result.last is not None and (result.last.seq, result.last.state) == (10, CLOSED)


def test_the_next_run_opens_on_the_closed_head_and_is_no_forgery(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path)
    resumed = Anchor(db, private, log_path, 4)
    opened = resumed.begin()
    assert (opened.seq, opened.state) == (10, OPEN)
    add_entries(db, 11, 3, resumed)
    resumed.close()
    assert check(db, log_path, public).ok


def test_entries_after_an_open_checkpoint_are_only_not_yet_anchored(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    running = Anchor(db, private, log_path, 1000)
    running.begin()
    add_entries(db, 1, 3, running)  # a run still going, or killed before it closed
    result = check(db, log_path, public)
    assert result.ok and result.unanchored == 3


def test_two_writers_at_once_close_in_any_order(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    run = Anchor(db, private, log_path, 4)
    run.begin()
    add_entries(db, 1, 3, run)
    operator = Anchor(db, private, log_path, 4)  # `scomm switches set` beside the run
    operator.begin()
    add_entries(db, 4, 1)
    operator.close()  # the run goes on appending after the operator's closed checkpoint
    add_entries(db, 5, 6, run)
    run.close()
    assert check(db, log_path, public).ok


def test_a_checkpoint_signed_while_verify_reads_raises_no_alarm(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path)
    before = read_log(log_path)
    with consistent_snapshot(db) as session:
        chain = verify(session)
        next_run = Anchor(db, private, log_path, 2)  # starts, appends and closes meanwhile
        next_run.begin()
        add_entries(db, 11, 5, next_run)
        next_run.close()
        result = compare(session, chain.entries, before, read_log(log_path), public)
    assert chain.entries == 10 and result.ok, result.problem
    assert check(db, log_path, public).ok


def test_the_export_hook_gets_each_line_and_a_failing_one_is_reported(
    db: Database, private: Ed25519PrivateKey, log_path: Path, tmp_path: Path
) -> None:
    exported = tmp_path / "exported.jsonl"
    anchor = Anchor(db, private, log_path, 4, hook=f"cat >> '{exported}'")
    anchor.begin()
    anchor.close()
    assert exported.read_text() == log_path.read_text()
    failing = Anchor(db, private, log_path, 4, hook="echo 'log server down' >&2; exit 3")
    failing.begin()
    assert failing.failures and "exit 3: log server down" in failing.failures[0]
    assert len(read_log(log_path)) == 3  # the local line is kept


def test_a_missing_or_garbled_log_is_bad_input(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    with pytest.raises(CheckpointLogError, match="no checkpoint log"):
        verify_anchored(db, log_path, public)
    a_run(db, private, log_path)
    with log_path.open("a") as out:
        out.write("{not json\n")
    with pytest.raises(CheckpointLogError, match="line 5 is not JSON"):
        read_log(log_path)


def test_checkpoints_out_of_order_are_caught(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path)
    lines = log_path.read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    log_path.write_text("\n".join(lines) + "\n")
    result = check(db, log_path, public)
    assert not result.ok and "goes back from entry 8 to entry 4" in result.problem


# --- the four attacks of issue 13 ---------------------------------------------------------


def test_attack_rewrite_an_entry_and_rehash_the_rest(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path, entries=10, every=1)
    rewrite_and_rehash(db, 5)
    result = check(db, log_path, public)
    assert not result.ok and result.first_bad_seq == 5
    assert "entry 5 is not the entry checkpoint line 6 signed" in result.problem


def test_a_rewrite_between_sparse_checkpoints_is_placed_between_them(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path, entries=10, every=4)  # checkpoints at 0, 4, 8, 10
    rewrite_and_rehash(db, 6)
    result = check(db, log_path, public)
    assert not result.ok and result.first_bad_seq == 8
    assert "an entry from 5 to 8 was rewritten" in result.problem


def test_attack_truncate_the_tail_and_move_the_head_back(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path)
    with tampering(db) as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq > 7))
        seventh = session.get(AuditEntryRow, 7)
        head = session.get(AuditHeadRow, 1)
        assert seventh is not None and head is not None
        head.seq, head.entry_hash = 7, seventh.entry_hash
    result = check(db, log_path, public)
    assert not result.ok and result.first_bad_seq == 8
    assert "entry 8 is missing" in result.problem


def test_attack_append_a_well_formed_entry_after_the_run_closed(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path)
    with tampering(db) as session:
        append(
            session,
            recorded_at=datetime(2010, 1, 2),
            kind="outcome",
            name="IDR_MATCH",
            actor="ident",
            case_id="case-x",
            payload={"n": 11},
        )
    result = check(db, log_path, public)
    assert not result.ok and result.first_bad_seq == 11
    assert "appended after the run closed at entry 10" in result.problem
    # a later, honest start signing over it does not launder it
    Anchor(db, private, log_path, 4).begin()
    again = check(db, log_path, public)
    assert not again.ok and again.first_bad_seq == 11


def test_attack_delete_every_entry(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    a_run(db, private, log_path)
    with tampering(db) as session:
        session.execute(delete(AuditEntryRow))
        session.execute(delete(AuditHeadRow))
    assert verify_database(db).entries == 0  # "intact: 0 entries" without the checkpoints
    result = check(db, log_path, public)
    assert not result.ok and result.first_bad_seq == 1
    assert "entry 1 is missing" in result.problem


def test_the_anchoring_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in ("SCOMM_AUDIT_KEY", "SCOMM_CHECKPOINT_LOG", "SCOMM_CHECKPOINT_EVERY"):
        monkeypatch.delenv(variable, raising=False)
    plain = load_settings()
    assert plain.audit_key is None and plain.checkpoint_every == DEFAULT_CHECKPOINT_EVERY == 1000
    monkeypatch.setenv("SCOMM_AUDIT_KEY", str(tmp_path / "k.pem"))
    monkeypatch.setenv("SCOMM_CHECKPOINT_LOG", str(tmp_path / "c.jsonl"))
    monkeypatch.setenv("SCOMM_CHECKPOINT_EVERY", "25")
    monkeypatch.setenv("SCOMM_CHECKPOINT_HOOK", "cat >/dev/null")
    chosen = load_settings()
    assert (chosen.audit_key, chosen.checkpoint_log) == (tmp_path / "k.pem", tmp_path / "c.jsonl")
    assert chosen.checkpoint_every == 25 and chosen.checkpoint_hook == "cat >/dev/null"
    for bad in ("0", "-3", "ten", "²", "9" * 5000):
        monkeypatch.setenv("SCOMM_CHECKPOINT_EVERY", bad)
        with pytest.raises(ScommError, match="SCOMM_CHECKPOINT_EVERY"):
            load_settings()


def test_a_key_without_a_log_is_refused(db: Database, key_pair: tuple[Path, Path]) -> None:
    with pytest.raises(AuditError, match="SCOMM_CHECKPOINT_LOG is not"):
        Anchor.from_settings(Settings(audit_key=key_pair[0]), db)
    assert Anchor.from_settings(Settings(), db) is None


# --- writers that die, and logs of another database ----------------------------------------


def killed(anchor: Anchor) -> str:
    """What SIGKILL leaves of a writer: its lock let go by the kernel, its lock file still
    there, its id open in the log (no "closed" line). tests/tamper/test_tamper_writers.py
    kills a real process."""
    assert anchor._lock is not None and anchor.lock_path.exists()
    os.close(anchor._lock)
    anchor._lock, anchor._open = None, False
    return anchor.writer


def forge(db: Database, first: int, count: int) -> None:
    """`count` well-formed entries appended by the database's owner, no writer running."""
    add_entries(db, first, count)


def test_a_killed_writer_no_longer_lets_forgeries_pass_as_not_yet_anchored(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    first = Anchor(db, private, log_path, 4)
    first.begin()
    add_entries(db, 1, 5, first)  # a checkpoint at entry 4
    dead = killed(first)
    forge(db, 6, 4)  # 6-9
    second = Anchor(db, private, log_path, 4)
    second.begin()
    assert [(c.state, c.writer, c.seq) for c in read_log(log_path)[-2:]] == [
        (ABANDONED, dead, 9), (OPEN, second.writer, 9),
    ]  # fmt: skip
    assert not first.lock_path.exists()  # signed off: its lock file goes
    add_entries(db, 10, 2, second)
    second.close()
    honest = check(db, log_path, public)
    assert honest.ok and honest.gaps == (Gap(5, 9, dead, 4, 9),) and honest.unanchored == 5
    assert "unanchored gap: entries 5-9 (writer " + dead in describe(honest)
    forge(db, 12, 5)  # after the second run closed, no writer open
    result = check(db, log_path, public)
    assert not result.ok and result.first_bad_seq == 12
    assert "entry 12 was appended after the run closed at entry 11" in result.problem


def test_an_honest_crash_and_resume_is_a_named_gap_not_a_forgery(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    first = Anchor(db, private, log_path, 4)
    first.begin()
    add_entries(db, 1, 6, first)
    dead = killed(first)
    resumed = Anchor(db, private, log_path, 4)
    resumed.begin()
    add_entries(db, 7, 3, resumed)
    resumed.close()
    result = check(db, log_path, public)
    assert result.ok, result.problem
    assert result.gaps == (Gap(5, 6, dead, 4, 6),) and result.unanchored == 2
    assert result.not_yet_anchored == 0 and result.writers_open == frozenset()
    line = unanchored_line(result)
    assert line.startswith("unanchored gap: entries 5-6 (writer " + dead)
    assert "forged" not in describe(result)
    assert not resumed.lock_path.exists() and list(writers_folder(log_path).iterdir()) == []


def test_a_live_writer_is_not_signed_off_and_is_named_while_open(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    running = Anchor(db, private, log_path, 4)
    running.begin()
    add_entries(db, 1, 6, running)  # checkpoints at 0 and 4
    operator = Anchor(db, private, log_path, 4)
    operator.begin()
    operator.close()
    assert ABANDONED not in {c.state for c in read_log(log_path)}
    result = check(db, log_path, public)
    assert result.ok and result.open_at == ((running.writer, 4),) and result.unanchored == 2
    assert f"writers open: {running.writer} (last checkpoint: entry 4)" in describe(result)
    running.close()


def test_a_writer_of_a_log_from_before_writer_locks_is_signed_off(
    db: Database, private: Ed25519PrivateKey, public: Ed25519PublicKey, log_path: Path
) -> None:
    """A log written before lock files existed: its open writer has no lock file."""
    with log_path.open("w") as out:
        out.write(sign(private, seq=0, entry_hash=GENESIS_HASH, state=OPEN, writer="old").line())
        out.write("\n")
    add_entries(db, 1, 3)
    assert check(db, log_path, public).unanchored == 3  # the old format verifies as before
    Anchor(db, private, log_path, 4).begin()
    assert [c.state for c in read_log(log_path)] == [OPEN, ABANDONED, OPEN]
    assert check(db, log_path, public).gaps == (Gap(1, 3, "old", 0, 3),)


def test_a_log_of_another_database_is_refused_before_anything_is_written(
    db: Database, private: Ed25519PrivateKey, log_path: Path, tmp_path: Path
) -> None:
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    other.migrate()
    try:
        a_run(other, private, log_path)  # the log signs the other database's chain
    finally:
        other.dispose()
    before = log_path.read_text()
    for entries in (0, 12):  # an empty chain, and one with other entries at entry 10
        if entries:
            add_entries(db, 100, entries)  # not the other chain's entries
        anchor = Anchor(db, private, log_path, 4)
        with pytest.raises(CheckpointLogError, match="each database needs its own") as error:
            anchor.begin()
        assert f"checkpoint log {log_path} does not sign database" in str(error.value)
        assert "its last checkpoint signs entry 10" in str(error.value)
        assert log_path.read_text() == before and not anchor.lock_path.exists()
    with pytest.raises(CheckpointLogError, match="already signs a chain up to entry 10"):
        require_new_log(log_path, "postgresql://scomm:secret@db/x")
    require_new_log(tmp_path / "none.jsonl", "sqlite://")  # no log yet: nothing to refuse


def test_the_abandoned_state_parses_and_an_unknown_one_is_refused(
    private: Ed25519PrivateKey,
) -> None:
    line = sign(private, seq=3, entry_hash="ab" * 32, state=ABANDONED, writer="w1").line()
    assert Checkpoint.parse(line, "line 1").state == ABANDONED
    bogus = json.dumps({**json.loads(line), "state": "paused"})
    with pytest.raises(CheckpointLogError, match="is not open, closed or abandoned"):
        Checkpoint.parse(bogus, "line 1")


def test_export_hook_failures_end_the_writer_with_one_warning_line(
    db: Database, private: Ed25519PrivateKey, log_path: Path
) -> None:
    warnings: list[str] = []
    failing = Anchor(db, private, log_path, 2, hook="exit 4", report=warnings.append)
    failing.begin()
    add_entries(db, 1, 2, failing)
    assert warnings == []  # each failure is logged as it happens; the warning comes at the end
    failing.close()
    assert len(warnings) == 1 and warnings[0].startswith("warning: the checkpoint export hook")
    assert "failed for 3 checkpoint(s)" in warnings[0]
    for part in ("open checkpoint of entry 0: exit 4", "closed checkpoint of entry 2: exit 4"):
        assert part in warnings[0]
