"""Real ANSI/NIST-ITL transactions from NIST, NBIS and libbiomeval ($SCOMM_DATA_DIR/ansi-nist)."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scomm.nist import (
    ArrestCharge,
    TenprintSubmission,
    TransactionError,
    decode_tenprint,
    encode_tenprint,
    read_finger_images,
    read_tot,
)

FOLDERS = ("nist-reference", "nbis-an2k", "libbiomeval")
NIST_TPCARD_TYPE14 = "type-14-tpcard-nqm.an2"
NIST_TPCARD_TYPE4 = "type-4-tpcard.an2"


def _transactions(data_dir: Path) -> list[Path]:
    files = [
        path
        for folder in FOLDERS
        if (data_dir / "ansi-nist" / folder).is_dir()
        for path in sorted((data_dir / "ansi-nist" / folder).iterdir())
        if path.is_file() and path.name not in ("PROVENANCE.txt", "README")
    ]
    if not files:
        pytest.skip(f"no ANSI/NIST transactions under {data_dir / 'ansi-nist'}")
    return files


def _reference(data_dir: Path, name: str) -> bytes:
    path = data_dir / "ansi-nist" / "nist-reference" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path.read_bytes()


@pytest.mark.filterwarnings("ignore:Record of type:DeprecationWarning")  # nistitl on Type-3/5/6
def test_every_reference_transaction_decodes_or_is_rejected_cleanly(data_dir: Path) -> None:
    outcomes: dict[str, str] = {}
    for path in _transactions(data_dir):
        raw = path.read_bytes()
        try:
            tot = read_tot(raw)
        except TransactionError as error:
            tot = f"? ({error})"
        try:
            decode_tenprint(raw)
            outcome = "decoded"
        except TransactionError as error:
            assert not error.reason.startswith("internal error"), f"{path.name}: {error}"
            outcome = str(error)
        outcomes[f"{path.parent.name}/{path.name}"] = f"TOT {tot}: {outcome}"
    # NIST's reference transactions are AMN/FAUF/CAR test data, not EBTS CARs.
    assert outcomes["nist-reference/type-14-tpcard-nqm.an2"].startswith("TOT AMN: 1.004 TOT:")
    assert outcomes["nist-reference/type-3.an2"] == "TOT CAR: 1.006 PRY: missing mandatory field"
    # libbiomeval's type9-13 repeats 2.034 (NIST tools accept it; strict validation does not).
    assert outcomes["libbiomeval/type9-13.an2k"] == "TOT LFFS: 2.034: field appears twice"


def test_read_tot_of_the_ten_print_cards(data_dir: Path) -> None:
    assert read_tot(_reference(data_dir, NIST_TPCARD_TYPE4)) == "AMN"
    assert read_tot(_reference(data_dir, NIST_TPCARD_TYPE14)) == "AMN"


def test_type14_ten_print_card_is_not_a_car_but_its_images_read(data_dir: Path) -> None:
    """What decode_tenprint does with NIST's Type-14 ten-print card, and what it holds.

    The card is TOT AMN (a test transaction) whose Type-2 only has 2.003, so
    decode_tenprint rejects it on 1.004. Its 14 Type-14 WSQ images are 10 rolled
    ink prints (IMP 3) and the plain thumbs and four-finger slaps (IMP 2), at
    197 pixels/cm (SLC 2), which is 500 ppi.
    """
    raw = _reference(data_dir, NIST_TPCARD_TYPE14)
    with pytest.raises(TransactionError) as caught:
        decode_tenprint(raw)
    assert caught.value.field == "1.004"
    assert "'AMN'" in caught.value.reason

    images = read_finger_images(raw)
    assert sorted(f.position for f in images) == list(range(1, 15))
    assert {f.ppi for f in images} == {500}
    assert {f.position for f in images if f.impression == 3} == set(range(1, 11))
    assert {f.position for f in images if f.impression == 2} == {11, 12, 13, 14}
    by_position = {f.position: f for f in images}
    assert by_position[1].pixels.shape == (752, 804)
    assert by_position[13].pixels.shape == (1000, 1572)

    # The same WSQ streams decoded by NBIS (PNG files named by finger position).
    pngs = data_dir / "wsq" / "nist-tpcard" / "tpcard"
    if not pngs.is_dir():
        pngs = data_dir / "wsq" / "tpcard"
    if pngs.is_dir():
        for position in (1, 6, 12):
            expected = np.asarray(Image.open(pngs / f"fp-{position}.png").convert("L"))
            assert np.array_equal(by_position[position].pixels, expected)


def test_real_fingers_survive_a_car_round_trip(data_dir: Path) -> None:
    raw = _reference(data_dir, NIST_TPCARD_TYPE14)
    fingers = read_finger_images(raw)
    sub = TenprintSubmission(
        tot="CAR",
        tcn="NISTCARD0000001",
        ori="MDNISTIMG",
        dai="WVIAFIS0Z",
        transaction_date=datetime.date(2001, 8, 8),
        priority=2,
        cri="MDNISTIMG",
        retain=True,
        name="CARD,TEN PRINT",
        dob=datetime.date(1970, 1, 1),
        pob="MD",
        sex="U",
        race="U",
        height="000",
        weight="000",
        eye="XXX",
        hair="XXX",
        date_of_arrest=datetime.date(2001, 8, 8),
        charges=(ArrestCharge(datetime.date(2001, 8, 8), "REFERENCE DATA"),),
        fingers=fingers,
    )
    assert decode_tenprint(encode_tenprint(sub, compression="NONE")) == sub
    rolled = dataclasses.replace(sub, fingers=fingers[:1])
    back = decode_tenprint(encode_tenprint(rolled))  # re-compressed with WSQ
    error = np.abs(back.fingers[0].pixels.astype(int) - fingers[0].pixels.astype(int)).mean()
    assert error < 8.0


def test_nist_lossless_jpeg_images_decode(data_dir: Path) -> None:
    """NIST's PIV index-finger transaction: two Type-14 JPEGL images that NBIS wrote with a
    class-1 Huffman table (see finger_records.lossless_tables_as_class_0)."""
    from scomm.nist import read_record_images

    images = read_record_images(_reference(data_dir, "type-10-14-17-piv-index-iris.an2"))
    assert [(i.compression, i.image.position) for i in images] == [("JPEGL", 2), ("JPEGL", 7)]
    assert [i.image.pixels.shape for i in images] == [(512, 288), (464, 288)]
    for image in images:  # ridges on a light background, not a blank or a smear
        assert 150 < image.image.pixels.mean() < 230 and image.image.pixels.std() > 40
