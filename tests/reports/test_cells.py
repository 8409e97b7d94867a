"""The published cells add up: every cell is the sum of its support's base counts."""

from __future__ import annotations

import random

from scomm.reports.cells import (
    CUMULATIVE,
    US,
    CellKey,
    Layout,
    Measure,
    fiscal_year,
    months_between,
    published_cells,
    support,
)

LAYOUT = Layout(
    measures=(
        Measure("matches", "IDENT matches", ("match_l1", "match_l2"), "ice_monthly"),
        Measure("matches_l1", "IDENT matches, level 1", ("match_l1",), "ice_monthly"),
        Measure("detainers", "Detainers lodged", ("detainer",), "never_published"),
    ),
    jurisdictions={"CA0010000": "CA", "CA0020000": "CA", "TX0030000": "TX"},
    months=months_between("2009-08", "2010-11"),
)


def test_fiscal_years_start_in_october() -> None:
    assert fiscal_year("2009-09") == "FY2009"
    assert fiscal_year("2009-10") == "FY2010"
    assert LAYOUT.months[0] == "2009-08" and LAYOUT.months[-1] == "2010-11"
    assert len(LAYOUT.months) == 16
    assert LAYOUT.fiscal_years() == ["FY2009", "FY2010", "FY2011"]


def test_every_cell_is_the_sum_of_its_support() -> None:
    rng = random.Random(3)
    atoms = ["match_l1", "match_l2", "detainer", "not_published"]
    oris = [*LAYOUT.jurisdictions, "NY0090000"]
    base = {
        (rng.choice(atoms), rng.choice(oris), month): rng.randint(0, 9)
        for month in LAYOUT.months
        for _ in range(6)
    }
    cells = published_cells(base, LAYOUT)
    assert set(cells) == set(LAYOUT.keys())
    for key, value in cells.items():
        assert value == sum(base.get(b, 0) for b in support(key, LAYOUT)), key
    # margins: the nation is its states, a state its ORIs, the release its fiscal years
    for measure in ("matches", "detainers"):
        whole = cells[CellKey(measure, US, CUMULATIVE)]
        assert whole == sum(cells[CellKey(measure, s, CUMULATIVE)] for s in ("CA", "TX"))
        assert whole == sum(cells[CellKey(measure, US, fy)] for fy in LAYOUT.fiscal_years())
    # an ORI outside the layout counts nowhere
    assert all(b[1] != "NY0090000" for k in cells for b in support(k, LAYOUT))
