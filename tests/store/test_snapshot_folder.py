"""Where gallery snapshots live (whether one is used is the audit layer's: tests/audit)."""

from __future__ import annotations

from pathlib import Path

from scomm.store.templates import snapshot_folder


def test_snapshot_folder_sits_beside_a_sqlite_file() -> None:
    assert snapshot_folder("sqlite:///demo-out/scomm.db") == Path("demo-out/scomm.db.galleries")
    assert snapshot_folder("sqlite:////tmp/x/a.db") == Path("/tmp/x/a.db.galleries")
    assert snapshot_folder("sqlite:///:memory:") is None
    assert snapshot_folder("postgresql://u@h/db") is None
