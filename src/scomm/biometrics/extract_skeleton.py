"""A fast skeleton minutiae extractor for scomm's clean synthetic prints (not for real captures).

The method is the textbook one (Maltoni, Maio, Jain, Prabhakar, "Handbook of Fingerprint
Recognition", 2nd ed. 2009, sec. 3.7.1: binarisation, thinning, crossing number), in this
order, one stage per function:

1. smoothing: a Gaussian of `smooth_sigma`, which leaves sensor noise at a quarter;
2. local statistics: mean and standard deviation over a `window` square (about two ridge
   periods) around every pixel, from integral images;
3. foreground: where that standard deviation (the ridge contrast) reaches a floor and a
   fraction of its 95th percentile; pixel by pixel, so the mask moves with the finger;
4. binarisation: ridges are the foreground pixels darker than their local mean;
5. thinning: Zhang and Suen, "A fast parallel algorithm for thinning digital patterns",
   CACM 27(3), 1984, then a pass that removes the staircase corners it leaves, so the
   skeleton is one pixel wide in the 8-connected sense;
6. minutiae: the crossing number (Rutovitz 1966; Arcelli and Sanniti di Baja 1985): 1 is a
   ridge ending, 3 a bifurcation;
7. filters: every minutia's branches are traced along the skeleton for `min_ridge` pixels;
   two minutiae joined that closely (spurs, short pieces, bridges, small lakes) are dropped
   together, as are two minutiae closer than `min_distance` (the ends of a broken ridge),
   and those within `border` pixels of the background (ridges cut by the contact area's
   edge or a dry patch end there, and those endings are not the finger's);
8. directions: the axis is the ridge orientation from the structure tensor of the
   smoothed image's gradients (window `orientation_sigma`); the sign comes from the traced
   branches: a ridge ending points along its ridge, into it; a bifurcation points between
   its two branches, into the valley they enclose.  That is the ISO/IEC 19794-2 convention
   as MINDTCT applies it: on synthetic prints 93% of the minutiae both extractors find
   (same place, same kind) point within 45 degrees of MINDTCT's direction.

What it is for: the demo's synthetic prints, rolled impressions of the SFinGe-style
generator (`scomm.sim.synth.world_prints`: 448 x 576 px, about 8-11 ms of CPU each and 20-80
minutiae), and the small "labyrinth" test textures (`scomm.sim.synth.fingers`: 3-4 ms per
256 x 256 image, about 40 minutiae); both are clean (no creases, scars or smudges).  It
has no orientation-field smoothing, ridge-frequency estimation or quality model, so real
captures give it several times as many minutiae as they hold, most of them false: with
the MCC matcher (MINDTCT settings) its EER on the FVC2002 B databases is 33% (DB1), 26%
(DB2), 42% (DB3) and 31% (DB4), against a mean of 0.6% with LEADER's minutiae.  Real
prints go through `engine`.  Deterministic: the same image gives the same minutiae.  The
compiled stages release the GIL, so several images can be extracted on threads at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from scomm.biometrics.index.gallery import MinutiaeTemplate
from scomm.biometrics.minutiae import MIN_COMPARABLE_MINUTIAE, Minutiae, MinutiaKind
from scomm.biometrics.protocols import FailureToEnrol
from scomm.biometrics.resample import to_500_ppi

FloatImage = npt.NDArray[np.float32]
BoolImage = npt.NDArray[np.bool_]
ByteImage = npt.NDArray[np.uint8]

# The eight neighbours in ring order (N, NE, E, SE, S, SW, W, NW), as (dy, dx), y down.
_RING_DY = np.array([-1, -1, 0, 1, 1, 1, 0, -1], dtype=np.int64)
_RING_DX = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
_ENDING = 1
_BIFURCATION = 3


@dataclass(frozen=True)
class SkeletonParams:
    """The extractor's parameters; lengths in pixels at 500 ppi.

    smooth_sigma: Gaussian sigma of the smoothing before binarisation (1.2).
    window: side of the square around each pixel whose mean grey level separates ridge
    from valley and whose standard deviation measures ridge contrast (15, about two ridge
    periods).
    min_contrast, relative_contrast: a pixel is foreground where that standard deviation
    reaches max(min_contrast, relative_contrast * its 95th percentile) (6 grey levels,
    0.25: smoothed sensor noise stays under 3, ridges reach 40-80).
    border: minutiae closer than this to the background (the chessboard distance to a
    pixel outside the foreground or the image) are dropped (12).
    min_ridge: two minutiae joined by a skeleton path of at most this many pixels are both
    dropped; the same length of skeleton, traced from a minutia, gives its direction's
    sign (10).
    min_distance: two minutiae closer than this (not joined) are both dropped (6).
    orientation_sigma: Gaussian sigma of the structure-tensor window for directions (4).
    """

    smooth_sigma: float = 1.2
    window: int = 15
    min_contrast: float = 6.0
    relative_contrast: float = 0.25
    border: int = 12
    min_ridge: int = 10
    min_distance: float = 6.0
    orientation_sigma: float = 4.0


class SkeletonExtractor:
    """Minutiae of a 500 ppi grey image by binarisation, thinning and crossing numbers."""

    def __init__(self, params: SkeletonParams | None = None) -> None:
        self.params = params or SkeletonParams()

    def minutiae(self, image500: np.ndarray) -> Minutiae:
        """The minutiae of `image500` (uint8 HxW, dark ridges on a light background)."""
        p = self.params
        grey = _as_grey(image500)
        height, width = grey.shape
        smooth = smooth_image(grey, p.smooth_sigma)
        mean, std = local_statistics(smooth, p.window)
        finger = foreground(std, p.min_contrast, p.relative_contrast)
        if not finger.any():
            return Minutiae.empty(width, height)
        ridges = binarise(smooth, mean, finger)
        skeleton = thin(ridges)
        ys, xs, kinds = crossing_number_minutiae(skeleton)
        branches = trace_branches(skeleton, ys, xs, p.min_ridge)
        keep = filter_minutiae(ys, xs, branches, p.min_distance)
        keep &= inside(finger, ys, xs, p.border)
        ys, xs, kinds, branches = ys[keep], xs[keep], kinds[keep], branches.take(keep)
        angles = directions(smooth, ys, xs, kinds, branches, p.orientation_sigma)
        iso_kind = np.where(kinds == _ENDING, MinutiaKind.RIDGE_ENDING, MinutiaKind.BIFURCATION)
        return Minutiae(
            xs.astype(np.float32),
            ys.astype(np.float32),
            angles,
            iso_kind.astype(np.uint8),
            np.zeros(len(xs), dtype=np.uint8),  # 0: quality not reported (ISO 19794-2)
            width,
            height,
        )


class SkeletonTemplateExtractor:
    """The services' `Extractor` on skeleton minutiae: a finger image at any resolution to a
    `MinutiaeTemplate` (what `IndexedGallery` searches and `MinutiaeCodec` stores)."""

    def __init__(
        self, params: SkeletonParams | None = None, min_minutiae: int = MIN_COMPARABLE_MINUTIAE
    ) -> None:
        self.extractor = SkeletonExtractor(params)
        self.min_minutiae = min_minutiae

    def extract(self, image: np.ndarray, ppi: int, finger: int = 0) -> MinutiaeTemplate:
        """The template of a grey uint8 image at `ppi`; FailureToEnrol with too few minutiae
        (or an image too small to hold any)."""
        try:
            minutiae = self.extractor.minutiae(to_500_ppi(image, ppi))
        except ValueError as error:
            raise FailureToEnrol(f"minutiae extraction failed: {error}") from error
        if len(minutiae) < self.min_minutiae:
            raise FailureToEnrol(f"only {len(minutiae)} minutiae (need {self.min_minutiae})")
        return MinutiaeTemplate(finger, minutiae)


def _as_grey(image: np.ndarray) -> ByteImage:
    if not isinstance(image, np.ndarray) or image.ndim != 2:
        raise ValueError(f"expected a grey HxW image, got {getattr(image, 'shape', image)!r}")
    if min(image.shape) < 16:
        raise ValueError(f"image of {image.shape[1]}x{image.shape[0]} px is too small")
    return np.ascontiguousarray(image, dtype=np.uint8)


# --- stages 1-4: smoothing, local statistics, foreground, binarisation ---------------------------


def gaussian_taps(sigma: float) -> npt.NDArray[np.float32]:
    """Normalised 1-D Gaussian of `sigma`, 3 sigma each side."""
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2).astype(np.float32)
    out: npt.NDArray[np.float32] = taps / taps.sum()
    return out


@numba.njit(cache=True, nogil=True)
def _blur(padded: Any, taps: Any) -> Any:  # pragma: no cover - compiled
    """Separable convolution with `taps` of an image padded by len(taps) // 2 each side."""
    r = len(taps) // 2
    h, w = padded.shape[0] - 2 * r, padded.shape[1] - 2 * r
    rows = np.zeros((h + 2 * r, w), dtype=np.float32)
    line = np.zeros(w + 2 * r, dtype=np.float32)
    for y in range(h + 2 * r):
        for x in range(w + 2 * r):
            line[x] = padded[y, x]
        for k in range(2 * r + 1):  # tap-major: the inner loop runs along the row
            t = taps[k]
            for x in range(w):
                rows[y, x] += t * line[x + k]
    out = np.zeros((h, w), dtype=np.float32)
    for y in range(h):
        for k in range(2 * r + 1):
            t = taps[k]
            for x in range(w):
                out[y, x] += t * rows[y + k, x]
    return out


@numba.njit(cache=True, nogil=True)
def _local_statistics(smooth: Any, window: int) -> tuple[Any, Any]:  # pragma: no cover
    """Mean and standard deviation of `smooth` over the `window` square around every pixel
    (the part inside the image), from integral images of the values and their squares."""
    h, w = smooth.shape
    s1 = np.zeros((h + 1, w + 1), dtype=np.float64)
    s2 = np.zeros((h + 1, w + 1), dtype=np.float64)
    for y in range(h):
        r1 = 0.0
        r2 = 0.0
        for x in range(w):
            v = float(smooth[y, x])
            r1 += v
            r2 += v * v
            s1[y + 1, x + 1] = s1[y, x + 1] + r1
            s2[y + 1, x + 1] = s2[y, x + 1] + r2
    r = window // 2
    mean = np.zeros((h, w), dtype=np.float32)
    std = np.zeros((h, w), dtype=np.float32)
    for y in range(h):
        y0, y1 = max(0, y - r), min(h, y + r + 1)
        for x in range(w):
            x0, x1 = max(0, x - r), min(w, x + r + 1)
            n = (y1 - y0) * (x1 - x0)
            m = (s1[y1, x1] - s1[y0, x1] - s1[y1, x0] + s1[y0, x0]) / n
            q = (s2[y1, x1] - s2[y0, x1] - s2[y1, x0] + s2[y0, x0]) / n
            mean[y, x] = m
            std[y, x] = math.sqrt(max(q - m * m, 0.0))
    return mean, std


def smooth_image(grey: ByteImage, sigma: float) -> FloatImage:
    """The image smoothed with a Gaussian of `sigma` (float32)."""
    taps = gaussian_taps(sigma)
    out: FloatImage = _blur(np.pad(grey, len(taps) // 2, mode="symmetric"), taps)
    return out


def local_statistics(smooth: FloatImage, window: int) -> tuple[FloatImage, FloatImage]:
    """(mean, standard deviation) over the `window` square around every pixel."""
    mean, std = _local_statistics(smooth, window)
    return mean, std


def foreground(std: FloatImage, min_contrast: float, relative_contrast: float) -> BoolImage:
    """Where the local standard deviation reaches `max(min_contrast, relative_contrast *
    its 95th percentile)`: relative, so that light and dark captures are cut alike; with a
    floor, so that a blank or noise-only image has no foreground."""
    sample = std[::4, ::4]  # the percentile of a regular sample: as good, far cheaper
    threshold = max(min_contrast, relative_contrast * float(np.percentile(sample, 95)))
    mask: BoolImage = std >= threshold
    return mask


def binarise(smooth: FloatImage, mean: FloatImage, mask: np.ndarray) -> ByteImage:
    """1 where the smoothed image is darker than its local mean inside `mask` (0 on the
    outermost pixels)."""
    ridges = (smooth < mean) & mask
    ridges[[0, -1], :] = False
    ridges[:, [0, -1]] = False
    out: ByteImage = ridges.astype(np.uint8)
    return out


def inside(
    mask: np.ndarray, ys: npt.NDArray[np.int64], xs: npt.NDArray[np.int64], margin: int
) -> npt.NDArray[np.bool_]:
    """Whether the square of `margin` pixels around each point (y, x) lies wholly in `mask`
    and in the image (chessboard distance to the outside over `margin`)."""
    out: npt.NDArray[np.bool_] = _inside(np.ascontiguousarray(mask), ys, xs, margin)
    return out


@numba.njit(cache=True, nogil=True)
def _inside(mask: Any, ys: Any, xs: Any, margin: int) -> Any:  # pragma: no cover - compiled
    h, w = mask.shape
    out = np.zeros(len(ys), dtype=np.bool_)
    for i in range(len(ys)):
        y0, y1, x0, x1 = ys[i] - margin, ys[i] + margin + 1, xs[i] - margin, xs[i] + margin + 1
        if y0 < 0 or x0 < 0 or y1 > h or x1 > w:
            continue
        ok = True
        for y in range(y0, y1):
            for x in range(x0, x1):
                if not mask[y, x]:
                    ok = False
                    break
            if not ok:
                break
        out[i] = ok
    return out


# --- stage 5: thinning ---------------------------------------------------------------------------


def thin(ridges: ByteImage) -> ByteImage:
    """One-pixel-wide, 8-connected skeleton of the ridge pixels (uint8 0/1, same shape).

    The outermost pixels count as background, so that the later stages can look at any
    skeleton pixel's eight neighbours without bounds checks."""
    skeleton: ByteImage = (np.asarray(ridges) != 0).astype(np.uint8)
    skeleton[[0, -1], :] = 0
    skeleton[:, [0, -1]] = 0
    _zhang_suen(skeleton, _ZHANG_SUEN)
    ys, xs = _set_pixels(skeleton)
    _remove_staircases(skeleton, ys, xs, _STAIRCASE)
    return skeleton


def _zhang_suen_table() -> npt.NDArray[np.uint8]:
    """Bit s of entry c: Zhang-Suen deletes a pixel in sub-iteration s when its neighbours,
    bit k set for ring neighbour k (N, NE, E, SE, S, SW, W, NW), are c."""
    table = np.zeros(256, dtype=np.uint8)
    for code in range(256):
        p = [(code >> k) & 1 for k in range(8)]  # p[0] = P2 (N) ... p[7] = P9 (NW)
        b = sum(p)
        a = sum(1 for k in range(8) if p[k] == 0 and p[(k + 1) % 8] == 1)
        if not 2 <= b <= 6 or a != 1:
            continue
        n, e, s, w = p[0], p[2], p[4], p[6]
        if n * e * s == 0 and e * s * w == 0:
            table[code] |= 1
        if n * e * w == 0 and n * s * w == 0:
            table[code] |= 2
    return table


_ZHANG_SUEN = _zhang_suen_table()


@numba.njit(cache=True, nogil=True)
def _ring_code(img: Any, y: int, x: int) -> Any:  # pragma: no cover - compiled
    """The eight neighbours of (y, x) as bits, ring order (bit 0 N ... bit 7 NW)."""
    return (
        (img[y - 1, x] != 0)
        | ((img[y - 1, x + 1] != 0) << 1)
        | ((img[y, x + 1] != 0) << 2)
        | ((img[y + 1, x + 1] != 0) << 3)
        | ((img[y + 1, x] != 0) << 4)
        | ((img[y + 1, x - 1] != 0) << 5)
        | ((img[y, x - 1] != 0) << 6)
        | ((img[y - 1, x - 1] != 0) << 7)
    )


@numba.njit(cache=True, nogil=True)
def _zhang_suen(img: Any, table: Any) -> None:  # pragma: no cover - compiled
    """Zhang-Suen thinning in place; the outermost pixels must be background.  Only the
    pixels still set are visited (a list compacted after every sub-iteration that deletes),
    and the deletion rule is looked up by neighbour pattern (`_zhang_suen_table`)."""
    h, w = img.shape
    count = 0
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            count += img[y, x] != 0
    live = np.zeros((count, 2), dtype=np.int64)
    count = 0
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            if img[y, x] != 0:
                live[count, 0] = y
                live[count, 1] = x
                count += 1
    marks = np.zeros(count, dtype=np.int64)
    idle = 0  # consecutive sub-iterations that deleted nothing
    step = 0
    while idle < 2:
        bit = 1 << step
        marked = 0
        for i in range(count):
            if table[_ring_code(img, live[i, 0], live[i, 1])] & bit:
                marks[marked] = i
                marked += 1
        for j in range(marked):
            img[live[marks[j], 0], live[marks[j], 1]] = 0
        if marked:
            idle = 0
            kept = 0
            for i in range(count):
                if img[live[i, 0], live[i, 1]] != 0:
                    live[kept] = live[i]
                    kept += 1
            count = kept
        else:
            idle += 1
        step = 1 - step


def _neighbour_tables() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int8]]:
    """By neighbour pattern (bit k: ring neighbour k set, N first, clockwise): whether a
    skeleton pixel is a removable staircase corner, and its crossing number."""
    staircase = np.zeros(256, dtype=np.uint8)
    crossing = np.zeros(256, dtype=np.int8)
    for code in range(256):
        p = [(code >> k) & 1 for k in range(8)]
        crossing[code] = sum(p[k] != p[(k + 1) % 8] for k in range(8)) // 2
        runs = sum(1 for k in range(8) if p[k] and not p[(k + 7) % 8])
        # two orthogonal neighbours touch (at a corner) even with the diagonal between unset
        corners = sum(1 for k in (0, 2, 4, 6) if p[k] and p[(k + 2) % 8])
        joined = sum(1 for k in (0, 2, 4, 6) if p[k] and not p[(k + 1) % 8] and p[(k + 2) % 8])
        components = max(1, runs - joined) if runs else (1 if sum(p) else 0)
        # a pixel whose neighbours stay connected without it, at a corner: not a line end
        staircase[code] = sum(p) >= 2 and components == 1 and corners > 0
    return staircase, crossing


_STAIRCASE, _CROSSING = _neighbour_tables()


@numba.njit(cache=True, nogil=True)
def _set_pixels(img: Any) -> tuple[Any, Any]:  # pragma: no cover - compiled
    """(ys, xs) of the non-zero pixels in raster order (numpy's nonzero, without its cost
    on small images)."""
    h, w = img.shape
    n = 0
    for y in range(h):
        for x in range(w):
            n += img[y, x] != 0
    ys = np.zeros(n, dtype=np.int64)
    xs = np.zeros(n, dtype=np.int64)
    n = 0
    for y in range(h):
        for x in range(w):
            if img[y, x] != 0:
                ys[n] = y
                xs[n] = x
                n += 1
    return ys, xs


@numba.njit(cache=True, nogil=True)
def _remove_staircases(img: Any, ys: Any, xs: Any, table: Any) -> None:  # pragma: no cover
    """Remove, in raster order, the skeleton pixels (ys, xs) that `table` calls corners."""
    for i in range(len(ys)):
        if table[_ring_code(img, ys[i], xs[i])]:
            img[ys[i], xs[i]] = 0


# --- stage 6: crossing numbers -------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _crossing_numbers(img: Any, ys: Any, xs: Any, table: Any) -> Any:  # pragma: no cover
    """Crossing number of each skeleton pixel (ys, xs)."""
    out = np.zeros(len(ys), dtype=np.int64)
    for i in range(len(ys)):
        out[i] = table[_ring_code(img, ys[i], xs[i])]
    return out


def crossing_number_minutiae(
    skeleton: ByteImage,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(y, x, crossing number) of every skeleton pixel whose crossing number is 1 or 3."""
    ys, xs = _set_pixels(skeleton)
    cn = _crossing_numbers(skeleton, ys, xs, _CROSSING)
    at = (cn == _ENDING) | (cn == _BIFURCATION)
    return ys[at].astype(np.int64), xs[at].astype(np.int64), cn[at]


# --- stage 7: filters ----------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _trace(
    img: Any, index: Any, y0: int, x0: int, y1: int, x1: int, steps: int
) -> tuple[int, int, int, int]:  # pragma: no cover - compiled
    """Follow the skeleton from (y0, x0) through its neighbour (y1, x1) for up to `steps`
    pixels; returns (y, x) reached, pixels walked, and the index of the minutia it stopped
    at (-1 if none).  `index` holds each minutia's number at its pixel, -1 elsewhere."""
    py, px, cy, cx = y0, x0, y1, x1
    walked = 1
    while True:
        if index[cy, cx] >= 0:
            return cy, cx, walked, index[cy, cx]
        if walked >= steps:
            return cy, cx, walked, -1
        best = -1
        for k in range(8):
            ny, nx = cy + _RING_DY[k], cx + _RING_DX[k]
            if img[ny, nx] == 0 or (ny == py and nx == px) or (ny == y0 and nx == x0):
                continue
            if abs(ny - py) <= 1 and abs(nx - px) <= 1:  # cuts the corner back to where we were
                if best < 0:
                    best = k + 8
                continue
            best = k
            break
        if best < 0:
            return cy, cx, walked, -1
        k = best % 8
        py, px = cy, cx
        cy, cx = cy + _RING_DY[k], cx + _RING_DX[k]
        walked += 1


@numba.njit(cache=True, nogil=True)
def _branches(img: Any, y: int, x: int) -> Any:  # pragma: no cover - compiled
    """The first pixel of each skeleton branch leaving (y, x): one per run of set ring pixels,
    an orthogonal one where the run has one."""
    starts = np.full((8, 2), -1, dtype=np.int64)
    n = 0
    for k in range(8):
        if img[y + _RING_DY[k], x + _RING_DX[k]] == 1 and (
            img[y + _RING_DY[(k + 7) % 8], x + _RING_DX[(k + 7) % 8]] == 0
        ):
            pick = k
            j = k
            while img[y + _RING_DY[j % 8], x + _RING_DX[j % 8]] == 1 and j < k + 8:
                if j % 2 == 0:
                    pick = j % 8
                    break
                j += 1
            starts[n, 0] = y + _RING_DY[pick]
            starts[n, 1] = x + _RING_DX[pick]
            n += 1
    return starts[:n]


@numba.njit(cache=True, nogil=True)
def _trace_all(
    img: Any, ys: Any, xs: Any, steps: int
) -> tuple[Any, Any, Any]:  # pragma: no cover - compiled
    """For every minutia and each of its (up to 3) branches: the pixel reached after
    `steps` (or where it stopped), pixels walked, and the minutia hit (-1 none, -2 no
    such branch)."""
    n = len(ys)
    h, w = img.shape
    index = np.full((h, w), -1, dtype=np.int64)
    for i in range(n):
        index[ys[i], xs[i]] = i
    reached = np.full((n, 3, 2), -1, dtype=np.int64)
    walked = np.zeros((n, 3), dtype=np.int64)
    hit = np.full((n, 3), -2, dtype=np.int64)
    for i in range(n):
        y, x = ys[i], xs[i]
        starts = _branches(img, y, x)
        for b in range(min(3, len(starts))):
            ry, rx, k, m = _trace(img, index, y, x, starts[b, 0], starts[b, 1], steps)
            reached[i, b, 0] = ry
            reached[i, b, 1] = rx
            walked[i, b] = k
            hit[i, b] = m
    return reached, walked, hit


@dataclass(frozen=True)
class Branches:
    """Each minutia's (up to three) skeleton branches, traced for a fixed number of pixels:
    `reached` (n x 3 x (y, x)) where each trace stopped, `walked` (n x 3) its pixels (0: no
    such branch), `hit` (n x 3) the minutia it ran into (-1 none, -2 no such branch)."""

    reached: npt.NDArray[np.int64]
    walked: npt.NDArray[np.int64]
    hit: npt.NDArray[np.int64]

    def take(self, keep: npt.NDArray[np.bool_]) -> Branches:
        """The branches of the kept minutiae (`hit` then refers to the old numbering)."""
        return Branches(self.reached[keep], self.walked[keep], self.hit[keep])


def trace_branches(
    skeleton: ByteImage, ys: npt.NDArray[np.int64], xs: npt.NDArray[np.int64], steps: int
) -> Branches:
    """Every minutia's branches followed along the skeleton for up to `steps` pixels."""
    reached, walked, hit = _trace_all(skeleton, ys, xs, steps)
    return Branches(reached, walked, hit)


def filter_minutiae(
    ys: npt.NDArray[np.int64],
    xs: npt.NDArray[np.int64],
    branches: Branches,
    min_distance: float,
) -> npt.NDArray[np.bool_]:
    """Which minutiae to keep: not joined to another along a traced branch (spurs, short
    pieces, bridges, small lakes), and not within `min_distance` of another."""
    keep = np.ones(len(ys), dtype=np.bool_)
    if not len(ys):
        return keep
    hit = branches.hit
    for i, j in zip(*np.nonzero(hit >= 0), strict=True):
        keep[i] = False
        keep[hit[i, j]] = False
    d2 = (ys[:, None] - ys[None, :]) ** 2 + (xs[:, None] - xs[None, :]) ** 2
    np.fill_diagonal(d2, np.iinfo(np.int64).max)
    keep &= ~(d2 < min_distance**2).any(axis=1)
    return keep


# --- stage 8: directions -------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _orientations(smooth: Any, ys: Any, xs: Any, sigma: float) -> Any:  # pragma: no cover
    """Ridge orientation (radians mod pi, image axes: x right, y down) at each point, from
    the structure tensor of central-difference gradients in a Gaussian window of `sigma`."""
    h, w = smooth.shape
    r = max(1, int(math.ceil(2.5 * sigma)))
    weights = np.zeros((2 * r + 1, 2 * r + 1))
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            weights[dy + r, dx + r] = math.exp(-0.5 * (dy * dy + dx * dx) / (sigma * sigma))
    out = np.zeros(len(ys))
    for i in range(len(ys)):
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for y in range(max(1, ys[i] - r), min(h - 1, ys[i] + r + 1)):
            for x in range(max(1, xs[i] - r), min(w - 1, xs[i] + r + 1)):
                weight = weights[y - ys[i] + r, x - xs[i] + r]
                gx = 0.5 * (float(smooth[y, x + 1]) - float(smooth[y, x - 1]))
                gy = 0.5 * (float(smooth[y + 1, x]) - float(smooth[y - 1, x]))
                sxx += weight * gx * gx
                syy += weight * gy * gy
                sxy += weight * gx * gy
        # the gradients run across the ridges; the ridges at right angles to them
        out[i] = 0.5 * math.atan2(2.0 * sxy, sxx - syy) + 0.5 * math.pi
    return out


@numba.njit(cache=True, nogil=True)
def _signed_angles(
    axis: Any, reached: Any, walked: Any, ys: Any, xs: Any, kinds: Any
) -> Any:  # pragma: no cover - compiled
    """ISO angles from each minutia's ridge axis and the sign its traced branches give."""
    n = len(ys)
    out = np.zeros(n, dtype=np.float32)
    uy = np.zeros(3)
    ux = np.zeros(3)
    for i in range(n):
        for b in range(3):
            vy = float(reached[i, b, 0] - ys[i])
            vx = float(reached[i, b, 1] - xs[i])
            norm = math.hypot(vx, vy)
            if walked[i, b] == 0 or norm == 0.0:
                uy[b], ux[b] = 0.0, 0.0
            else:
                uy[b], ux[b] = vy / norm, vx / norm
        if kinds[i] == _ENDING or walked[i, 2] == 0:
            sy, sx = uy[0], ux[0]  # along the ridge, into it
        else:
            # the lone branch (the other two run side by side) is the one to point away from
            lone = 0
            best = -2.0
            for b in range(3):
                a, c = (b + 1) % 3, (b + 2) % 3
                agreement = uy[a] * uy[c] + ux[a] * ux[c]
                if agreement > best:
                    best, lone = agreement, b
            sy, sx = -uy[lone], -ux[lone]
        dy, dx = math.sin(axis[i]), math.cos(axis[i])
        if dy * sy + dx * sx < 0.0:
            dy, dx = -dy, -dx
        angle = math.atan2(-dy, dx)  # y up for the ISO angle
        if angle < 0.0:
            angle += 2.0 * math.pi
        if angle >= 2.0 * math.pi:
            angle = 0.0
        out[i] = angle
    return out


def directions(
    smooth: FloatImage,
    ys: npt.NDArray[np.int64],
    xs: npt.NDArray[np.int64],
    kinds: npt.NDArray[np.int64],
    branches: Branches,
    sigma: float,
) -> npt.NDArray[np.float32]:
    """ISO angles (counter-clockwise from +x as seen, y down, [0, 2 pi)) of the minutiae.

    The axis is the ridge orientation there; the sign comes from the traced skeleton
    `branches`: a ridge ending points along its ridge, into it; a bifurcation points
    between its two branches, away from the single ridge that forks.  Both point into the
    body of what ends there: the ridge at an ending, the valley at a bifurcation (a valley
    ending), which is the direction MINDTCT reports."""
    if not len(ys):
        return np.zeros(0, dtype=np.float32)
    axis = _orientations(smooth, ys, xs, sigma)
    angles: npt.NDArray[np.float32] = _signed_angles(
        axis, branches.reached, branches.walked, ys, xs, kinds
    )
    return angles
