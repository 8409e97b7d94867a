"""Sample records for the minutiae-record tests: random records and an independent
INCITS 378-2009 encoder (the package only reads that version)."""

from __future__ import annotations

import struct

import numpy as np

from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records import (
    ISO19794_2_2005,
    FingerView,
    MinutiaeRecord,
)

# A ridge-count area (type 1, length counts its 4-byte header: method byte + 2 triples) and a
# vendor area (type 0x0101): well formed under both the INCITS and the ISO area conventions.
EXTENDED = bytes.fromhex("0001000b00000103010204") + bytes.fromhex("01010006abcd")


def random_minutiae(
    rng: np.random.Generator, n: int, width: int, height: int, ppi: int
) -> Minutiae:
    return Minutiae(
        rng.uniform(0, width - 0.51, n).astype(np.float32),
        rng.uniform(0, height - 0.51, n).astype(np.float32),
        rng.uniform(0, 2 * np.pi, n).astype(np.float32),
        rng.integers(0, 3, n).astype(np.uint8),
        rng.integers(0, 101, n).astype(np.uint8),
        width,
        height,
        ppi,
    )


def make_record(
    seed: int = 0,
    standard: str = ISO19794_2_2005,
    views: int = 2,
    width: int = 388,
    height: int = 374,
    ppi: int = 500,
    extended: bytes = EXTENDED,
    **header: int | None,
) -> MinutiaeRecord:
    """A random record: `views` finger views of 0-60 minutiae; the first view has no extended
    data, the others `extended`."""
    rng = np.random.default_rng(seed)
    finger_views = tuple(
        FingerView(
            finger_position=int(rng.integers(0, 11)),
            view_number=index,
            impression_type=int(rng.choice([0, 1, 2, 3, 8])),
            quality=int(rng.integers(0, 101)),
            minutiae=random_minutiae(rng, int(rng.integers(0, 61)), width, height, ppi),
            extended_data=extended if index else b"",
        )
        for index in range(views)
    )
    return MinutiaeRecord(standard, width, height, ppi, finger_views, **header)


def encode_incits2009(record: MinutiaeRecord, *, header_21: bool = False) -> bytes:
    """INCITS 378-2009 bytes of `record` (20-byte header as in NIST's fmr.ansi2007, or the
    21-byte variant with certification flags u8 + capture device id u16). Angles in 2-degree
    units; every view gets the record's geometry and quality algorithm 0x00420001."""
    pxcm = (record.ppi * 100 + 127) // 254
    body = b""
    for view in record.views:
        m = view.minutiae
        body += struct.pack(
            ">BBBBIHHHHB",
            view.finger_position,
            view.view_number,
            view.impression_type,
            view.quality,
            0x00420001,
            record.width,
            record.height,
            pxcm,
            pxcm,
            len(m),
        )
        units = np.rint(m.angle.astype(np.float64) * 180 / (2 * np.pi)).astype(int) % 180
        for i in range(len(m)):
            body += struct.pack(
                ">HHBB",
                (int(m.kind[i]) << 14) | int(np.rint(m.x[i])),
                int(np.rint(m.y[i])),
                int(units[i]),
                int(m.quality[i]),
            )
        body += struct.pack(">H", len(view.extended_data)) + view.extended_data
    if header_21:
        equipment = struct.pack(">BH", 0x80, record.capture_equipment & 0x0FFF)
    else:
        equipment = struct.pack(">H", record.capture_equipment)
    head_size = 8 + 4 + 4 + len(equipment) + 2
    head = (
        b"FMR\x00030\x00"
        + struct.pack(">II", head_size + len(body), record.cbeff_product_id)
        + equipment
        + struct.pack(">BB", len(record.views), 0)
    )
    return head + body
