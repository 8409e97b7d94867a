"""Foreground segmentation: which part of a finger image holds ridges.

A fast, numpy-only method for 500 ppi grey images (about 2-8 ms for 500x500):

1. Ridge contrast. The image is cut into 8x8-pixel blocks. For every block, the grey-level
   differences between pixels 3 apart (a third of a ridge period), horizontally and
   vertically, are measured over the 24x24-pixel window of the block and its eight neighbours
   (two ridge periods, so a window on ridges always holds ridge and valley). Their root mean
   square, halved, is in grey levels: about the ridge pattern's standard deviation on ridges
   (15-90), the noise level on paper, platen or sensor background (0-6), and small on smooth
   shading such as a capacitive sensor's vignetting, which a plain standard deviation would
   count as contrast.
2. Threshold. A block is foreground when its contrast reaches `max(MIN_CONTRAST,
   RELATIVE_CONTRAST * p95)`, where p95 is the 95th percentile of the image's block
   contrasts: relative, so faint prints on a quiet sensor (FVC2002 DB3) and dark prints on an
   optical scanner (DB1) are both cut at the same fraction of their own ridge contrast; with a
   floor, so a blank or evenly shaded image yields no foreground rather than amplified noise.
3. Cleanup on the block grid: a 3x3 closing bridges narrow creases and dry patches; a 5x5
   opening (the grid edge counting as background) removes specks, scanner lines and thin
   spurs narrower than 40 pixels (2 mm); a final one-block erosion takes back the half
   window by which the 24-pixel window spreads foreground past the ridge edge. Holes are not
   filled: a large blank patch inside a print is not usable area, and on scanned cards the
   box lines and text would otherwise enclose (and fill) whole empty regions.

Limits: printed text and handwriting on scanned ten-print cards have ridge-like contrast and
count as foreground. On the 320 FVC2002 B images the masked area agrees with NFIQ 2's own
foreground estimate (correlation 0.72-0.97 per database, median ratio 0.99-1.09).

The result is a boolean HxW mask, the same size as the image.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

BLOCK = 8  # pixels per block side (500 ppi)
SHIFT = 3  # pixels between the grey levels compared: about a third of a ridge period
MIN_CONTRAST = 6.0  # grey levels: the least ridge contrast (see block_contrast) that counts
RELATIVE_CONTRAST = 0.25  # fraction of the image's 95th-percentile block contrast
MM_PER_INCH = 25.4


def _box3_sum(a: FloatArray) -> FloatArray:
    """Sum over every 3x3 neighbourhood (edges replicated), same shape as `a`."""
    p = np.pad(a, 1, mode="edge")
    rows = p[:-2] + p[1:-1] + p[2:]
    out: FloatArray = rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]
    return out


def _dilate(mask: BoolArray, radius: int) -> BoolArray:
    """Binary dilation by a (2r+1)x(2r+1) square; outside the grid counts as background."""
    if radius <= 0:
        return mask
    h, w = mask.shape
    p = np.pad(mask, radius, mode="constant", constant_values=False)
    rows = np.zeros((h, w + 2 * radius), dtype=bool)
    for dy in range(2 * radius + 1):
        rows |= p[dy : dy + h]
    out = np.zeros((h, w), dtype=bool)
    for dx in range(2 * radius + 1):
        out |= rows[:, dx : dx + w]
    return out


def _erode(mask: BoolArray, radius: int, border: bool) -> BoolArray:
    """Binary erosion by a (2r+1)x(2r+1) square; outside the grid counts as `border`."""
    if radius <= 0:
        return mask
    h, w = mask.shape
    p = np.pad(mask, radius, mode="constant", constant_values=border)
    rows = np.ones((h, w + 2 * radius), dtype=bool)
    for dy in range(2 * radius + 1):
        rows &= p[dy : dy + h]
    out = np.ones((h, w), dtype=bool)
    for dx in range(2 * radius + 1):
        out &= rows[:, dx : dx + w]
    return out


def block_contrast(image: np.ndarray, block: int = BLOCK) -> FloatArray:
    """Ridge contrast of the 3x3-block window centred on every block, in grey levels.

    The root mean square of the grey-level differences between pixels `SHIFT` apart,
    horizontally and vertically, divided by 2: for white noise of standard deviation s it is s,
    for a ridge pattern it is about the pattern's standard deviation, and for smooth shading
    (vignetting, uneven illumination) it stays small, unlike the plain standard deviation.
    Shape (ceil(H/block), ceil(W/block)); the image is extended by edge replication.
    """
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"expected a non-empty HxW image, got shape {image.shape}")
    h, w = image.shape
    hb, wb = -(-h // block), -(-w // block)
    f = np.pad(
        np.asarray(image, dtype=np.float32),
        ((0, hb * block - h + SHIFT), (0, wb * block - w + SHIFT)),
        "edge",
    )
    core = f[: hb * block, : wb * block]
    dx = f[: hb * block, SHIFT : wb * block + SHIFT] - core
    dy = f[SHIFT : hb * block + SHIFT, : wb * block] - core
    energy = (dx * dx + dy * dy).reshape(hb, block, wb, block).sum(axis=(1, 3), dtype=np.float64)
    return np.sqrt(_box3_sum(energy) / (9.0 * block * block * 4.0))


def foreground_blocks(image: np.ndarray, block: int = BLOCK) -> BoolArray:
    """The foreground decision per block (see the module docstring), after cleanup."""
    contrast = block_contrast(image, block)
    threshold = max(MIN_CONTRAST, RELATIVE_CONTRAST * float(np.percentile(contrast, 95)))
    mask = contrast >= threshold
    mask = _erode(_dilate(mask, 1), 1, border=True)  # closing
    mask = _dilate(_erode(mask, 2, border=False), 2)  # opening
    return _erode(mask, 1, border=True)


def foreground_mask(image: np.ndarray, block: int = BLOCK) -> BoolArray:
    """Boolean HxW mask of the image's fingerprint foreground (True: ridges)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(image).__name__}")
    if image.ndim != 2:
        raise ValueError(f"expected a grey HxW image, got shape {image.shape}")
    if block < 2:
        raise ValueError(f"block must be at least 2 pixels, got {block}")
    h, w = image.shape
    blocks = foreground_blocks(image, block)
    return np.repeat(np.repeat(blocks, block, axis=0), block, axis=1)[:h, :w]


def usable_area_mm2(mask: np.ndarray, ppi: float = 500) -> float:
    """Area of the True pixels of `mask` in square millimetres, at `ppi` pixels per inch."""
    if not ppi > 0:
        raise ValueError(f"ppi must be positive, got {ppi!r}")
    pixel_mm = MM_PER_INCH / float(ppi)
    return float(np.count_nonzero(mask)) * pixel_mm * pixel_mm
