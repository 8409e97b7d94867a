"""Fixtures for the minutiae-record tests (sample records: minutiae_record_samples.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def templates_dir(data_dir: Path) -> Path:
    """The shared iso-templates folder; tests using it skip when it is absent."""
    path = data_dir / "iso-templates"
    if not path.is_dir():
        pytest.skip(f"minutiae-record test data {path} not found (set SCOMM_DATA_DIR)")
    return path
