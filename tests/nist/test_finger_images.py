"""The general finger-image reader: full ANSI/NIST-ITL FGP and IMP tables, record order with
record type and IDC, and Type-14 JPEG / JPEG 2000 images.

Transactions are written by our encoder (Type-1, Type-2, Type-14 / Type-4 records) and then
edited field by field; the JPEG images are encoded with Pillow, the lossless JPEG by the small
T.81 Annex H writer below (Pillow cannot write one).
"""

from __future__ import annotations

import dataclasses
import io
import struct
from collections.abc import Callable
from typing import Any

import nistitl
import numpy as np
import pytest
from PIL import Image, features

from scomm.nist import (
    TenprintSubmission,
    TransactionError,
    decode_tenprint,
    encode_tenprint,
    finger_records,
    read_finger_images,
)
from scomm.nist.finger_images import read_record_images
from scomm.nist.finger_records import finger_record, lossless_tables_as_class_0
from scomm.nist.finger_tables import FINGER_POSITIONS, IMPRESSION_TYPES

Maker = Callable[..., TenprintSubmission]

# Standard luminance DC Huffman table (ITU-T T.81 Table K.3): code lengths 1..16, categories.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))


def _codes() -> dict[int, tuple[int, int]]:
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    k = 0
    for length, count in enumerate(_DC_BITS, start=1):
        for _ in range(count):
            codes[_DC_VALUES[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def lossless_jpeg(pixels: np.ndarray) -> bytes:
    """An 8-bit grey lossless JPEG (SOF3, predictor 1, Pt 0) as T.81 Annex H lays it out."""
    height, width = pixels.shape
    codes = _codes()
    bits: list[str] = []
    p = pixels.astype(np.int32)
    for y in range(height):
        for x in range(width):
            if x == 0 and y == 0:
                pred = 128
            elif y == 0:
                pred = p[y, x - 1]
            elif x == 0:
                pred = p[y - 1, x]
            else:
                pred = p[y, x - 1]
            diff = int(p[y, x] - pred)
            size = abs(diff).bit_length()
            code, length = codes[size]
            bits.append(format(code, f"0{length}b"))
            if size:
                value = diff if diff > 0 else diff + (1 << size) - 1
                bits.append(format(value, f"0{size}b"))
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    data = bytearray()
    for i in range(0, len(stream), 8):
        byte = int(stream[i : i + 8], 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0)
    dht = bytes([0x00]) + bytes(_DC_BITS) + bytes(_DC_VALUES)
    out = b"\xff\xd8"
    out += b"\xff\xc4" + struct.pack(">H", 2 + len(dht)) + dht
    out += b"\xff\xc3" + struct.pack(">HBHHB", 11, 8, height, width, 1) + bytes([1, 0x11, 0])
    out += b"\xff\xda" + struct.pack(">HB", 8, 1) + bytes([1, 0x00, 1, 0, 0])
    return out + bytes(data) + b"\xff\xd9"


def _message(raw: bytes) -> Any:
    message = nistitl.Message()
    message.parse(raw)
    return message


def _nist(message: Any) -> bytes:
    data = message.NIST
    assert isinstance(data, bytes)
    return data


def _records(message: Any, record_type: int) -> list[Any]:
    return [r for r in message if r.type == record_type]


@pytest.fixture
def sub(make_submission: Maker) -> TenprintSubmission:
    return make_submission(n_fingers=3, size=(12, 10))


@pytest.fixture
def raw14(sub: TenprintSubmission) -> bytes:
    return encode_tenprint(sub, compression="NONE")


def _set14(raw: bytes, number: int, value: str, index: int = 0) -> bytes:
    message = _message(raw)
    _records(message, 14)[index][number].value = value
    return _nist(message)


def _rejects(raw: bytes, field: str) -> TransactionError:
    with pytest.raises(TransactionError) as caught:
        read_record_images(raw)
    assert caught.value.field == field, str(caught.value)
    return caught.value


# --- the tables -------------------------------------------------------------------------


def test_tables_hold_the_ansi_nist_codes() -> None:
    assert set(FINGER_POSITIONS) == {*range(0, 20), *range(40, 51)}
    assert FINGER_POSITIONS[0] == "unknown finger" and FINGER_POSITIONS[19] == "EJI or tip"
    assert set(IMPRESSION_TYPES) == {*range(0, 9), *range(10, 16), *range(20, 30)}
    assert IMPRESSION_TYPES[8] == "live-scan vertical swipe" and IMPRESSION_TYPES[29] == "unknown"


@pytest.mark.parametrize("position", [0, 11, 15, 16, 17, 18, 19, 40, 50])
def test_type14_takes_every_finger_position(raw14: bytes, position: int) -> None:
    images = read_record_images(_set14(raw14, 13, str(position), index=1))
    assert [i.image.position for i in images] == [1, position, 3]


@pytest.mark.parametrize("impression", [0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 24, 28, 29])
def test_type14_takes_every_finger_impression(raw14: bytes, impression: int) -> None:
    images = read_record_images(_set14(raw14, 3, str(impression)))
    assert images[0].image.impression == impression


@pytest.mark.parametrize("position", ["20", "39", "51", "99", "255"])
def test_unknown_position_names_the_field(raw14: bytes, position: str) -> None:
    error = _rejects(_set14(raw14, 13, position, index=2), "14.013")
    assert f"Type-14 FGP 14.013 value {position} is not a finger position" in error.reason
    assert "Type-14 IDC 3" in error.reason


@pytest.mark.parametrize(
    ("impression", "words"),
    [
        ("9", "value 9 is not an impression type"),
        ("99", "value 99 is not an impression type"),
        ("10", "value 10 (live-scan palm) is not an impression type of a Type-14 record"),
        ("15", "value 15 (latent palm lift) is not an impression type of a Type-14 record"),
    ],
)
def test_unknown_or_palm_impression_names_the_field(
    raw14: bytes, impression: str, words: str
) -> None:
    error = _rejects(_set14(raw14, 3, impression), "14.003")
    assert f"Type-14 IMP 14.003 {words}" in error.reason


def test_unknown_compression_names_cga(raw14: bytes) -> None:
    _rejects(_set14(raw14, 11, "GIF"), "14.011")


# --- record order, record type and IDC ---------------------------------------------------


def test_images_in_record_order_with_type_and_idc(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=4, size=(12, 10))
    first, second, third, fourth = sub.fingers
    raw = encode_tenprint(dataclasses.replace(sub, fingers=(first,)), "NONE", 14)
    message = _message(raw)
    message += _type4_record(second, idc=7)
    message += finger_record(third, 3, sub.ori, sub.transaction_date, "PNG")
    message += _type4_record(fourth, idc=2)
    images = read_record_images(_nist(message))
    assert [(i.record_type, i.idc, i.compression) for i in images] == [
        (14, 1, "NONE"),
        (4, 7, "NONE"),
        (14, 3, "PNG"),
        (4, 2, "NONE"),
    ]
    assert [i.image for i in images] == list(sub.fingers)


def test_transactions_without_finger_images_give_none(sub: TenprintSubmission) -> None:
    message = _message(encode_tenprint(sub, "NONE"))
    for record in _records(message, 14):
        message -= record
    assert read_record_images(_nist(message)) == ()


# --- Type-4 -------------------------------------------------------------------------------


def _type4_record(
    finger: Any, idc: int, *, imp: int | None = None, fgp: bytes | None = None, isr: int = 0
) -> Any:
    record = nistitl.BinaryRecord(4)
    record.IDC = idc
    positions = fgp if fgp is not None else bytes([finger.position]) + b"\xff" * 5
    header = struct.pack(
        "!B6sBHHB",
        finger.impression if imp is None else imp,
        positions,
        isr,
        finger.width,
        finger.height,
        0,
    )
    record.value = header + finger.pixels.tobytes()
    return record


def _with_type4(sub: TenprintSubmission, **header: Any) -> bytes:
    raw = encode_tenprint(dataclasses.replace(sub, fingers=sub.fingers[:1]), "NONE", 14)
    message = _message(raw)
    message += _type4_record(sub.fingers[1], 2, **header)
    return _nist(message)


@pytest.mark.parametrize(
    ("header", "position", "impression"),
    [
        ({"fgp": bytes([0, 255, 255, 255, 255, 255])}, 0, 1),
        ({"fgp": bytes([15, 255, 255, 255, 255, 255])}, 15, 1),
        ({"fgp": bytes([13, 2, 3, 4, 5, 255])}, 13, 1),
        ({"imp": 8}, 2, 8),
        ({"imp": 29}, 2, 29),
    ],
)
def test_type4_codes_of_the_table(
    sub: TenprintSubmission, header: dict[str, Any], position: int, impression: int
) -> None:
    image = read_record_images(_with_type4(sub, **header))[1]
    assert (image.record_type, image.idc) == (4, 2)
    assert (image.image.position, image.image.impression) == (position, impression)


@pytest.mark.parametrize(
    ("header", "field", "words"),
    [
        ({"fgp": bytes([16, 255, 255, 255, 255, 255])}, "4.004", "value 16 (right extra digit)"),
        ({"fgp": bytes([99, 255, 255, 255, 255, 255])}, "4.004", "value 99 is not a finger"),
        ({"fgp": bytes([13, 2, 77, 255, 255, 255])}, "4.004", "value 77 is not a finger"),
        ({"imp": 4}, "4.003", "value 4 (latent impression) is not an impression type of"),
        ({"imp": 9}, "4.003", "value 9 is not an impression type"),
        ({"isr": 2}, "4.005", "ISR 2"),
    ],
)
def test_type4_codes_outside_the_table(
    sub: TenprintSubmission, header: dict[str, Any], field: str, words: str
) -> None:
    error = _rejects(_with_type4(sub, **header), field)
    assert words in error.reason and "Type-4 IDC 2" in error.reason


def test_type4_native_resolution_comes_from_nsr(sub: TenprintSubmission) -> None:
    message = _message(_with_type4(sub, isr=1))
    message[0][11].value = "39.37"  # 1000 ppi
    images = read_record_images(_nist(message))
    assert images[1].image.ppi == 1000 and images[0].image.ppi == 500


# --- Type-14 JPEG and JPEG 2000 ------------------------------------------------------------


def _encoded(pixels: np.ndarray, compression: str) -> bytes:
    if compression == "JPEGL":
        return lossless_jpeg(pixels)
    out = io.BytesIO()
    image = Image.fromarray(pixels)
    if compression == "JPEGB":
        image.save(out, format="JPEG", quality=95)
    else:
        image.save(out, format="JPEG2000", irreversible=compression == "JP2")
    return out.getvalue()


def _with_image(raw: bytes, data: bytes, compression: str) -> bytes:
    message = _message(raw)
    record = _records(message, 14)[0]
    record[11].value = compression
    record[999].value = data
    return _nist(message)


@pytest.mark.parametrize("compression", ["JPEGB", "JPEGL", "JP2", "JP2L"])
def test_type14_jpeg_family_is_decoded(
    make_submission: Maker, textured: Any, compression: str
) -> None:
    if compression == "JPEGL" and int((features.version("libjpeg_turbo") or "0").split(".")[0]) < 3:
        pytest.skip("Pillow's libjpeg-turbo is older than 3.0 (no lossless JPEG)")
    pixels = textured(64, 48, seed=7)
    sub = make_submission(n_fingers=1, size=(64, 48))
    raw = encode_tenprint(sub, "NONE")
    (image,) = read_record_images(_with_image(raw, _encoded(pixels, compression), compression))
    assert image.compression == compression and image.image.pixels.shape == (64, 48)
    error = np.abs(image.image.pixels.astype(int) - pixels.astype(int))
    if compression in ("JPEGL", "JP2L"):
        assert error.max() == 0
    else:
        assert 0 < error.mean() < 8


def test_jpeg_of_another_size_or_colour_is_refused(sub: TenprintSubmission, textured: Any) -> None:
    raw = encode_tenprint(sub, "NONE")  # HLL 10, VLL 12
    wrong_size = _encoded(textured(20, 10, seed=1), "JPEGB")
    error = _rejects(_with_image(raw, wrong_size, "JPEGB"), "14.999")
    assert "JPEGB image is 10x20 but HLL x VLL is 10x12" in error.reason
    colour = io.BytesIO()
    Image.new("RGB", (10, 12), (200, 10, 10)).save(colour, format="JPEG2000")
    error = _rejects(_with_image(raw, colour.getvalue(), "JP2"), "14.999")
    assert "mode RGB, not 8-bit grey" in error.reason


@pytest.mark.parametrize("compression", ["JPEGB", "JPEGL", "JP2", "JP2L"])
def test_damaged_jpeg_is_refused_with_the_record(raw14: bytes, compression: str) -> None:
    error = _rejects(_with_image(raw14, b"\xff\xd8 not an image", compression), "14.999")
    assert f"undecodable {compression} image (Type-14 IDC 1, FGP 1)" in error.reason


def test_a_jpeg_labelled_jp2_is_refused(raw14: bytes, textured: Any) -> None:
    jpeg = _encoded(textured(12, 10, seed=2), "JPEGB")
    _rejects(_with_image(raw14, jpeg, "JP2"), "14.999")


def test_type4_errors_carry_type4_mnemonics(sub: TenprintSubmission) -> None:
    error = _rejects(_with_type4(sub, fgp=bytes([99, 255, 255, 255, 255, 255])), "4.004")
    assert error.mnemonic == "FGP" and str(error).startswith("4.004 FGP:")


# --- lossless JPEG as NIST's NBIS writes it; the CAR reader takes the JPEG family ---------


def _huffman_class_1(jpeg: bytes) -> bytes:
    """`jpeg` with its Huffman table declared class 1 (AC), as NBIS's JPEGL encoder writes it
    (NIST's reference transaction type-10-14-17-piv-index-iris.an2 carries such images)."""
    table = jpeg.index(b"\xff\xc4") + 4
    return jpeg[:table] + bytes([0x10 | jpeg[table]]) + jpeg[table + 1 :]


def _needs_lossless_decoder() -> None:
    if int((features.version("libjpeg_turbo") or "0").split(".")[0]) < 3:
        pytest.skip("Pillow's libjpeg-turbo is older than 3.0 (no lossless JPEG)")


def test_jpegl_with_a_class_1_huffman_table_decodes_exactly(
    make_submission: Maker, textured: Any
) -> None:
    _needs_lossless_decoder()
    pixels = textured(64, 48, seed=5)
    raw = encode_tenprint(make_submission(n_fingers=1, size=(64, 48)), "NONE")
    stream = _huffman_class_1(lossless_jpeg(pixels))
    with pytest.raises(OSError, match="broken data stream"):  # what Pillow alone does
        Image.open(io.BytesIO(stream)).load()
    (image,) = read_record_images(_with_image(raw, stream, "JPEGL"))
    assert np.array_equal(image.image.pixels, pixels)


def test_the_huffman_class_is_rewritten_only_where_t81_asks_for_it(textured: Any) -> None:
    lossless = lossless_jpeg(textured(12, 10, seed=3))
    assert lossless_tables_as_class_0(lossless) == lossless  # already class 0
    nbis = _huffman_class_1(lossless)
    assert lossless_tables_as_class_0(nbis) == lossless
    # a class-1 table beside a class-0 table of the same id stays as it is
    table = lossless.index(b"\xff\xc4")
    segment = lossless[table : table + 4 + 1 + 16 + 12]
    both = lossless[:table] + _huffman_class_1(segment) + lossless[table:]
    assert lossless_tables_as_class_0(both) == both
    baseline = io.BytesIO()
    Image.fromarray(textured(12, 10, seed=3)).save(baseline, format="JPEG")
    assert lossless_tables_as_class_0(baseline.getvalue()) == baseline.getvalue()  # SOF0
    assert lossless_tables_as_class_0(b"not a JPEG") == b"not a JPEG"


def test_jpegl_without_a_lossless_decoder_is_refused_naming_the_compression(
    raw14: bytes, textured: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(finger_records.features, "version", lambda name: "2.1.5")
    stream = lossless_jpeg(textured(12, 10, seed=1))
    error = _rejects(_with_image(raw14, stream, "JPEGL"), "14.999")
    assert error.reason.startswith(
        "JPEGL lossless JPEG cannot be decoded (Type-14 IDC 1, FGP 1): Pillow's JPEG library "
        "(libjpeg-turbo 2.1.5) predates lossless decoding (3.0)"
    )


def test_a_jpeg_decoder_failure_is_said_in_words(raw14: bytes, textured: Any) -> None:
    _needs_lossless_decoder()
    stream = bytearray(lossless_jpeg(textured(12, 10, seed=1)))
    stream[stream.index(b"\xff\xda") + 6] = 0x10  # the scan asks for a table never defined
    error = _rejects(_with_image(raw14, bytes(stream), "JPEGL"), "14.999")
    assert "undecodable JPEGL image (Type-14 IDC 1, FGP 1): the compressed data is damaged" in (
        error.reason
    )
    assert (
        "not a JPEG stream (it starts with 4e 4f 4e 45)"
        in _rejects(_with_image(raw14, b"NONE of it", "JPEGB"), "14.999").reason
    )


@pytest.mark.parametrize("compression", ["JPEGB", "JPEGL", "JP2", "JP2L"])
def test_a_car_with_type14_jpeg_images_is_accepted(
    make_submission: Maker, compression: str
) -> None:
    if compression == "JPEGL":
        _needs_lossless_decoder()
    sub = make_submission(n_fingers=2, size=(64, 48))
    first = sub.fingers[0].pixels
    raw = _with_image(encode_tenprint(sub, "NONE"), _encoded(first, compression), compression)
    car = decode_tenprint(raw)
    assert car.fingers[1] == sub.fingers[1]
    error = np.abs(car.fingers[0].pixels.astype(int) - first.astype(int))
    assert error.max() == 0 if compression in ("JPEGL", "JP2L") else 0 < error.mean() < 8
    assert [f.pixels.shape for f in read_finger_images(raw)] == [(64, 48), (64, 48)]
