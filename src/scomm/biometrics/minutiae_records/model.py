"""Value types of finger-minutiae records, the error every reader/writer failure raises, and the
code tables and unit conversions the three supported standards share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from scomm.biometrics.errors import BiometricsError
from scomm.biometrics.minutiae import Minutiae

ISO19794_2_2005: Final = "ISO19794-2:2005"
INCITS378_2004: Final = "INCITS378-2004"
INCITS378_2009: Final = "INCITS378-2009"
STANDARDS: Final = (ISO19794_2_2005, INCITS378_2004, INCITS378_2009)

FORMAT_ID: Final = b"FMR\x00"
VERSION_20: Final = b" 20\x00"  # ISO/IEC 19794-2:2005 and INCITS 378-2004 alike
VERSION_030: Final = b"030\x00"  # INCITS 378-2009 (and ISO/IEC 19794-2:2011, not supported)

# Finger position codes of ISO/IEC 19794-2:2005 and INCITS 378-2004/-2009: 0 unknown, 1-5 right
# thumb..little, 6-10 left thumb..little. (The multi-finger codes 13-15 and 40-50 only came with
# INCITS 378-2009 Amendment 1, version "035"; ISO/IEC 19794-4's plain-capture codes 11-15 are
# image codes, not single-finger minutiae codes.)
MAX_FINGER_POSITION: Final = 10
# Impression types: 0 live-scan plain, 1 live-scan rolled, 2 non-live plain, 3 non-live rolled,
# 8 live-scan swipe; 9 (live-scan contactless) is accepted too, as NIST's libbiomeval does.
IMPRESSION_TYPES_V20: Final = frozenset({0, 1, 2, 3, 8, 9})
# INCITS 378-2009 extends the table: 10/11 palm, 20-29 the contact/contactless variants.
IMPRESSION_TYPES_2009: Final = frozenset({0, 1, 2, 3, 8, 9, 10, 11, *range(20, 30)})
ISO_HEADER: Final = 24
INCITS_HEADER: Final = 26  # 30 with the 6-byte record length
MINUTIA_BYTES: Final = 6
# One minutia: type (top 2 bits) and x | reserved (top 2 bits) and y | angle | quality.
MINUTIA_DTYPE: Final = np.dtype([("xt", ">u2"), ("yr", ">u2"), ("angle", "u1"), ("quality", "u1")])
MAX_VIEW_NUMBER: Final = 15  # 4 bits in the 2004/2005 layouts
MAX_QUALITY: Final = 100
QUALITY_SPECIAL_2009: Final = frozenset({254, 255})  # INCITS 378-2009: not reported / failed


class MinutiaeRecordError(BiometricsError, ValueError):
    """A record that cannot be read (or a record value that cannot be written).

    `reason` says what is wrong; `offset` is the byte offset of the offending field in the
    record, when there is one. `str()` gives both.
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        super().__init__(reason if offset is None else f"{reason} (at byte offset {offset})")

    def __reduce__(self) -> tuple[type[MinutiaeRecordError], tuple[str, int | None]]:
        return (type(self), (self.reason, self.offset))


@dataclass(frozen=True)
class FingerView:
    """One finger view (impression) of a record with its minutiae.

    `extended_data` holds the view's extended data block as raw bytes: the sequence of extended
    data areas (type code u16, length u16, data), without the block's own 2-byte length. Readers
    keep it byte for byte; only when a record's area length fields are provably wrong (see
    `read_record`) are those fields corrected, so that writing the view back is well formed.
    """

    finger_position: int
    view_number: int
    impression_type: int
    quality: int
    minutiae: Minutiae
    extended_data: bytes = b""


@dataclass(frozen=True)
class MinutiaeRecord:
    """A finger-minutiae record: image geometry, resolution and one or more finger views.

    `width`, `height` (pixels) and `ppi` describe the image the minutiae were taken from (for
    INCITS 378-2009, where every view has its own, the first view's). The remaining fields keep
    header values so a record read from bytes can be written back unchanged:
    `ppi_y` the vertical resolution when it differs from `ppi` (None: square pixels),
    `capture_equipment` the 16-bit capture-equipment field (compliance/certification in the top
    4 bits, capture device type ID in the low 12), `cbeff_product_id` the INCITS 378 CBEFF
    product identifier (owner << 16 | type; ISO/IEC 19794-2 has no such field).
    """

    standard: str
    width: int
    height: int
    ppi: int
    views: tuple[FingerView, ...]
    ppi_y: int | None = None
    capture_equipment: int = 0
    cbeff_product_id: int = 0

    def __post_init__(self) -> None:
        if self.standard not in STANDARDS:
            raise ValueError(f"unknown standard {self.standard!r}; expected one of {STANDARDS}")
        object.__setattr__(self, "views", tuple(self.views))


def ppi_from_pixels_per_cm(pixels_per_cm: int) -> int:
    """Record resolution (pixels per centimetre) to pixels per inch, rounded half up:
    197 px/cm -> 500 ppi. Exactly inverted by `pixels_per_cm_from_ppi`."""
    return (pixels_per_cm * 254 + 50) // 100


def pixels_per_cm_from_ppi(ppi: int) -> int:
    """Pixels per inch to the nearest whole pixels per centimetre: 500 ppi -> 197 px/cm."""
    return (ppi * 100 + 127) // 254
