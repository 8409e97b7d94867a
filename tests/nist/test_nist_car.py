"""CAR/CNA encode/decode: round trips, and every malformed transaction names the field at fault."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import nistitl
import numpy as np
import pytest

from scomm.nist import (
    MANDATORY_CAR_FIELDS,
    ArrestCharge,
    FingerImage,
    TenprintSubmission,
    TransactionError,
    decode_tenprint,
    encode_tenprint,
    read_tot,
)
from scomm.nist.finger_records import finger_record

Maker = Callable[..., TenprintSubmission]
Edit = Callable[[bytes, Callable[[Any], None]], bytes]


def _type2(message: Any) -> Any:
    return next(message.iter(2))


def _type14(message: Any) -> list[Any]:
    return list(message.iter(14))


def _scalars(sub: TenprintSubmission) -> TenprintSubmission:
    return dataclasses.replace(sub, fingers=())


def _rejects(raw: bytes, field: str | None) -> TransactionError:
    with pytest.raises(TransactionError) as caught:
        decode_tenprint(raw)
    assert caught.value.field == field, str(caught.value)
    assert not caught.value.reason.startswith("internal error")
    return caught.value


@pytest.fixture
def small_raw(make_submission: Maker) -> bytes:
    """A valid 2-finger CAR with tiny uncompressed images: cheap to damage."""
    return encode_tenprint(make_submission(n_fingers=2, size=(16, 12)), compression="NONE")


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["NONE", "PNG"])
def test_lossless_round_trip_is_exact(make_submission: Maker, compression: str) -> None:
    sub = make_submission(n_fingers=10, size=(64, 48))
    raw = encode_tenprint(sub, compression=compression)
    assert read_tot(raw) == "CAR"
    assert decode_tenprint(raw) == sub


@pytest.mark.parametrize("size", [(128, 128), (200, 180)])
def test_wsq_round_trip_scalars_exact_images_close(make_submission: Maker, size: Any) -> None:
    sub = make_submission(n_fingers=10, size=size)
    raw = encode_tenprint(sub)  # WSQ20 by default
    assert len(raw) < sum(f.pixels.size for f in sub.fingers) / 3  # actually compressed
    back = decode_tenprint(raw)
    assert _scalars(back) == _scalars(sub)
    for original, decoded in zip(sub.fingers, back.fingers, strict=True):
        assert (decoded.position, decoded.ppi, decoded.impression) == (
            original.position,
            original.ppi,
            original.impression,
        )
        assert decoded.pixels.shape == original.pixels.shape
        error = np.abs(decoded.pixels.astype(int) - original.pixels.astype(int)).mean()
        assert error < 8.0


def test_round_trip_without_optional_fields_and_with_tcr(make_submission: Maker) -> None:
    sub = make_submission(
        n_fingers=1,
        size=(10, 10),
        tot="CNA",
        retain=False,
        atn=None,
        oca=None,
        citizenship=None,
        tcr="PREVIOUS-TCN-0001",
        priority=1,
    )
    raw = encode_tenprint(sub, compression="NONE")
    assert b"2.006:" not in raw and b"2.009:" not in raw and b"2.021:" not in raw
    assert decode_tenprint(raw) == sub


def test_round_trip_fourteen_images_with_slaps_and_1000_ppi(
    make_submission: Maker, textured: Callable[..., np.ndarray]
) -> None:
    rolled = tuple(FingerImage(p, textured(20, 16, seed=p), ppi=1000) for p in range(1, 11))
    plain = tuple(FingerImage(p, textured(24, 40, seed=p), impression=0) for p in (11, 12, 13, 14))
    sub = make_submission(
        fingers=rolled + plain, charges=[ArrestCharge(datetime.date(2024, 1, 2), "X")]
    )
    back = decode_tenprint(bytearray(encode_tenprint(sub, compression="NONE")))
    assert back == sub
    assert [f.position for f in back.fingers] == list(range(1, 15))


def test_wire_layout_matches_ebts(make_submission: Maker) -> None:
    raw = encode_tenprint(make_submission(n_fingers=1, size=(10, 12)), compression="NONE")
    for expected in (
        b"1.002:0400\x1d",
        b"1.003:1\x1f2\x1e2\x1f0\x1e14\x1f1\x1d",
        b"1.004:CAR\x1d",
        b"1.005:20240501\x1d",
        b"1.006:4\x1d",
        b"1.011:19.69\x1d1.012:19.69\x1c",
        b"2.005:Y\x1d",
        b"2.018:DOE,JOHN QUINCY\x1d",
        b"2.022:19800229\x1d",
        b"2.047:20240429\x1fBURGLARY OF A HABITATION\x1e20240430\x1fRESISTING ARREST\x1d",
        b"2.073:TX2270000\x1c",
        b"14.003:1\x1d14.004:TX2270000\x1d14.005:20240501\x1d14.006:12\x1d14.007:10\x1d",
        b"14.008:1\x1d14.009:500\x1d14.010:500\x1d14.011:NONE\x1d14.012:8\x1d14.013:1\x1d14.999:",
    ):
        assert expected in raw


# --- malformed transactions -----------------------------------------------------------


def test_empty_and_non_bytes() -> None:
    assert _rejects(b"", "Type-1").reason == "empty transaction"
    with pytest.raises(TransactionError) as caught:
        decode_tenprint("1.001:12")  # type: ignore[arg-type]
    assert caught.value.field is None


@pytest.mark.parametrize("where", ["type1", "type2", "type14"])
def test_truncated_buffer_names_the_cut_record(small_raw: bytes, where: str) -> None:
    starts = {
        "type1": 0,
        "type2": small_raw.index(b"2.001:"),
        "type14": small_raw.index(b"14.001:"),
    }
    cut = small_raw[: starts[where] + 30]
    error = _rejects(cut, {"type1": "Type-1", "type2": "Type-2", "type14": "Type-14"}[where])
    assert "truncated" in error.reason


def test_truncated_at_record_boundary_blames_cnt(small_raw: bytes) -> None:
    last = small_raw.rindex(b"14.001:")
    error = _rejects(small_raw[:last], "1.003")
    assert "truncated" in error.reason


def test_missing_dob(small_raw: bytes, edit: Edit) -> None:
    def drop_dob(m: Any) -> None:
        del _type2(m)[22]

    error = _rejects(edit(small_raw, drop_dob), "2.022")
    assert str(error) == "2.022 DOB: missing mandatory field"


@pytest.mark.parametrize("field", sorted(MANDATORY_CAR_FIELDS))
def test_every_mandatory_field_is_required(small_raw: bytes, edit: Edit, field: str) -> None:
    number = int(field.split(".")[1])

    def drop(m: Any) -> None:
        del _type2(m)[number]

    _rejects(edit(small_raw, drop), field)


def _set2(number: int, value: Any) -> Callable[[Any], None]:
    def change(m: Any) -> None:
        _type2(m)[number].value = value

    return change


@pytest.mark.parametrize(
    ("number", "value", "field"),
    [
        (22, "20231345", "2.022"),  # not a date
        (22, "1980022", "2.022"),  # not CCYYMMDD
        (22, "20250101", "2.022"),  # born after the arrest
        (24, "Q", "2.024"),
        (5, "MAYBE", "2.005"),
        (18, "DOE JOHN", "2.018"),  # no comma
        (18, "D" * 49 + ",J", "2.018"),  # 51 characters
        (18, "DO\xc9,JOHN", "2.018"),  # not ASCII
        (20, "Texas", "2.020"),
        (25, "Z", "2.025"),
        (27, "5ft", "2.027"),
        (27, "515", "2.027"),  # 15 inches
        (29, "18O", "2.029"),
        (31, "PUR", "2.031"),
        (32, "ZZZ", "2.032"),
        (45, "2024-04-30", "2.045"),
        (47, "20240429", "2.047"),  # no AOL item
        (47, [["2024042X", "THEFT"]], "2.047"),
        (47, [["20240429", "THEFT", "EXTRA"]], "2.047"),
        (73, "TX227", "2.073"),
        (6, "A" * 31, "2.006"),
        (9, "B" * 21, "2.009"),
        (21, "USA", "2.021"),
        (22, ["19800229", "19800301"], "2.022"),  # a single value field given subfields
    ],
)
def test_bad_type2_values(
    small_raw: bytes, edit: Edit, number: int, value: Any, field: str
) -> None:
    def change(m: Any) -> None:
        record = _type2(m)
        if record[number] is None:
            record += nistitl.Field(2, number, value)
        else:
            record[number].value = value

    _rejects(edit(small_raw, change), field)


@pytest.mark.parametrize(
    ("number", "value", "field"),
    [
        (4, "CAR,", "1.004"),  # not a tenprint TOT
        (4, "SRE", "1.004"),
        (5, "20240231", "1.005"),
        (6, "0", "1.006"),
        (7, "wviafis0z", "1.007"),
        (8, "TX22700", "1.008"),
        (9, "T" * 41, "1.009"),
        (2, "4", "1.002"),
    ],
)
def test_bad_type1_values(
    small_raw: bytes, edit: Edit, number: int, value: str, field: str
) -> None:
    def change(m: Any) -> None:
        m[0][number].value = value

    _rejects(edit(small_raw, change), field)


def test_missing_priority(small_raw: bytes, edit: Edit) -> None:
    def drop(m: Any) -> None:
        del m[0][6]

    _rejects(edit(small_raw, drop), "1.006")


def test_sre_is_not_a_tenprint(small_raw: bytes, edit: Edit) -> None:
    def to_sre(m: Any) -> None:
        m.TOT = "SRE"

    error = _rejects(edit(small_raw, to_sre), "1.004")
    assert str(error).startswith("1.004 TOT:")


def _set14(index: int, number: int, value: Any) -> Callable[[Any], None]:
    def change(m: Any) -> None:
        _type14(m)[index][number].value = value

    return change


@pytest.mark.parametrize(
    ("number", "value", "field"),
    [
        (13, "16", "14.013"),
        (13, "0", "14.013"),
        (13, "R", "14.013"),
        (3, "7", "14.003"),
        (5, "20240532", "14.005"),
        (6, "13", "14.999"),  # HLL x VLL no longer matches the raw pixel count
        (6, "99999", "14.006"),
        (8, "0", "14.008"),
        (9, "499", "14.010"),  # THPS and TVPS disagree
        (9, "50", "14.010"),
        (11, "JPEG", "14.011"),  # not a 14.011 code (JPEGB, JPEGL, JP2, JP2L are read)
        (12, "16", "14.012"),
    ],
)
def test_bad_type14_values(
    small_raw: bytes, edit: Edit, number: int, value: str, field: str
) -> None:
    error = _rejects(edit(small_raw, _set14(1, number, value)), field)
    assert "Type-14 IDC 2" in error.reason


def test_type14_without_data(small_raw: bytes, edit: Edit) -> None:
    def drop(m: Any) -> None:
        del _type14(m)[0][999]

    _rejects(edit(small_raw, drop), "14.999")


def test_no_finger_images(small_raw: bytes, edit: Edit) -> None:
    def drop_all(m: Any) -> None:
        for record in _type14(m):
            m -= record

    _rejects(edit(small_raw, drop_all), "Type-14")


def test_duplicate_finger_position(small_raw: bytes, edit: Edit) -> None:
    error = _rejects(edit(small_raw, _set14(1, 13, "1")), "14.013")
    assert "twice" in error.reason


def test_more_than_fourteen_finger_records(make_submission: Maker, edit: Edit) -> None:
    sub = make_submission(n_fingers=14, size=(4, 4))
    raw = encode_tenprint(sub, compression="NONE")
    extra = FingerImage(15, np.zeros((4, 4), dtype=np.uint8), impression=0)

    def add(m: Any) -> None:
        m += finger_record(extra, 15, sub.ori, sub.transaction_date, "NONE")

    error = _rejects(edit(raw, add), "Type-14")
    assert "15 Type-4/14 records" in error.reason and "1-14" in error.reason


def test_undecodable_wsq(make_submission: Maker, edit: Edit) -> None:
    raw = encode_tenprint(make_submission(n_fingers=2, size=(64, 64)))

    def garble(m: Any) -> None:
        record = _type14(m)[1]
        data = record[999].value
        record[999].value = data[:200] + bytes(255 - b for b in data[200:])

    error = _rejects(edit(raw, garble), "14.999")
    assert "FGP 2" in error.reason


def test_wsq_frame_must_match_record_size(make_submission: Maker, edit: Edit) -> None:
    raw = encode_tenprint(make_submission(n_fingers=1, size=(64, 80)))
    error = _rejects(edit(raw, _set14(0, 6, "81")), "14.999")
    assert "80x64" in error.reason


def test_png_must_match_record_size(make_submission: Maker, edit: Edit) -> None:
    raw = encode_tenprint(make_submission(n_fingers=1, size=(20, 30)), compression="PNG")
    _rejects(edit(raw, _set14(0, 7, "21")), "14.999")


def test_inconsistent_cnt(small_raw: bytes) -> None:
    wrong_idc = small_raw.replace(b"\x1e14\x1f2\x1d", b"\x1e14\x1f7\x1d", 1)
    assert wrong_idc != small_raw
    assert "IDC 7" in _rejects(wrong_idc, "1.003").reason
    wrong_count = small_raw.replace(b"1.003:1\x1f3", b"1.003:1\x1f4", 1)
    assert wrong_count != small_raw
    _rejects(wrong_count, "1.003")
    wrong_type = small_raw.replace(b"\x1e14\x1f2\x1d", b"\x1e13\x1f2\x1d", 1)
    _rejects(wrong_type, "1.003")


def test_record_types_outside_a_car(small_raw: bytes, edit: Edit) -> None:
    def add_type9(m: Any) -> None:
        record = nistitl.AsciiRecord(9)
        record.IDC = 9
        m += record

    _rejects(edit(small_raw, add_type9), "Type-9")

    def add_type2(m: Any) -> None:
        record = nistitl.AsciiRecord(2)
        record.IDC = 9
        m += record

    _rejects(edit(small_raw, add_type2), "Type-2")


def test_duplicated_field(small_raw: bytes) -> None:
    twice = small_raw.replace(b"2.024:M", b"2.022:M", 1)
    assert "twice" in _rejects(twice, "2.022").reason


def test_lengths_that_do_not_add_up(small_raw: bytes) -> None:
    start = small_raw.index(b"2.001:") + len(b"2.001:")
    declared = int(small_raw[start : small_raw.index(b"\x1d", start)])
    shorter = small_raw[:start] + str(declared - 1).encode() + small_raw[start + 3 :]
    assert len(str(declared)) == 3
    _rejects(shorter, "2.001")


# --- encoder validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sex": "Q"}, "2.024"),
        ({"tot": "XYZ"}, "1.004"),
        ({"priority": 0}, "1.006"),
        ({"ori": "tx2270000"}, "1.008"),
        ({"tcn": ""}, "1.009"),
        ({"name": "DOÉ,JOHN"}, "2.018"),
        ({"charges": ()}, "2.047"),
        ({"charges": (ArrestCharge(datetime.date(2024, 1, 1), "X" * 301),)}, "2.047"),
        ({"dob": datetime.date(2025, 1, 1)}, "2.022"),
        ({"height": "5-10"}, "2.027"),
        ({"fingers": ()}, "Type-14"),
        ({"transaction_date": "20240501"}, "1.005"),
    ],
)
def test_encoder_refuses_what_decoder_would(
    make_submission: Maker, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(TransactionError) as caught:
        encode_tenprint(make_submission(n_fingers=1, size=(8, 8), **overrides), compression="NONE")
    assert caught.value.field == field, str(caught.value)


def test_encoder_refuses_bad_finger_sets(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=2, size=(8, 8))
    twice = dataclasses.replace(sub, fingers=(sub.fingers[0], sub.fingers[0]))
    fifteen = make_submission(n_fingers=15, size=(4, 4))
    for bad in (twice, fifteen):
        with pytest.raises(TransactionError) as caught:
            encode_tenprint(bad, compression="NONE")
        assert caught.value.field == "14.013"
    with pytest.raises(TransactionError) as caught:
        encode_tenprint(
            make_submission(
                n_fingers=1,
                size=(8, 8),
                fingers=(FingerImage(16, np.zeros((4, 4), dtype=np.uint8)),),
            ),
            compression="NONE",
        )
    assert caught.value.field == "14.013"


def test_encoder_refuses_unknown_compression_and_tiny_wsq(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=1, size=(32, 100))
    with pytest.raises(TransactionError) as caught:
        encode_tenprint(sub, compression="JPEG")
    assert caught.value.field == "14.011"
    with pytest.raises(TransactionError) as caught:
        encode_tenprint(sub, compression="WSQ20")
    assert caught.value.field == "14.007"
