"""k-anonymity by generalisation: every count one can compute from a table is 0 or >= k."""

from __future__ import annotations

import random
from collections import Counter
from itertools import combinations

import pytest

from scomm.reports.foia import TABLES, generalisation
from scomm.reports.kanon import Generalisation, Row, is_k_anonymous, k_anonymise

K = 11


def _random_table(rng: random.Random, size: int) -> list[Row]:
    """Encounter-like rows with skewed categories, so that many classes start small."""
    states = ["CA", "TX", "AZ", "NY", "IL", "FL", "WA"]
    areas = {
        "CA": "LOS",
        "TX": "HOU",
        "AZ": "PHO",
        "NY": "NYC",
        "IL": "CHI",
        "FL": "MIA",
        "WA": "SEA",
    }
    rows: list[Row] = []
    for _ in range(size):
        year = rng.choice([2009, 2010, 2010, 2011, 2011, 2011])
        state = rng.choices(states, weights=[40, 30, 10, 8, 6, 4, 2])[0]
        matched = rng.random() < 0.4
        rows.append(
            {
                "person_uid": f"p{rng.randrange(size)}",
                "fiscal_year": year,
                "month": f"{year - (1 if rng.random() < 0.25 else 0)}-{rng.randint(1, 12):02d}",
                "state": state,
                "area": areas[state],
                "ident_match": matched,
                "criminality_level": rng.choices(["1", "2", "3", "non-criminal"], [1, 3, 10, 6])[0]
                if matched
                else None,
                "removability": rng.choice(["removable", "not_removable", "status_unresolved"])
                if matched
                else None,
                "recorded_status_class": rng.choices(
                    ["out_of_status", "permanent_resident", "citizen", "previously_removed"],
                    [20, 10, 1, 3],
                )[0]
                if matched
                else None,
                "citizen_on_uscis_record": (rng.random() < 0.03) if matched else None,
                "ice_action": rng.choice(["detainer", "no_action", "notification_request"])
                if matched
                else None,
            }
        )
    return rows


def _group_counts(rows: list[Row], columns: tuple[str, ...]) -> Counter[tuple[object, ...]]:
    return Counter(tuple(row[name] for name in columns) for row in rows)


@pytest.mark.parametrize("seed", range(12))
def test_every_count_from_one_table_is_zero_or_at_least_k(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.choice([0, 5, 10, 11, 12, 30, 80, 250, 600])
    raw = _random_table(rng, size)
    spec = TABLES[0]
    rule = generalisation(spec, K)
    result = k_anonymise(raw, spec.names, rule)
    rows = result.rows
    people = len({row["person_uid"] for row in raw})  # a table of fewer people is empty
    assert len(rows) in (0, len(raw)) and (len(rows) == 0) == (people < K)
    columns = [name for name in spec.names if name != "person_uid"]
    assert len(rows) == 0 or len(rows) >= K
    for width in (1, 2, 3):
        for subset in combinations(columns, width):
            small = {key: n for key, n in _group_counts(rows, subset).items() if n < K}
            assert not small, f"seed {seed}, {subset}: {small}"
    assert is_k_anonymous(rows, columns, K)
    assert is_k_anonymous(rows, columns, K, identifiers=["person_uid"])  # k people a class


def test_generalisation_only_withholds_and_keeps_every_row_and_identifier() -> None:
    raw = _random_table(random.Random(99), 300)
    spec = TABLES[0]
    result = k_anonymise(raw, spec.names, generalisation(spec, K))
    assert len(result.rows) == len(raw)
    withheld: Counter[str] = Counter()
    for before, after in zip(raw, result.rows, strict=True):
        assert after["person_uid"] == before["person_uid"]
        for name, value in after.items():
            assert value in (None, before[name])
            withheld[name] += value is None and before[name] is not None
    assert withheld == result.withheld and sum(withheld.values()) > 0
    assert raw[0]["state"] is not None  # the input rows are not changed


def test_the_month_goes_before_the_fiscal_year_and_the_state_before_the_area() -> None:
    """Ten rows in one month and one in the next, same fiscal year and place: the months
    are withheld, the fiscal year and the area stay."""
    base = {"fiscal_year": 2010, "state": "CA", "area": "LOS", "kind": "x"}
    raw: list[Row] = [{**base, "month": "2010-01"} for _ in range(10)]
    raw.append({**base, "month": "2010-02"})
    rule = Generalisation(K, (("month",), ("state",), ("area",), ("fiscal_year",)))
    rows = k_anonymise(raw, ["fiscal_year", "month", "state", "area", "kind"], rule).rows
    assert {row["month"] for row in rows} == {None}
    assert {(row["fiscal_year"], row["state"], row["area"]) for row in rows} == {
        (2010, "CA", "LOS")
    }


def test_a_table_already_k_anonymous_is_published_as_it_is() -> None:
    raw: list[Row] = [{"month": "2010-01", "state": "CA"} for _ in range(11)]
    result = k_anonymise(raw, ["month", "state"], Generalisation(K, (("month",), ("state",))))
    assert result.rows == raw and not result.withheld


def test_rare_categories_are_withheld_before_the_ladder() -> None:
    raw: list[Row] = [{"month": "2010-01", "level": "3"} for _ in range(24)]
    raw += [{"month": "2010-01", "level": "1"} for _ in range(3)]
    rule = Generalisation(K, (("month",), ("level",)), categorical=("level",))
    result = k_anonymise(raw, ["month", "level"], rule)
    assert result.withheld["level"] >= 3
    assert all(row["level"] is None for row in result.rows[24:])  # the rare value is gone
    assert is_k_anonymous(result.rows, ["month", "level"], K)


def test_the_last_class_is_filled_from_rows_to_spare() -> None:
    """Three rows that share nothing with anyone end fully withheld, and eight rows of the
    big class join them, so that class of nothing holds k."""
    raw: list[Row] = [{"a": "big", "b": "x"} for _ in range(30)]
    raw += [{"a": f"odd{i}", "b": f"y{i}"} for i in range(3)]
    rule = Generalisation(K, (("a",), ("b",)))
    rows = k_anonymise(raw, ["a", "b"], rule).rows
    sizes = Counter((row["a"], row["b"]) for row in rows)
    assert sizes == {("big", "x"): 22, (None, None): 11}


def test_a_table_of_fewer_than_k_rows_is_published_empty() -> None:
    raw: list[Row] = [{"a": "x"} for _ in range(10)]
    result = k_anonymise(raw, ["a"], Generalisation(K, (("a",),)))
    assert result.rows == [] and result.rows_dropped == 10


def test_a_column_no_step_names_is_withheld_last() -> None:
    raw: list[Row] = [{"a": "x", "b": f"b{i}"} for i in range(12)]
    rows = k_anonymise(raw, ["a", "b"], Generalisation(K, (("a",),))).rows
    assert is_k_anonymous(rows, ["a", "b"], K)
    assert {row["b"] for row in rows} == {None} and {row["a"] for row in rows} == {"x"}


def test_a_class_holds_k_people_not_only_k_rows() -> None:
    """Eleven rows of four people (a citizen with three detainers, ...) would tell that
    four people are in that class: each class must hold k different identifiers."""
    rule = Generalisation(K, (("kind",),), categorical=(), identifiers=("person_uid",))
    raw: list[Row] = [{"person_uid": f"c{i % 4}", "kind": "citizen"} for i in range(11)]
    raw += [{"person_uid": f"p{i}", "kind": "other"} for i in range(30)]
    result = k_anonymise(raw, ["person_uid", "kind"], rule)
    assert is_k_anonymous(result.rows, ["kind"], K, identifiers=["person_uid"])
    citizens = {r["person_uid"] for r in result.rows if r["kind"] == "citizen"}
    assert not citizens  # withheld: no class of four people is published
    assert len(result.rows) == len(raw)
    # a table of many rows but fewer than k people is published empty
    two = [{"person_uid": f"q{i % 2}", "kind": "x"} for i in range(40)]
    assert k_anonymise(two, ["person_uid", "kind"], rule).rows == []
    # rows without an identifier are each a person of their own
    alone: list[Row] = [{"person_uid": None, "kind": "x"} for _ in range(11)]
    assert k_anonymise(alone, ["person_uid", "kind"], rule).rows == alone
