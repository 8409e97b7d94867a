"""A run with a signing key: killed and started again, it signs each start ("open" on the head
it found), its cadence and its end ("closed"), and the chain verifies against the log; an
entry appended after the run ended is a forgery. A log belongs to one database: a start on
another database, and a demo or simulate that would replace the database, are refused in one
line before anything is written; a failing export hook ends a run with a warning line."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scomm.audit.chain import append
from scomm.audit.checkpoints import (
    CLOSED,
    OPEN,
    generate_keys,
    load_private_key,
    load_public_key,
    read_log,
    sign,
    verify_anchored,
)
from scomm.audit.errors import CheckpointLogError
from scomm.bus.dispatcher import SimulatedCrash
from scomm.cli import app
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.sim.driver import RunSpec, run
from scomm.store.db import Database
from scomm.store.models import OutboxRow
from scomm.system import System

SPEC = RunSpec.demo(5, 3, population=4, engine="baseline", compression="NONE", fingers=1)


def test_a_crashed_and_resumed_run_verifies_against_its_checkpoints(tmp_path: Path) -> None:
    private, public = generate_keys(tmp_path / "keys")
    log = tmp_path / "checkpoints.jsonl"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'run.db'}",
        audit_key=private,
        checkpoint_log=log,
        checkpoint_every=10,
    )
    crashed: list[int] = []

    def crash_twice(point: str, row: OutboxRow) -> None:
        if point == "after_handle" and row.seq in (5, 12) and row.seq not in crashed:
            crashed.append(row.seq)
            raise SimulatedCrash()

    for _ in range(5):
        try:
            run(SPEC, settings, fault=crash_twice)
            break
        except SimulatedCrash:
            continue
    assert crashed == [5, 12]
    lines = read_log(log)
    assert [c.state for c in lines].count(CLOSED) == 3  # three starts, each closed
    assert {c.writer for c in lines if c.state == OPEN} == {c.writer for c in lines}
    assert any(b.seq - a.seq >= 10 for a, b in zip(lines, lines[1:], strict=False))

    db = Database(settings.database_url)
    try:
        chain, anchored = verify_anchored(db, log, load_public_key(public))
        assert chain.ok and anchored is not None and anchored.ok, anchored
        assert anchored.last is not None and anchored.last.state == CLOSED
        assert anchored.last.seq == chain.entries and anchored.unanchored == 0
        with db.sessions() as session:  # the owner appends after the run has ended
            append(
                session,
                recorded_at=datetime(2011, 1, 1),
                kind="outcome",
                name="IDR_MATCH",
                actor="ident",
                case_id="nobody",
                payload={},
            )
            session.commit()
        _, forged = verify_anchored(db, log, load_public_key(public))
        assert forged is not None and not forged.ok
        assert forged.first_bad_seq == chain.entries + 1
    finally:
        db.dispose()

    # the same log given to another database: refused before the other chain is signed
    signed = log.read_text()
    other = replace(settings, database_url=f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(CheckpointLogError, match="each database needs its own checkpoint log"):
        System(other, ScenarioClock(datetime(2011, 1, 1)))
    assert log.read_text() == signed


def test_a_failing_export_hook_ends_the_run_with_a_warning_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, _ = generate_keys(tmp_path / "keys")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'run.db'}",
        audit_key=private,
        checkpoint_log=tmp_path / "checkpoints.jsonl",
        checkpoint_hook="echo 'log server down' >&2; exit 3",
    )
    system = System(settings, ScenarioClock(datetime(2011, 1, 1)))
    assert capsys.readouterr().err == ""  # the run goes on
    system.close()
    warning = capsys.readouterr().err.strip().splitlines()[-1]
    assert warning.startswith("warning: the checkpoint export hook failed for 2 checkpoint(s)")
    assert "open checkpoint of entry 0: exit 3: log server down" in warning
    assert len(read_log(settings.checkpoint_log)) == 2  # the local lines are kept


@pytest.mark.parametrize("command", [["demo"], ["simulate", "--scenario", "demo"]])
def test_demo_and_simulate_refuse_to_replace_a_database_a_configured_log_signs(
    command: list[str], tmp_path: Path
) -> None:
    private, _ = generate_keys(tmp_path / "keys")
    log = tmp_path / "checkpoints.jsonl"
    line = sign(load_private_key(private), seq=12, entry_hash="ab" * 32, state=CLOSED, writer="w")
    log.write_text(line.line() + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scomm.db").write_text("the database the log signs")
    env = {
        "SCOMM_AUDIT_KEY": str(private),
        "SCOMM_CHECKPOINT_LOG": str(log),
        "SCOMM_DATABASE_URL": None,
        "COLUMNS": "400",
    }
    result = CliRunner().invoke(app, [*command, "--out", str(out)], env=env)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "already signs a chain up to entry 12" in lines[0], lines
    assert "each database needs its own checkpoint log" in lines[0]
    assert (out / "scomm.db").read_text() == "the database the log signs"
    assert log.read_text() == line.line() + "\n"
