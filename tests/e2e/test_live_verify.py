"""`audit verify` beside a live run: a monitor that cries wolf teaches people to ignore it.

A run of the whole flow appends to the chain in another process while this test verifies
the chain over and over; every verification must find it intact, and the verifications must
really have overlapped the run (they saw the chain at several lengths while it grew). The run
signs checkpoints (every 25 entries), and once its log holds one, each verification is the
auditor's `audit verify --checkpoint`: the chain walk, then the chain against the signed
heads, in one snapshot; it must raise no alarm either."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from scomm.audit.chain import verify_database
from scomm.audit.checkpoints import (
    describe,
    generate_keys,
    load_public_key,
    read_log,
    verify_anchored,
)
from scomm.store.db import Database

RUN = ["--seed", "5", "--bookings", "20", "--population", "12", "--engine", "baseline"]
RUN += ["--compression", "NONE", "--fingers", "2"]


def _chain_exists(url: str, database: Database | None) -> Database | None:
    """The database once the run has made its chain (a SQLite run prepares its world in a
    side file and renames it into place: connect only once the file is there)."""
    if database is None:
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            return None
        database = Database(url)
    return database


def _verify_while_running(url: str, log: Path) -> None:
    database: Database | None = None
    private, public_path = generate_keys(log.parent / "keys")
    public = load_public_key(public_path)
    checkpoints = log.parent / "checkpoints.jsonl"
    env = os.environ | {
        "SCOMM_AUDIT_KEY": str(private),
        "SCOMM_CHECKPOINT_LOG": str(checkpoints),
        "SCOMM_CHECKPOINT_EVERY": "25",
    }
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "scomm", "ops", "run-world", "--database", url, *RUN],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    lengths: list[int] = []
    anchored_lengths: list[int] = []
    alarms: list[str] = []
    try:
        while process.poll() is None:
            database = _chain_exists(url, database)
            if database is None or not inspect(database.engine).has_table("audit_head"):
                time.sleep(0.05)
                continue
            if checkpoints.exists() and read_log(checkpoints):
                chain, anchored = verify_anchored(database, checkpoints, public)
                if anchored is not None and not anchored.ok:
                    alarms.append(f"at {chain.entries} entries: {anchored.problem}")
                elif chain.ok:
                    anchored_lengths.append(chain.entries)
            else:
                chain = verify_database(database)
            lengths.append(chain.entries)
            if not chain.ok:
                alarms.append(f"at {chain.entries} entries: {chain.problem}")
        assert process.returncode == 0, log.read_text()[-2000:]
        database = database or Database(url)
        final, anchored = verify_anchored(database, checkpoints, public)
    finally:
        if process.poll() is None:
            process.kill()
        if database is not None:
            database.dispose()
    assert alarms == [], alarms
    assert final.ok and final.entries > 0
    assert anchored is not None and anchored.ok and anchored.unanchored == 0, describe(anchored)
    growing = sorted({n for n in lengths if 0 < n < final.entries})
    assert len(growing) >= 3, f"the verifications did not overlap the run: {lengths[:20]}"
    signed = sorted({n for n in anchored_lengths if 0 < n < final.entries})
    assert len(signed) >= 2, f"no anchored verification overlapped the run: {anchored_lengths}"


def test_verify_in_a_loop_beside_a_sqlite_run_sees_no_alarm(tmp_path: Path) -> None:
    _verify_while_running(f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "run.log")


@pytest.mark.skipif(
    not os.environ.get("SCOMM_TEST_POSTGRES_URL"),
    reason="SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)",
)
def test_verify_in_a_loop_beside_a_postgresql_run_sees_no_alarm(tmp_path: Path) -> None:
    url = os.environ["SCOMM_TEST_POSTGRES_URL"]
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.dispose()
    _verify_while_running(url, tmp_path / "run.log")
