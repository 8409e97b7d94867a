"""NIST's MINDTCT minutiae extractor and BOZORTH3 matcher, through nbis-py: the NBIS baseline.

nbis-py wraps NIST's C code (NBIS mindtct and bozorth3, and NFIQ 2) behind a Rust library.
It takes encoded image bytes, so images are handed over as uncompressed PNG. Conventions, as
checked against this library (see tests/biometrics/test_extract_nbis.py):

* `Minutia.x()`, `Minutia.y()`: pixel column and row from the top-left corner, y down
  (the same numbers the library writes into its ISO/IEC 19794-2 export).
* `Minutia.angle()`: degrees, 0 towards +x, counter-clockwise as the image is seen (y
  down), in steps of 11.25 degrees: the ISO/IEC 19794-2 convention of `Minutiae`. Rotating the
  image 90 degrees counter-clockwise adds 90 degrees to every angle, and on FVC2002 the
  angles agree (to within MINDTCT's angle steps) with those of an independent commercial
  extractor's ISO templates.
* `Minutia.kind()`: RIDGE_ENDING 1, BIFURCATION 2, the ISO codes.
* `Minutia.reliability()`: 0..1, becomes `quality` round(100 * r), at least 1 (0 would mean
  "not reported").

Do not use nbis-py's ISO/IEC 19794-2:2005 input/output for interchange: the records
`to_iso_19794_2_2005()` writes are not conformant (resolution fields 0, 26 bytes of headers
where the standard has 28, no extended-data length), and `load_iso_19794_2_2005()` reads no
minutiae from conformant records (0 from FVC2002's SecuGen templates). scomm's own template
codecs own that format; this module only keeps the native object for BOZORTH3.

The native code is not known to be safe for concurrent calls, so every call into it holds
one process-wide lock: the one piece of module state here, since it guards the C library's
own globals, which are process-wide whoever owns the extractor objects. The extractor
objects themselves belong to their users (`NbisNative`). The native code crashes the
process (SIGSEGV) on images less than 12 pixels high (seen with 11x11 and 10x500), so
images with a side under MIN_SIDE are refused before they reach it; a 600-run fuzz
(random, blank, periodic and sparse images of 12-300 pixels a side, with and without
NFIQ 2) crashed nothing.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

import nbis
import numpy as np
from PIL import Image

from scomm.biometrics.errors import BiometricsError
from scomm.biometrics.images import to_grey_uint8
from scomm.biometrics.minutiae import Minutiae

# The smallest image side passed to the native code (it segfaults below 12 pixels high;
# nothing useful fits in less than this at 500 ppi anyway).
MIN_SIDE = 32
NBIS_PPI = 500.0

_NATIVE_LOCK = threading.Lock()


class MindtctError(BiometricsError, RuntimeError):
    """The native NBIS code refused or failed on an image or a comparison."""


def as_image500(image: np.ndarray) -> np.ndarray:
    """A grey uint8 HxW array (see `to_grey_uint8`) of at least MIN_SIDE on each side."""
    grey = to_grey_uint8(image)
    if grey.ndim != 2 or min(grey.shape) < MIN_SIDE:
        raise ValueError(
            f"NBIS needs a grey image at least {MIN_SIDE}x{MIN_SIDE} pixels, got {grey.shape}"
        )
    return grey


def png_bytes(image: np.ndarray) -> bytes:
    """An uncompressed (store-only) PNG of a grey uint8 HxW array: fast to write and read."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(
        out, format="PNG", compress_level=0
    )
    return out.getvalue()


class NbisNative:
    """One nbis-py extractor (all minutiae kept, no SIVV check, 500 ppi), owned by whoever
    made it (`MindtctExtractor`, `quality.Nfiq2Scorer`). The native object costs about 0.5 s
    to make, so it is made on the first extraction and kept for the next ones."""

    def __init__(self, *, compute_nfiq2: bool) -> None:
        self.compute_nfiq2 = compute_nfiq2
        self._extractor: Any = None

    def _made(self) -> Any:
        if self._extractor is None:
            settings = nbis.NbisExtractorSettings(
                min_quality=0.0,
                get_center=False,
                check_fingerprint=False,
                compute_nfiq2=self.compute_nfiq2,
                ppi=NBIS_PPI,
            )
            self._extractor = nbis.new_nbis_extractor(settings)
        return self._extractor

    def run(self, image500: np.ndarray) -> Any:
        """Extract (holding the lock): nbis-py's `Minutiae` object. Raises nbis errors."""
        data = png_bytes(as_image500(image500))
        with _NATIVE_LOCK:
            return self._made().extract_minutiae(data)


@dataclass(frozen=True, eq=False)
class NbisFeatures:
    """One MINDTCT extraction: the minutiae in scomm's conventions, and the nbis-py object
    (`native`, an `nbis.Minutiae`) that BOZORTH3 compares."""

    minutiae: Minutiae
    native: object


def _convert(native: Any, width: int, height: int) -> Minutiae:
    items = native.get()
    n = len(items)
    x = np.empty(n, np.float32)
    y = np.empty(n, np.float32)
    degrees = np.empty(n, np.float64)
    kind = np.empty(n, np.uint8)
    reliability = np.empty(n, np.float64)
    for i, item in enumerate(items):
        x[i] = item.x()
        y[i] = item.y()
        degrees[i] = item.angle()
        kind[i] = item.kind().value
        reliability[i] = item.reliability()
    quality = np.clip(np.rint(reliability * 100.0), 1, 100).astype(np.uint8)
    angle = np.mod(np.deg2rad(degrees), 2 * np.pi).astype(np.float32)
    return Minutiae(x, y, angle, kind, quality, width, height, int(NBIS_PPI))


class MindtctExtractor:
    """NIST MINDTCT (NBIS) minutiae from a 500 ppi grey image, for the NBIS peer baseline.
    Each extractor owns its native nbis-py object (made on first use): keep one for many
    images."""

    def __init__(self) -> None:
        self._native = NbisNative(compute_nfiq2=False)

    def extract(self, image500: np.ndarray) -> NbisFeatures:
        """Minutiae of a 500 ppi grey image (HxW, at least MIN_SIDE a side), with the native
        object for `compare_bozorth3`. Raises ValueError for unusable input, MindtctError
        when the native code fails."""
        grey = as_image500(image500)
        try:
            native = self._native.run(grey)
        except nbis.NbisError as exc:
            raise MindtctError(f"MINDTCT failed: {exc!r}") from exc
        height, width = grey.shape
        return NbisFeatures(_convert(native, width, height), native)

    def minutiae(self, image500: np.ndarray) -> Minutiae:
        """Just the minutiae of `extract`."""
        return self.extract(image500).minutiae


def compare_bozorth3(a: NbisFeatures, b: NbisFeatures) -> int:
    """NIST BOZORTH3 similarity of two MINDTCT extractions (higher: more alike;
    nbis-py documents a score above 50 as a likely match)."""
    if not isinstance(a, NbisFeatures) or not isinstance(b, NbisFeatures):
        raise TypeError("compare_bozorth3 compares two NbisFeatures")
    try:
        with _NATIVE_LOCK:
            return int(a.native.compare(b.native))  # type: ignore[attr-defined]
    except nbis.NbisError as exc:
        raise MindtctError(f"BOZORTH3 failed: {exc!r}") from exc
