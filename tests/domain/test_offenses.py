"""The NCIC table as data and the arrest-literal classifier (unknown -> 0399, counted)."""

from __future__ import annotations

from importlib.resources import files

import pytest

from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.offenses import (
    UNKNOWN_OFFENSE_CODE,
    NcicTable,
    OffenseTally,
    classify_literal,
    load_ncic_table,
    parse_ncic_table,
)
from scomm.domain.rule_errors import RuleFileError


@pytest.fixture(scope="module")
def table(catalogue: RuleCatalogue) -> NcicTable:
    return catalogue.ncic


def test_the_common_booking_offenses_keep_their_order_and_codes(catalogue: RuleCatalogue) -> None:
    common = catalogue.common_offenses
    assert [o.ncic_code for o in common][:4] == ["0399", "0999", "1099", "1199"]
    assert len(common) == 19
    assert all(o.ncic_code in catalogue.ncic.index for o in common)
    assault = catalogue.offense("1315")
    assert assault is not None and assault.felony
    assert catalogue.offense("9998") is None


def test_the_table_is_read_afresh_not_kept_by_the_module() -> None:
    """Each load is a new value (equal to the last): no process-wide copy to go stale."""
    first, second = load_ncic_table(), load_ncic_table()
    assert first == second and first is not second


@pytest.mark.parametrize(
    ("literal", "code", "method"),
    [
        ("BURGLARY", "2299", "exact"),
        ("burglary", "2299", "exact"),
        ("Driving under influence", "5404", "exact"),
        ("DRIVING UNDER THE INFLUENCE", "5404", "alias"),
        ("DUI", "5404", "alias"),
        ("GRAND THEFT - AUTO", "2404", "alias"),
        ("POSS OF COCAINE FOR SALE", "3530", "keywords"),
        ("PROBATION VIOLATION", UNKNOWN_OFFENSE_CODE, "unknown"),
        ("", UNKNOWN_OFFENSE_CODE, "unknown"),
    ],
)
def test_literals_are_classified_with_a_method(
    literal: str, code: str, method: str, table: NcicTable
) -> None:
    result = classify_literal(literal, table)
    assert (result.ncic_code, result.method) == (code, method)


def test_confidence_orders_exact_alias_keywords_unknown(table: NcicTable) -> None:
    exact = classify_literal("BURGLARY", table).confidence
    alias = classify_literal("DUI", table).confidence
    keywords = classify_literal("POSS OF COCAINE FOR SALE", table).confidence
    unknown = classify_literal("FTA WARRANT", table).confidence
    assert exact > alias > keywords > unknown == 0.0


def test_a_keyword_tie_is_not_guessed(table: NcicTable) -> None:
    # "domestic" points at 3803, "battery" at 1313: no winner, so 0399
    assert classify_literal("DOMESTIC BATTERY", table).ncic_code == UNKNOWN_OFFENSE_CODE


def test_unknown_literals_are_counted_not_dropped(catalogue: RuleCatalogue) -> None:
    tally = catalogue.tally()
    assert tally == OffenseTally(catalogue.ncic)
    for literal in ("DUI", "FTA WARRANT", "fta  warrant", "BURGLARY", "PROBATION VIOLATION"):
        tally.classify(literal)
    assert tally.by_method == {"alias": 1, "unknown": 3, "exact": 1}
    assert tally.unknown_literals == {"FTA WARRANT": 2, "PROBATION VIOLATION": 1}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('code = "2299"', 'code = "22X9"', "not a 4-digit"),
        ('code = "2299"', 'code = "9999"', "no family"),
        ('code = "2299"', 'code = "0999"', "listed twice"),
        ('code = "0399"', 'code = "0398"', "0399 is missing"),
        ('literal = "FRAUD"', 'literal = "BURGLARY"', "already names"),
        ('prefix = "01"', 'prefix = "1"', "two digits"),
    ],
)
def test_a_malformed_ncic_table_is_refused(old: str, new: str, message: str) -> None:
    text = files("scomm.rules").joinpath("ncic_offenses.toml").read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(RuleFileError, match=message):
        parse_ncic_table(text.replace(old, new, 1))
