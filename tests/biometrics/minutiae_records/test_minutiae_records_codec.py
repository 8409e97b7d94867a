"""Our own records: round trips through both writers, standard detection, the INCITS 378-2009
reader, and every validation failure saying what is wrong and where."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from minutiae_record_samples import EXTENDED, encode_incits2009, make_record

from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records import (
    INCITS378_2004,
    INCITS378_2009,
    ISO19794_2_2005,
    FingerView,
    MinutiaeRecord,
    MinutiaeRecordError,
    read_record,
    write_incits378,
    write_iso19794_2,
)

Writer = Callable[[MinutiaeRecord], bytes]
WRITERS = [
    pytest.param(write_iso19794_2, ISO19794_2_2005, 256, id="iso"),
    pytest.param(write_incits378, INCITS378_2004, 180, id="incits"),
]


def _circular_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(np.angle(np.exp(1j * (a.astype(np.float64) - b.astype(np.float64)))))


@pytest.mark.parametrize(("writer", "standard", "units"), WRITERS)
@pytest.mark.parametrize("seed", range(5))
def test_round_trip_up_to_quantisation(
    writer: Writer, standard: str, units: int, seed: int
) -> None:
    record = make_record(
        seed, standard=standard, views=3, ppi_y=508, capture_equipment=0x1ABC,
        cbeff_product_id=0x00420011,
    )  # fmt: skip
    data = writer(record)
    back = read_record(data)
    assert back.standard == standard
    assert (back.width, back.height, back.ppi, back.ppi_y) == (388, 374, 500, 508)
    assert back.capture_equipment == 0x1ABC
    assert back.cbeff_product_id == (0x00420011 if standard == INCITS378_2004 else 0)
    assert len(back.views) == 3
    for ours, theirs in zip(record.views, back.views, strict=True):
        for name in ("finger_position", "view_number", "impression_type", "quality"):
            assert getattr(ours, name) == getattr(theirs, name)
        assert ours.extended_data == theirs.extended_data
        a, b = ours.minutiae, theirs.minutiae
        assert np.array_equal(np.rint(a.x), b.x) and np.array_equal(np.rint(a.y), b.y)
        assert np.array_equal(a.kind, b.kind) and np.array_equal(a.quality, b.quality)
        assert np.all(_circular_gap(a.angle, b.angle) <= np.pi / units + 1e-6)
        assert (b.width, b.height, b.ppi) == (388, 374, 500)
    # quantised values are fixed points: bytes and record reproduce exactly
    assert writer(back) == data
    assert read_record(writer(back)) == back


def test_angle_units_and_direction() -> None:
    """90 degrees is 64 ISO units and 45 INCITS units; the angle is stored as given
    (counter-clockwise with y down), not mirrored."""
    m = Minutiae([10], [20], [np.pi / 2], [1], [50], 100, 100)
    record = MinutiaeRecord(ISO19794_2_2005, 100, 100, 500, (FingerView(1, 0, 0, 60, m),))
    iso = write_iso19794_2(record)
    incits = write_incits378(record)
    assert iso[28:34] == bytes([0x40, 10, 0, 20, 64, 50])
    assert incits[30:36] == bytes([0x40, 10, 0, 20, 45, 50])
    assert len(iso) == 24 + 4 + 6 + 2 and iso[8:12] == (36).to_bytes(4, "big")
    assert len(incits) == 26 + 4 + 6 + 2 and incits[8:10] == (38).to_bytes(2, "big")
    # 197 px/cm for 500 ppi
    assert iso[18:22] == bytes([0, 197, 0, 197]) and incits[20:24] == bytes([0, 197, 0, 197])
    for data in (iso, incits):
        assert read_record(data).views[0].minutiae.angle[0] == pytest.approx(np.pi / 2)


@pytest.mark.parametrize(("pixels_per_cm", "ppi"), [(197, 500), (394, 1001), (99, 251), (1, 3)])
def test_resolution_conversion_round_trips(pixels_per_cm: int, ppi: int) -> None:
    m = Minutiae.empty(50, 50, ppi)
    record = MinutiaeRecord(ISO19794_2_2005, 50, 50, ppi, (FingerView(0, 0, 0, 0, m),))
    data = write_iso19794_2(record)
    assert int.from_bytes(data[18:20], "big") == pixels_per_cm
    assert read_record(data).ppi == ppi


def test_minutiae_at_another_resolution_are_rescaled() -> None:
    m = Minutiae([100], [50], [0], [1], [0], 200, 100, ppi=1000)
    record = MinutiaeRecord(ISO19794_2_2005, 100, 50, 500, (FingerView(0, 0, 0, 0, m),))
    back = read_record(write_iso19794_2(record)).views[0].minutiae
    assert (float(back.x[0]), float(back.y[0]), back.ppi) == (50.0, 25.0, 500)


def test_extended_data_is_not_carried_across_families() -> None:
    iso = make_record(1, standard=ISO19794_2_2005)
    incits = make_record(1, standard=INCITS378_2004)
    assert all(v.extended_data == b"" for v in read_record(write_incits378(iso)).views)
    assert all(v.extended_data == b"" for v in read_record(write_iso19794_2(incits)).views)
    assert read_record(write_iso19794_2(iso)).views[1].extended_data == EXTENDED


def test_iso_extended_areas_not_counting_their_header_are_accepted() -> None:
    # ISO area lengths are read both ways in the wild: here the length (3) excludes the header
    area = bytes.fromhex("01010003aabbcc")
    m = Minutiae.empty(50, 50)
    record = MinutiaeRecord(ISO19794_2_2005, 50, 50, 500, (FingerView(0, 0, 0, 0, m, area),))
    data = write_iso19794_2(record)
    assert read_record(data).views[0].extended_data == area
    incits = MinutiaeRecord(INCITS378_2004, 50, 50, 500, (FingerView(0, 0, 0, 0, m, area),))
    with pytest.raises(
        MinutiaeRecordError, match="area length 3 is shorter than the 4-byte area header"
    ):
        write_incits378(incits)


def test_large_records_use_the_long_length_forms() -> None:
    vendor = bytes.fromhex("0101") + (40_000).to_bytes(2, "big") + bytes(40_000 - 4)
    for standard, writer in (
        (INCITS378_2004, write_incits378),
        (ISO19794_2_2005, write_iso19794_2),
    ):
        record = make_record(2, standard=standard, views=3, extended=vendor)
        data = writer(record)
        assert len(data) > 65_535
        if writer is write_incits378:
            assert data[8:10] == b"\0\0" and int.from_bytes(data[10:14], "big") == len(data)
        else:
            assert int.from_bytes(data[8:12], "big") == len(data)
        back = read_record(data)
        assert back.standard == standard
        assert [v.extended_data for v in back.views] == [v.extended_data for v in record.views]
        assert writer(back) == data


@pytest.mark.parametrize("header_21", [False, True], ids=["20-byte", "21-byte"])
def test_incits_2009_reads(header_21: bool) -> None:
    record = make_record(
        3, standard=INCITS378_2009, views=2, capture_equipment=0x0123, cbeff_product_id=7
    )
    back = read_record(encode_incits2009(record, header_21=header_21))
    assert back.standard == INCITS378_2009
    assert (back.width, back.height, back.ppi) == (388, 374, 500)
    assert back.cbeff_product_id == 7
    assert back.capture_equipment == (0x8123 if header_21 else 0x0123)
    for ours, theirs in zip(record.views, back.views, strict=True):
        assert ours.extended_data == theirs.extended_data
        assert np.array_equal(np.rint(ours.minutiae.x), theirs.minutiae.x)
        assert np.all(
            _circular_gap(ours.minutiae.angle, theirs.minutiae.angle) <= np.pi / 180 + 1e-6
        )


def test_incits_2009_special_qualities() -> None:
    m = Minutiae([1, 2], [3, 4], [0, 1], [1, 2], [254, 255], 50, 50)
    record = MinutiaeRecord(INCITS378_2009, 50, 50, 500, (FingerView(0, 0, 0, 254, m),))
    back = read_record(encode_incits2009(record))
    assert back.views[0].quality == 254  # the view keeps the code ("not reported")
    assert list(back.views[0].minutiae.quality) == [0, 0]  # minutiae: 0 = unknown
    with pytest.raises(MinutiaeRecordError, match="finger quality 254 outside 0-100"):
        write_iso19794_2(back)


def test_iso_19794_2_2011_is_refused_clearly() -> None:
    representation = (40).to_bytes(4, "big") + bytes(36)
    data = b"FMR\x00030\x00" + (15 + 40).to_bytes(4, "big") + b"\x00\x01\x00" + representation
    with pytest.raises(MinutiaeRecordError, match="ISO/IEC 19794-2:2011 layout"):
        read_record(data)


def _iso_sample() -> bytes:
    """ISO record: 300x400, one view (position 2) with 2 minutiae, no extended data."""
    m = Minutiae([10, 20], [30, 40], [0, 1], [1, 2], [40, 50], 300, 400)
    return write_iso19794_2(
        MinutiaeRecord(ISO19794_2_2005, 300, 400, 500, (FingerView(2, 0, 0, 60, m),))
    )


def _incits_sample() -> bytes:
    m = Minutiae([10, 20], [30, 40], [0, 1], [1, 2], [40, 50], 300, 400)
    return write_incits378(
        MinutiaeRecord(INCITS378_2004, 300, 400, 500, (FingerView(2, 0, 0, 60, m),))
    )


def _patched(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def _with_length(data: bytes, extra: bytes, incits: bool = False) -> bytes:
    """Append `extra` and fix the record length field."""
    data += extra
    if incits:
        return _patched(data, 8, len(data).to_bytes(2, "big"))
    return _patched(data, 8, len(data).to_bytes(4, "big"))


ISO = _iso_sample()
INCITS = _incits_sample()
ISO_M1 = 28  # first minutia of the single view
INCITS_M1 = 30

BAD_RECORDS = [
    (b"FMR", "record too short: 3 bytes", 0),
    (b"FIR\x00 20\x00" + ISO[8:], "format identifier is b'FIR\\x00'", 0),
    (b"FMR\x00 30\x00" + ISO[8:], "unsupported record version b' 30\\x00'", 4),
    (ISO[:-1], "record truncated: header declares 42 bytes, got 41", 8),
    (ISO + b"\x07", "declares 42 bytes, got 43 (1 trailing bytes, not zero padding", 42),
    (ISO + bytes(5) + b"\x01", "non-zero trailing byte is 0x01 at offset 47", 47),
    (INCITS + b"\xff" + bytes(9), "declares 44 bytes, got 54 (10 trailing bytes", 44),
    (INCITS[:-5], "record truncated: header declares 44 bytes, got 39", 8),
    (_with_length(ISO[:12], b""), "less than the 24-byte ISO/IEC 19794-2:2005 header", 8),
    (_patched(ISO, 14, b"\0\0"), "image width is 0", 14),
    (_patched(ISO, 20, b"\0\0"), "image y resolution is 0", 20),
    (_patched(ISO, 22, b"\x09"), "header declares 9 finger views", 22),
    (_patched(ISO, 24, b"\x0b"), "finger view 1: finger position 11 is not a valid code", 24),
    (_patched(ISO, 25, b"\x05"), "finger view 1: impression type 5 is not a valid code", 25),
    (_patched(ISO, 26, b"\x65"), "finger view 1 finger quality 101 out of range", 26),
    (_patched(ISO, 27, b"\x05"), "finger view 1 declares 5 minutiae (30 bytes), but only 14", 27),
    (_patched(ISO, ISO_M1 + 6, b"\xc0"), "minutia 2 has the reserved minutia type code 3", 34),
    (_patched(ISO, ISO_M1, b"\x41\x2c"), "minutia 1 lies outside the image: x=300 >= width", 28),
    (_patched(ISO, ISO_M1 + 2, b"\x01\x90"), "y=400 >= height 400", 30),
    (_patched(ISO, ISO_M1 + 11, b"\xff"), "finger view 1, minutia 2 quality 255 out of range", 39),
    (_patched(INCITS, INCITS_M1 + 4, b"\xb4"), "minutia 1 angle 180 out of range 0-179", 34),
    (_patched(ISO, 40, b"\x00\x01"), "extended data block declares 1 bytes, but only 0", 40),
    (
        _with_length(_patched(ISO, 40, b"\x00\x05"), bytes.fromhex("0101000600")),
        "extended data block: area (type 0x0101) declares length 6 but only 5",
        44,
    ),
    (
        _with_length(_patched(ISO, 40, b"\x00\x02"), b"\x01\x01"),
        "2 stray byte(s) where an area header (4 bytes) should start",
        42,
    ),
    (_with_length(_patched(ISO, 22, b"\x00"), bytes(4)), "22 bytes left over after the last", 24),
    (
        _with_length(_patched(INCITS, 42, b"\x00\x04"), bytes.fromhex("01010002"), incits=True),
        "area length 2 is shorter than the 4-byte area header",
        46,
    ),
]


@pytest.mark.parametrize(("data", "reason", "offset"), BAD_RECORDS)
def test_invalid_records_say_why_and_where(data: bytes, reason: str, offset: int) -> None:
    with pytest.raises(MinutiaeRecordError) as caught:
        read_record(data)
    assert reason in str(caught.value)
    assert caught.value.offset == offset
    assert str(caught.value).endswith(f"(at byte offset {offset})")


def test_detection_speaks_the_records_language() -> None:
    """Neither length matches a truncated record: the closer declared length decides."""
    big = write_incits378(
        MinutiaeRecord(
            INCITS378_2004,
            300,
            400,
            500,
            (FingerView(0, 0, 0, 0, Minutiae(*[np.zeros(200)] * 5, 300, 400)),),
        )
    )
    with pytest.raises(MinutiaeRecordError, match=f"declares {len(big)} bytes, got 1000"):
        read_record(big[:1000])
    with pytest.raises(MinutiaeRecordError, match="declares 42 bytes, got 20"):
        read_record(ISO[:20])
    assert read_record(ISO).standard == ISO19794_2_2005
    assert read_record(INCITS).standard == INCITS378_2004


def test_reserved_bits_are_ignored() -> None:
    data = _patched(ISO, ISO_M1 + 2, bytes([0xC0 | ISO[ISO_M1 + 2]]))  # y's reserved bits
    data = _patched(data, 23, b"\x07")  # header reserved byte
    assert read_record(data) == read_record(ISO)


def _one_minutia(**values: list[float]) -> Minutiae:
    fields: dict[str, list[float]] = {"x": [10], "y": [20], "angle": [0], "kind": [1]}
    fields["quality"] = [0]
    fields.update(values)
    return Minutiae(*fields.values(), 300, 400)


def _base(writer: Writer, minutiae: Minutiae | None = None) -> MinutiaeRecord:
    standard = ISO19794_2_2005 if writer is write_iso19794_2 else INCITS378_2004
    view = FingerView(0, 0, 0, 0, minutiae or _one_minutia())
    return MinutiaeRecord(standard, 300, 400, 500, (view,))


def _with_view(record: MinutiaeRecord, **changes: object) -> MinutiaeRecord:
    return replace(record, views=(replace(record.views[0], **changes),))


TOO_MANY = _one_minutia(**{k: [1] * 256 for k in ("x", "y", "angle", "kind", "quality")})
UNENCODABLE: list[tuple[Callable[[MinutiaeRecord], MinutiaeRecord], str]] = [
    (lambda r: replace(r, width=0), "image width 0 outside 1-65535"),
    (lambda r: replace(r, ppi=0), "resolution 0 ppi outside 1-65535 pixels/cm"),
    (lambda r: replace(r, capture_equipment=1 << 16), "capture equipment field exceeds 16 bits"),
    (lambda r: replace(r, views=r.views * 256), "256 finger views, at most 255 fit"),
    (lambda r: _with_view(r, finger_position=11), "finger view 1: finger position 11 outside"),
    (lambda r: _with_view(r, view_number=16), "view number 16 outside 0-15"),
    (lambda r: _with_view(r, impression_type=4), "impression type 4 is not one of"),
    (lambda r: _with_view(r, quality=101), "finger quality 101 outside 0-100"),
    (lambda r: _with_view(r, extended_data=b"\x01"), "1 stray byte(s)"),
    (lambda r: _with_view(r, minutiae=_one_minutia(x=[300])), "minutia 1: x=300.0 outside 0-299"),
    (lambda r: _with_view(r, minutiae=_one_minutia(y=[-1])), "minutia 1: y=-1.0 outside 0-399"),
    (lambda r: _with_view(r, minutiae=_one_minutia(x=[np.nan])), "x=nan outside"),
    (lambda r: _with_view(r, minutiae=_one_minutia(kind=[3])), "kind is not 0, 1 or 2"),
    (lambda r: _with_view(r, minutiae=_one_minutia(quality=[101])), "quality exceeds 100"),
    (lambda r: _with_view(r, minutiae=TOO_MANY), "256 minutiae, at most 255 fit"),
    (
        lambda r: replace(_with_view(r, minutiae=_one_minutia(x=[16384])), width=20000),
        "x=16384.0 outside 0-16383",
    ),
]


@pytest.mark.parametrize(("change", "reason"), UNENCODABLE)
@pytest.mark.parametrize("writer", [write_iso19794_2, write_incits378], ids=["iso", "incits"])
def test_writers_refuse_what_the_format_cannot_hold(
    writer: Writer, change: Callable[[MinutiaeRecord], MinutiaeRecord], reason: str
) -> None:
    with pytest.raises(MinutiaeRecordError, match="cannot encode record") as caught:
        writer(change(_base(writer)))
    assert reason in str(caught.value)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_writers_refuse_non_finite_angles() -> None:
    for writer in (write_iso19794_2, write_incits378):
        with pytest.raises(MinutiaeRecordError, match="a minutia angle is not finite"):
            writer(_base(writer, _one_minutia(angle=[np.inf])))


def test_unknown_standard_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown standard"):
        MinutiaeRecord("ISO19794-2:2011", 1, 1, 500, ())


def test_error_pickles() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(MinutiaeRecordError("bad", 3)))
    assert (error.reason, error.offset, str(error)) == ("bad", 3, "bad (at byte offset 3)")


@pytest.mark.parametrize("padding", [1, 7, 4096])
@pytest.mark.parametrize(("writer", "standard", "units"), WRITERS)
def test_zero_padding_after_the_declared_length_is_accepted(
    writer: Writer, standard: str, units: int, padding: int
) -> None:
    """Records padded with zeros to a block size read as the unpadded record does, in both
    layouts, with detection still telling them apart."""
    data = writer(make_record(seed=padding, standard=standard))
    padded = read_record(data + bytes(padding))
    assert padded.standard == standard
    assert padded == read_record(data)


@pytest.mark.parametrize(("writer", "standard", "units"), WRITERS)
def test_a_non_zero_byte_after_zero_padding_is_refused_with_its_offset(
    writer: Writer, standard: str, units: int
) -> None:
    data = writer(make_record(seed=3, standard=standard))
    bad = data + bytes(7) + b"\x01" + bytes(8)
    with pytest.raises(MinutiaeRecordError) as caught:
        read_record(bad)
    offset = len(data) + 7
    assert caught.value.offset == offset
    assert f"header declares {len(data)} bytes, got {len(bad)}" in caught.value.reason
    assert f"first non-zero trailing byte is 0x01 at offset {offset}" in caught.value.reason


@pytest.mark.parametrize("padding", [1, 4096])
def test_long_form_incits_and_large_iso_records_accept_zero_padding(padding: int) -> None:
    """The layouts whose length fields the other standard reads differently (INCITS 378-2004
    long form, ISO records of 64 KiB and more) keep their standard when padded."""
    many = Minutiae(*[np.zeros(200)] * 5, 300, 400)
    views = tuple(FingerView(i % 11, i // 11, 0, 0, many) for i in range(60))
    for writer, standard in (
        (write_incits378, INCITS378_2004),
        (write_iso19794_2, ISO19794_2_2005),
    ):
        data = writer(MinutiaeRecord(standard, 300, 400, 500, views))
        assert len(data) >= 65536
        padded = read_record(data + bytes(padding))
        assert padded.standard == standard
        assert padded == read_record(data)


def test_zero_padding_does_not_hide_truncation() -> None:
    with pytest.raises(MinutiaeRecordError, match="record truncated: header declares 42 bytes"):
        read_record(ISO[:-3] + bytes(2))
    with pytest.raises(MinutiaeRecordError, match="record truncated: header declares 44 bytes"):
        read_record(INCITS[:-5])


@pytest.mark.parametrize("header_21", [False, True], ids=["20-byte", "21-byte"])
def test_incits_2009_accepts_zero_padding_and_refuses_other_trailing_bytes(
    header_21: bool,
) -> None:
    record = make_record(3, standard=INCITS378_2009, views=2, capture_equipment=0x0123)
    data = encode_incits2009(record, header_21=header_21)
    assert read_record(data + bytes(7)) == read_record(data)
    with pytest.raises(MinutiaeRecordError) as caught:
        read_record(data + b"\0\x05")
    assert caught.value.offset == len(data) + 1
    assert "first non-zero trailing byte is 0x05" in caught.value.reason
