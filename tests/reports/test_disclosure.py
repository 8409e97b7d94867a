"""Disclosure control: what is suppressed, how shown counts are rounded, the noisy release."""

from __future__ import annotations

import math

import pytest
from disclosure_worlds import world

from scomm.reports.cells import US, CellKey, Layout, Measure, months_between, published_cells
from scomm.reports.disclosure import (
    SUPPRESSED,
    DpSettings,
    Rule,
    drb_display,
    drb_round,
    equations,
    measure_splits,
    noisy_release,
    privacy_loss,
    protect,
)


@pytest.fixture(scope="module")
def small() -> tuple[Layout, dict[CellKey, int]]:
    layout, base = world(3, 2, 13, seed=5, volume=40)
    return layout, published_cells(base, layout)


def test_counts_of_one_to_ten_are_suppressed_and_zeros_shown(
    small: tuple[Layout, dict[CellKey, int]],
) -> None:
    layout, cells = small
    protected = protect(cells, layout, Rule(audit="margins"))
    assert protected.primary == {k for k, v in cells.items() if 1 <= v <= 10}
    for key, value in cells.items():
        shown = protected.values[key]
        if value == 0:
            assert shown == 0 and protected.status[key] == "shown"
        elif key in protected.primary or key in protected.complementary:
            assert shown is None and protected.display[key] == SUPPRESSED
            assert protected.status[key] == "suppressed"
        else:
            assert shown == value and value > 10
    # complementary cells are never zeros (a suppressed cell is >= 1) nor primaries
    assert all(cells[k] > 10 for k in protected.complementary)
    assert not protected.primary & protected.complementary
    assert "1 to 10" in protected.rule


def test_a_higher_threshold_suppresses_more(small: tuple[Layout, dict[CellKey, int]]) -> None:
    layout, cells = small
    five = protect(cells, layout, Rule(threshold=5, complementary=False))
    ten = protect(cells, layout, Rule(complementary=False))
    assert five.primary < ten.primary
    assert all(1 <= cells[k] <= 5 for k in five.primary)


def test_the_margin_rule_leaves_no_equation_with_one_or_pinned_suppressed_cells(
    small: tuple[Layout, dict[CellKey, int]],
) -> None:
    layout, cells = small
    protected = protect(cells, layout, Rule(audit="margins"))
    hidden = {k for k, v in protected.values.items() if v is None}
    for total, parts in equations(layout):
        inside = [p for p in parts if p in hidden]
        if total in hidden:
            assert inside or not any(cells[p] for p in parts), total
            continue
        if inside:
            assert len(inside) >= 2, total
            known = cells[total] - sum(cells[p] for p in parts if p not in hidden)
            assert known > len(inside), total


def test_measure_splits_find_the_levels_and_the_nested_counts_none() -> None:
    layout, _ = world(1, 1, 1, seed=0)
    found = measure_splits(layout)
    assert ("arrests", ("arrests_l1", "arrests_l2", "arrests_l3", "arrests_nc")) in found
    assert not [w for w, _ in found if w.startswith("citizens")]
    # ident matches: the unleveled matches are no measure, so no split
    assert not [w for w, _ in found if w == "ident_matches"]


@pytest.mark.parametrize(
    ("count", "rounded", "shown"),
    [
        (0, 0, "0"),
        (1, None, "<15"),
        (14, None, "<15"),
        (15, 20, "20"),
        (24, 20, "20"),
        (25, 30, "30"),
        (99, 100, "100"),
        (100, 100, "100"),
        (124, 100, "100"),
        (125, 150, "150"),
        (999, 1000, "1,000"),
        (1_049, 1_000, "1,000"),
        (1_050, 1_100, "1,100"),
        (12_345, 12_500, "12,500"),
        (123_456, 123_000, "123,000"),
        (1_234_567, 1_235_000, "1,235,000"),
    ],
)
def test_drb_rounding(count: int, rounded: int | None, shown: str) -> None:
    assert drb_round(count) == rounded
    assert drb_display(count) == shown


def test_rounding_comes_after_suppression(small: tuple[Layout, dict[CellKey, int]]) -> None:
    layout, cells = small
    plain = protect(cells, layout, Rule(audit="margins"))
    rounded = protect(cells, layout, Rule(audit="margins", rounding="drb"))
    assert rounded.primary == plain.primary
    assert rounded.complementary == plain.complementary
    for key, value in plain.values.items():
        if value is None:
            assert rounded.values[key] is None and rounded.display[key] == SUPPRESSED
        else:
            assert rounded.values[key] == drb_round(value)
            assert rounded.status[key] == "rounded"
            assert rounded.display[key] == drb_display(value)
    assert "DRB" in rounded.rule and "need not" in rounded.rule


# --- the differentially private release -------------------------------------------------


def test_the_privacy_loss_follows_the_gaussian_and_the_contribution_bound() -> None:
    loss = privacy_loss(DpSettings(scale=5.0, cells_per_person=12, per_cell=1, delta=1e-10))
    assert loss.sensitivity == pytest.approx(math.sqrt(12))
    assert loss.rho == pytest.approx(12 / (2 * 25), rel=1e-6)  # rho = D^2 / (2 s^2)
    # Bun and Steinke's conversion bounds the (tighter) one OpenDP uses
    bound = loss.rho + 2 * math.sqrt(loss.rho * math.log(1 / loss.delta))
    assert 0 < loss.epsilon <= bound
    more = privacy_loss(DpSettings(scale=5.0, cells_per_person=48))
    assert more.rho == pytest.approx(4 * loss.rho, rel=1e-6)
    assert any("no count is exact" in line for line in loss.invariants)


def test_a_noisy_release_adds_up_and_reports_its_privacy_loss() -> None:
    measures = (
        Measure("matches", "IDENT matches", ("m_l1", "m_l2"), "ice_monthly"),
        Measure("matches_l1", "IDENT matches, level 1", ("m_l1",), "ice_monthly"),
    )
    oris = {"CA0010000": "CA", "CA0020000": "CA", "TX0030000": "TX"}
    layout = Layout(measures, oris, months_between("2009-09", "2009-12"))
    base = {("m_l1", "CA0010000", "2009-10"): 40, ("m_l2", "TX0030000", "2009-11"): 7}
    settings = DpSettings(scale=3.0, cells_per_person=4)
    with pytest.raises(ValueError, match="base counts"):
        protect(published_cells(base, layout), layout, Rule(dp=settings))
    release = protect(published_cells(base, layout), layout, Rule(dp=settings), base=base)
    assert set(release.values) == set(layout.keys())
    assert not release.primary and not release.complementary
    assert set(release.status.values()) == {"noisy"}
    assert release.privacy is not None and release.privacy.rho > 0
    assert "no count is exact" in release.rule
    values = {k: v for k, v in release.values.items() if v is not None}
    assert len(values) == len(release.values)
    for period in layout.periods():
        for name in ("matches", "matches_l1"):
            nation = values[CellKey(name, US, period)]
            assert (
                nation == values[CellKey(name, "CA", period)] + values[CellKey(name, "TX", period)]
            )
            assert values[CellKey(name, "CA", period)] == sum(
                values[CellKey(name, o, period)] for o in ("CA0010000", "CA0020000")
            )
    fy = values[CellKey("matches", US, "FY2010")]
    assert fy == sum(values[CellKey("matches", US, m)] for m in ("2009-10", "2009-11", "2009-12"))
    clamped = noisy_release(base, layout, DpSettings(scale=3.0, nonnegative=True))
    assert all(v is not None and v >= 0 for v in clamped.values.values())


def test_the_rule_in_words_names_the_marker_the_release_shows() -> None:
    """The manifest's description of suppression says what a reader finds in its place."""
    said = Rule(threshold=10).describe()
    assert said.startswith("counts of 1 to 10 suppressed")
    assert f"'{SUPPRESSED}' on the pages" in said and "empty in CSV" in said
    assert "1-10" not in said
