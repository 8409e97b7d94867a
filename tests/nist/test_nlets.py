"""The IAQ in the Nlets text layout (DOMAIN.md §1.4): formatter and parser, round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scomm.nist.nlets import NletsFormatError, NletsIaq, format_iaq, nlets_name, parse_iaq

QUERY = NletsIaq(
    sender_ori="CA0010000",
    name=nlets_name("GARCIA,JOSE LUIS"),
    dob=date(1980, 2, 3),
    sex="M",
    pob="MM",
    in_custody=True,
    attention="SYNTHETIC COUNTY JAIL",
    phone="555-0100",
    control="C12345",
)


def test_the_text_follows_the_layout() -> None:
    text = format_iaq(QUERY)
    assert text == (
        "IAQ.CA0010000.AX.C12345.TXT PUR/C. ATN/SYNTHETIC COUNTY JAIL. PHN/555-0100. "
        "NAM/GARCIA, JOSE LUIS. DOB/19800203. SEX/M. POB/MM. CUS/Y. OFF/0399."
    )


def test_no_charge_code_means_off_0399() -> None:
    assert "OFF/0399." in format_iaq(replace(QUERY, offense_code="0399"))
    assert parse_iaq(format_iaq(QUERY)).offense_code == "0399"


def test_optional_fields_round_trip() -> None:
    full = replace(QUERY, a_number="A123456789", fbi_number="FBI-1A2B", sid="CA1234", oln="D1234")
    text = format_iaq(full)
    assert "ARN/123456789." in text
    assert parse_iaq(text) == full


def test_the_parser_accepts_a_six_digit_dob_and_no_control_field() -> None:
    text = (
        "IAQ.CA0010000.AX.TXT PUR/C. ATN/. PHN/. NAM/DOE, J. DOB/020380. SEX/F. POB/GT. "
        "CUS/N. OFF/5404."
    )
    parsed = parse_iaq(text)
    assert (parsed.dob, parsed.control, parsed.in_custody) == (date(1980, 2, 3), None, False)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("IAQ.CA001.AX.TXT PUR/C.", "ORI"),
        ("IAQ.CA0010000.ZZ.TXT PUR/C.", "DST"),
        ("IAR.CA0010000.AX.TXT PUR/C.", "HDR"),
        (format_iaq(QUERY).replace(" OFF/0399.", ""), "OFF"),
        (format_iaq(QUERY).replace("OFF/0399", "OFF/39"), "OFF"),
        (format_iaq(QUERY).replace("DOB/19800203", "DOB/19801303"), "DOB"),
        (format_iaq(QUERY).replace("SEX/M", "SEX/X"), "SEX"),
        (format_iaq(QUERY).replace("CUS/Y", "CUS/MAYBE"), "CUS"),
        (format_iaq(QUERY) + " XYZ/1.", "XYZ"),
        (format_iaq(QUERY) + " SEX/M.", "SEX"),
        (format_iaq(QUERY) + " garbage", "TXT"),
    ],
)
def test_a_bad_query_names_its_field(text: str, field: str) -> None:
    with pytest.raises(NletsFormatError) as caught:
        parse_iaq(text)
    assert caught.value.field == field


def test_the_formatter_refuses_what_the_layout_cannot_carry() -> None:
    with pytest.raises(NletsFormatError, match="ATN"):
        format_iaq(replace(QUERY, attention="ST. MARY'S JAIL"))
    with pytest.raises(NletsFormatError, match="NAM"):
        format_iaq(replace(QUERY, name="X" * 31))
    with pytest.raises(NletsFormatError, match="ARN"):
        format_iaq(replace(QUERY, a_number="A12"))


_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,-'", max_size=30).map(
    lambda s: " ".join(s.split())
)


@given(
    ori=st.from_regex(r"[A-Z]{2}[0-9]{7}", fullmatch=True),
    name=_TEXT,
    attention=_TEXT,
    phone=st.from_regex(r"[0-9-]{0,20}", fullmatch=True),
    dob=st.dates(date(1900, 1, 1), date(2017, 12, 31)),
    sex=st.sampled_from(["M", "F", "U"]),
    pob=st.from_regex(r"[A-Z]{2}", fullmatch=True),
    custody=st.booleans(),
    offense=st.from_regex(r"[0-9]{4}", fullmatch=True),
    control=st.none() | st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True),
    a_number=st.none() | st.from_regex(r"A[0-9]{8,9}", fullmatch=True),
)
def test_any_query_survives_format_then_parse(
    ori: str,
    name: str,
    attention: str,
    phone: str,
    dob: date,
    sex: str,
    pob: str,
    custody: bool,
    offense: str,
    control: str | None,
    a_number: str | None,
) -> None:
    query = NletsIaq(
        sender_ori=ori,
        name=name,
        dob=dob,
        sex=sex,
        pob=pob,
        in_custody=custody,
        offense_code=offense,
        attention=attention,
        phone=phone,
        control=control,
        a_number=a_number,
    )
    assert parse_iaq(format_iaq(query)) == query


def test_any_ebts_name_becomes_a_name_the_layout_carries() -> None:
    assert nlets_name("ST. JOHN,MARY ANN") == "ST JOHN, MARY ANN"
    long = nlets_name("ABCDEFGHIJKLMNOPQRSTUVWXYZABC,DEF")
    assert len(long) <= 30 and long == long.strip()
    format_iaq(replace(QUERY, name=long))
