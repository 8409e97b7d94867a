"""The command tests read whole table rows: a console wide enough, whatever stdout is."""

from __future__ import annotations

import pytest

from scomm.cli.console import console


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under pytest-xdist a worker's stdout is no terminal and Rich falls back to 80 columns,
    # which cuts table cells the tests look for.
    monkeypatch.setattr(console, "width", 300)
