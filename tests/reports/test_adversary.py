"""The adversary test: protect whole releases, then solve for every suppressed cell from
everything published. It must recover none; without complementary suppression it does."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from disclosure_worlds import MEASURES, world

from scomm.reports.adversary import Audit, families, recover
from scomm.reports.cells import (
    CUMULATIVE,
    US,
    BaseKey,
    CellKey,
    Layout,
    Measure,
    months_between,
    published_cells,
)
from scomm.reports.disclosure import Protected, Rule, protect


def _release(layout: Layout, base: Mapping[BaseKey, int]) -> dict[CellKey, int]:
    return published_cells(base, layout)


def _check_sound(audit: Audit, cells: Mapping[CellKey, int]) -> None:
    """Every interval the adversary solved for holds the true value (the others are
    ranges seen at feasible points: inside the true interval, not around the truth)."""
    for key, bounds in audit.bounds.items():
        if not bounds.exact:
            continue
        assert bounds.low <= cells[key], key
        assert bounds.high is None or cells[key] <= bounds.high, key


@pytest.fixture(scope="module")
def random_world() -> tuple[Layout, dict[CellKey, int], Protected]:
    layout, base = world(4, 2, 15, seed=3, volume=30)
    cells = _release(layout, base)
    return layout, cells, protect(cells, layout)


def test_a_protected_random_release_gives_no_suppressed_cell_away(
    random_world: tuple[Layout, dict[CellKey, int], Protected],
) -> None:
    layout, cells, protected = random_world
    assert set(protected.values) == set(layout.keys())  # all measures, places, periods
    assert len(protected.primary) > 500 and protected.complementary
    audit = recover(protected.values, layout)
    assert audit.recovered == []
    suppressed = {k for k, v in protected.values.items() if v is None}
    assert set(audit.bounds) == suppressed
    assert all(b.high is None or b.high > b.low for b in audit.bounds.values())
    _check_sound(audit, cells)


def test_without_complementary_suppression_the_adversary_recovers_cells(
    random_world: tuple[Layout, dict[CellKey, int], Protected],
) -> None:
    layout, cells, _ = random_world
    bare = protect(cells, layout, Rule(complementary=False))
    assert not bare.complementary
    audit = recover(bare.values, layout)
    assert len(audit.recovered) > 50
    for key in audit.recovered:  # and what it recovers is the truth
        assert audit.bounds[key].low == audit.bounds[key].high == cells[key]


def test_the_margin_rule_alone_is_not_enough_the_exact_audit_is(
    random_world: tuple[Layout, dict[CellKey, int], Protected],
) -> None:
    layout, cells, protected = random_world
    margins = protect(cells, layout, Rule(audit="margins"))
    assert recover(margins.values, layout).recovered  # attacks over several equations
    assert margins.complementary <= protected.complementary | protected.primary
    assert protected.rounds >= 2  # the exact audit found and mended them


def test_exact_intervals_are_solved_both_ways_and_hold_the_truth(
    random_world: tuple[Layout, dict[CellKey, int], Protected],
) -> None:
    layout, cells, protected = random_world
    only = {k: v for k, v in protected.values.items() if k.measure.startswith("citizens")}
    audit = recover(only, layout, exact_intervals=True)
    assert audit.bounds and all(b.exact for b in audit.bounds.values())
    assert audit.recovered == []
    _check_sound(audit, cells)


def test_the_release_splits_into_independent_families() -> None:
    names = {frozenset(f.measures) for f in families(Layout(MEASURES, {"AZ0000000": "AZ"}, ()))}
    assert frozenset({"citizens_matched", "citizens_detained", "citizens_transferred"}) in names
    assert frozenset({"submissions"}) in names
    assert len(names) == 8


# --- the hand cases that break naive suppression --------------------------------------------

ONE = Measure("detainers", "Detainers", ("detainer",), "never_published")


def _layout(measures: tuple[Measure, ...], oris: dict[str, str], months: int) -> Layout:
    return Layout(measures, oris, months_between("2009-10", "2030-12")[:months])


def _hand(
    layout: Layout, base: dict[BaseKey, int]
) -> tuple[dict[CellKey, int], Protected, Audit, Audit]:
    cells = _release(layout, base)
    protected = protect(cells, layout)
    audit = recover(protected.values, layout, exact_intervals=True)
    bare = recover(protect(cells, layout, Rule(complementary=False)).values, layout)
    _check_sound(audit, cells)
    return cells, protected, audit, bare


def test_a_margin_with_one_small_cell() -> None:
    layout = _layout((ONE,), {"CA0010000": "CA", "CA0020000": "CA", "TX0030000": "TX"}, 1)
    month = layout.months[0]
    base = {("detainer", "CA0010000", month): 5, ("detainer", "CA0020000", month): 40}
    base["detainer", "TX0030000", month] = 60
    cells, protected, audit, bare = _hand(layout, base)
    small = CellKey("detainers", "CA0010000", month)
    assert small in bare.recovered  # the state's 45 less the other county's 40
    assert small in protected.primary and audit.recovered == []
    assert protected.values[CellKey("detainers", "CA0020000", month)] is None


def test_two_small_cells_pinned_by_their_known_total() -> None:
    oris = {"CA0010000": "CA", "CA0020000": "CA", "CA0030000": "CA", "TX0040000": "TX"}
    layout = _layout((ONE,), oris, 1)
    month = layout.months[0]
    base = {("detainer", o, month): n for o, n in zip(oris, (1, 1, 30, 50), strict=True)}
    cells, protected, audit, bare = _hand(layout, base)
    a, b = CellKey("detainers", "CA0010000", month), CellKey("detainers", "CA0020000", month)
    # 32 - 30 = 2 over two cells that are each >= 1: both are 1, although both are hidden
    assert a in bare.recovered and b in bare.recovered
    assert audit.recovered == [] and protected.complementary
    assert audit.bounds[a].high is not None and audit.bounds[a].high >= 2


def test_a_cell_recovered_only_through_another_table() -> None:
    """A state's counties by month against the counties' fiscal-year totals and the
    state's monthly totals (a 4 x 4 table with both margins). Nine small cells: two closed
    rectangles of four joined by one cell. Every row and column holding a suppressed cell
    holds at least two, and no sum pins them, yet the joining cell is the rows' hidden sum
    less the columns' hidden sum."""
    oris = {f"CA00{i}0000": "CA" for i in range(1, 5)} | {"TX0090000": "TX"}
    layout = _layout((ONE,), oris, 4)  # October 2009 to January 2010: one fiscal year
    ca = sorted(o for o in oris if o.startswith("CA"))
    small = {(0, 0): 3, (0, 1): 4, (1, 0): 5, (1, 1): 6, (1, 2): 7,
             (2, 2): 2, (2, 3): 3, (3, 2): 4, (3, 3): 5}  # fmt: skip
    base: dict[BaseKey, int] = {}
    for r, ori in enumerate(ca):
        for c, month in enumerate(layout.months):
            base["detainer", ori, month] = small.get((r, c), 20 + 3 * r + c)
    for month in layout.months:
        base["detainer", "TX0090000", month] = 50
    cells, protected, audit, bare = _hand(layout, base)
    bridge = CellKey("detainers", ca[1], layout.months[2])
    margins = protect(cells, layout, Rule(audit="margins"))
    assert not margins.complementary  # no single equation gives anything away
    assert recover(margins.values, layout).recovered == [bridge]
    assert audit.recovered == [] and protected.complementary
    assert bridge in protected.primary


def test_a_measure_that_is_the_sum_of_other_measures() -> None:
    levels = ("m_l1", "m_l2", "m_l3", "m_unl")
    measures = (
        Measure("matches", "IDENT matches", levels, "ice_monthly"),
        *(Measure(f"matches_{a[2:]}", a, (a,), "ice_monthly") for a in levels),
    )
    oris = {"CA0010000": "CA", "CA0020000": "CA"}
    layout = _layout(measures, oris, 3)
    base: dict[BaseKey, int] = {}
    for ori in oris:
        for month in layout.months:
            for atom, n in zip(levels, (25, 20, 30, 15), strict=True):
                base[atom, ori, month] = n
    target = CellKey("matches_l1", "CA0010000", layout.months[1])
    base["m_l1", "CA0010000", layout.months[1]] = 5
    cells, protected, audit, bare = _hand(layout, base)
    assert target in bare.recovered and target in protected.primary
    assert audit.recovered == []
    # the smallest other level of that ORI-month went with it, not the total
    assert protected.values[CellKey("matches", "CA0010000", layout.months[1])] is not None
    assert protected.values[CellKey("matches", US, CUMULATIVE)] is not None


def test_hidden_totals_count_their_non_zero_hidden_parts() -> None:
    """Zeros are shown, so a county's year over four hidden months is >= 4: the state's
    year less the shown county (37 - 30 = 7) over two hidden counties of at least 4 and 3
    gives every month away, though no equation has a single hidden cell. The margin rule
    alone must see it."""
    oris = {"CA0010000": "CA", "CA0020000": "CA", "CA0030000": "CA", "TX0040000": "TX"}
    layout = _layout((ONE,), oris, 12)  # fiscal year 2010
    m = layout.months
    base: dict[BaseKey, int] = {("detainer", "CA0010000", m[i]): 1 for i in range(4)}
    base |= {("detainer", "CA0020000", m[i]): 1 for i in range(4, 7)}
    base |= {("detainer", "CA0030000", m[0]): 15, ("detainer", "CA0030000", m[1]): 15}
    base |= {("detainer", "TX0040000", month): 50 for month in m}
    cells = _release(layout, base)
    bare = recover(protect(cells, layout, Rule(complementary=False)).values, layout)
    assert CellKey("detainers", "CA0010000", "FY2010") in bare.recovered
    margins = protect(cells, layout, Rule(audit="margins"))
    assert recover(margins.values, layout).recovered == []


def test_linprog_gives_the_same_intervals_where_scipy_lacks_its_highs_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import scomm.reports.adversary as adversary

    oris = {"CA0010000": "CA", "CA0020000": "CA", "CA0030000": "CA", "TX0040000": "TX"}
    layout = _layout((ONE,), oris, 2)
    base = {("detainer", o, m): n for o, n in zip(oris, (1, 1, 30, 50), strict=True)
            for m in layout.months}  # fmt: skip
    published = protect(_release(layout, base), layout, Rule(complementary=False)).values
    kept = recover(published, layout, exact_intervals=True)
    monkeypatch.setattr(adversary, "_highs", lambda *args: None)
    plain = recover(published, layout, exact_intervals=True)
    assert plain.bounds == kept.bounds and plain.recovered == kept.recovered
    assert plain.recovered  # the pinned pair, found both ways
