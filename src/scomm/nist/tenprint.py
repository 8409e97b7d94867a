"""Pure values carried by the booking flow's EBTS transactions: CAR/CNA, SRE and ERRT."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# FGP finger position codes (ANSI/NIST-ITL Table 8): 1-10 individual fingers
# (1 right thumb .. 10 left little), 11/12 right/left plain thumb, 13/14 right/left
# four-finger slap, 15 both thumbs.
FINGER_POSITIONS: tuple[int, ...] = tuple(range(1, 16))

# IMP impression codes accepted for ten-print images: 0 live-scan plain,
# 1 live-scan rolled, 2 non-live-scan plain, 3 non-live-scan rolled (ink card).
TENPRINT_IMPRESSIONS: frozenset[int] = frozenset({0, 1, 2, 3})

PixelArray = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class ArrestCharge:
    """One 2.047 ASL subfield: date of offense (DOO) and arrest offense literal (AOL)."""

    offense_date: datetime.date
    literal: str


@dataclass(frozen=True, eq=False)
class FingerImage:
    """One Type-14 finger image: grey pixels (uint8, HxW), FGP position, resolution, IMP.

    The pixel array is copied and made read-only, so the value cannot change after
    construction. Equality compares pixels exactly.
    """

    position: int
    pixels: PixelArray
    ppi: int = 500
    impression: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.pixels, np.ndarray):
            raise TypeError("pixels must be a numpy array")
        if self.pixels.dtype != np.uint8 or self.pixels.ndim != 2:
            raise ValueError(
                f"pixels must be a 2-D uint8 array, got {self.pixels.dtype} {self.pixels.shape}"
            )
        if self.pixels.shape[0] < 1 or self.pixels.shape[1] < 1:
            raise ValueError(f"pixels must not be empty, got shape {self.pixels.shape}")
        frozen = np.array(self.pixels, dtype=np.uint8, copy=True, order="C")
        frozen.flags.writeable = False
        object.__setattr__(self, "pixels", frozen)

    @property
    def height(self) -> int:
        """Number of pixel rows (14.007 VLL)."""
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        """Number of pixel columns (14.006 HLL)."""
        return int(self.pixels.shape[1])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FingerImage):
            return NotImplemented
        return (
            self.position == other.position
            and self.ppi == other.ppi
            and self.impression == other.impression
            and np.array_equal(self.pixels, other.pixels)
        )

    def __hash__(self) -> int:
        return hash((self.position, self.ppi, self.impression, self.pixels.shape))

    def __repr__(self) -> str:
        return (
            f"FingerImage(position={self.position}, pixels=<uint8 {self.height}x{self.width}>, "
            f"ppi={self.ppi}, impression={self.impression})"
        )


@dataclass(frozen=True)
class TenprintSubmission:
    """A criminal ten-print submission (TOT CAR, or CNA when no answer is wanted).

    `name` is "LAST,FIRST MIDDLE"; `height` is feet then inches ("510" = 5'10");
    `weight` is pounds ("180"); `pob`/`citizenship` are two-letter codes.
    """

    tot: str
    tcn: str
    ori: str
    dai: str
    transaction_date: datetime.date
    priority: int
    cri: str
    retain: bool
    name: str
    dob: datetime.date
    pob: str
    sex: str
    race: str
    height: str
    weight: str
    eye: str
    hair: str
    date_of_arrest: datetime.date
    charges: tuple[ArrestCharge, ...]
    fingers: tuple[FingerImage, ...]
    atn: str | None = None
    oca: str | None = None
    citizenship: str | None = None
    tcr: str | None = None

    def __post_init__(self) -> None:
        # Accept any iterable for the repeating parts but keep the value hashable.
        object.__setattr__(self, "charges", tuple(self.charges))
        object.__setattr__(self, "fingers", tuple(self.fingers))


@dataclass(frozen=True)
class SubmissionResults:
    """An SRE response: identification result (2.059 SRF) for the submission `tcr`."""

    tcn: str
    tcr: str
    ori: str
    dai: str
    transaction_date: datetime.date
    identified: bool
    fbi_number: str | None
    name: str | None


@dataclass(frozen=True)
class TransactionErrorResponse:
    """An ERRT response: the submission `tcr` was rejected for the 2.060 MSG reasons."""

    tcn: str
    tcr: str
    ori: str
    dai: str
    transaction_date: datetime.date
    messages: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
