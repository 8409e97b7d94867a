"""Resampling finger images to the 500 ppi every extractor and quality measure expects.

Minutiae extractors (NIST MINDTCT among them) and NFIQ 2 are designed for 500 ppi: ridge
period, block sizes and every distance threshold are in 500-ppi pixels. Images scanned at
other resolutions (FVC2002 DB2 at 569 ppi, 1000 ppi ten-print scans) are brought to 500 ppi
first, with a filter that is antialiased when it reduces: Pillow's convolution resampling
widens its kernel by the reduction factor, so a reduction low-pass filters before it
subsamples instead of aliasing the ridge pattern.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

PixelArray = npt.NDArray[np.uint8]

TARGET_PPI = 500
# Resolutions `to_500_ppi` accepts: outside this range the input is not a finger image at a
# resolution anyone scans at, and the output would be uselessly small or dangerously large.
MIN_PPI = 100.0
MAX_PPI = 10_000.0
# The largest output `to_500_ppi` makes (a whole ten-print card at 500 ppi is about 10 M).
MAX_OUTPUT_PIXELS = 64_000_000

ResampleMethod = Literal["lanczos", "area", "bicubic"]
_FILTERS = {
    "lanczos": Image.Resampling.LANCZOS,
    "area": Image.Resampling.BOX,  # area averaging when reducing
    "bicubic": Image.Resampling.BICUBIC,
}


def _check_ppi(ppi: float, name: str) -> float:
    value = float(ppi)
    if not math.isfinite(value) or not MIN_PPI <= value <= MAX_PPI:
        raise ValueError(f"{name} must lie in {MIN_PPI:g}..{MAX_PPI:g}, got {ppi!r}")
    return value


def size_at_500_ppi(
    width: int, height: int, ppi: float, ppi_y: float | None = None
) -> tuple[int, int]:
    """(width, height) of a `width` x `height` image at `ppi` once resampled to 500 ppi."""
    x_ppi = _check_ppi(ppi, "ppi")
    y_ppi = x_ppi if ppi_y is None else _check_ppi(ppi_y, "ppi_y")
    return (
        max(1, round(width * TARGET_PPI / x_ppi)),
        max(1, round(height * TARGET_PPI / y_ppi)),
    )


def to_500_ppi(
    image: np.ndarray,
    ppi: float,
    *,
    ppi_y: float | None = None,
    method: ResampleMethod = "lanczos",
) -> PixelArray:
    """Resample a grey uint8 HxW image scanned at `ppi` (horizontal; `ppi_y` vertical, default
    the same) to 500 ppi.

    The output size is the input size times 500/ppi, rounded to whole pixels. When that is the
    input size (500 ppi, or close enough that no pixel would change place) the result is an
    exact copy. `method` "lanczos" (default: Lanczos-3, antialiased when reducing), "area"
    (box filter: plain area averaging when reducing) or "bicubic".
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(image).__name__}")
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"expected a grey uint8 HxW array, got {image.dtype} {image.shape}")
    if image.size == 0:
        raise ValueError("cannot resample an empty image")
    if method not in _FILTERS:
        raise ValueError(f"unknown resampling method {method!r}; one of {sorted(_FILTERS)}")
    height, width = image.shape
    size = size_at_500_ppi(width, height, ppi, ppi_y)
    if size[0] * size[1] > MAX_OUTPUT_PIXELS:
        raise ValueError(
            f"resampling {width}x{height} at {ppi:g} ppi to 500 ppi would make "
            f"{size[0]}x{size[1]} pixels, more than {MAX_OUTPUT_PIXELS}"
        )
    if size == (width, height):
        return np.array(image, dtype=np.uint8, order="C", copy=True)
    resized = Image.fromarray(np.ascontiguousarray(image)).resize(size, _FILTERS[method])
    return np.asarray(resized, dtype=np.uint8).copy()
