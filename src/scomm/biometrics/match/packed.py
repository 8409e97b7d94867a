"""prepare_packed: many minutiae sets prepared straight into the packed 1:N search layout.

A search keeps only compact minutiae per gallery finger and prepares the shortlist for every
probe.  `prepare_packed(matcher, batch)` equals, array by array and key by key,
``matcher.pack([matcher.prepare(batch[i]) for i in range(len(batch))])``: it rescales the
flat arrays of a `MinutiaeBatch` as `Minutiae.at_ppi` does, then one numba pass runs the
kernels `MatcherTemplate` itself uses (`cylinders.batch`) on every set, writing into the
packed arrays, and the keys are blake2b digests of the same bytes `MatcherTemplate.to_bytes`
writes.
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

import numpy as np
from numba import njit

from scomm.biometrics.match.cylinders.batch import cylinders_all, summaries_all
from scomm.biometrics.match.cylinders.strongest import keep_strongest
from scomm.biometrics.match.matcher import MccMatcher, PackedTemplates
from scomm.biometrics.match.template import HEADER_COUNT_AT, MINUTIA_RECORD, template_header
from scomm.biometrics.minutiae_batch import MinutiaeBatch


def prepare_packed(matcher: MccMatcher, batch: MinutiaeBatch) -> PackedTemplates:
    """The sets of `batch` prepared for `matcher` and packed for `MccMatcher.compare_many`;
    equal to ``matcher.pack([matcher.prepare(batch[i]) for i in range(len(batch))])``."""
    params = matcher.params
    tables = matcher.cylinder_tables
    x32, y32, angle32, width, height = _at_ppi(batch, params.ppi)
    off = batch.offsets.copy()
    sizes = np.diff(off)
    if sizes.size and sizes.max() > 0xFFFF:
        raise ValueError(f"a set of {sizes.max()} minutiae: templates hold at most 65,535")
    total = int(off[-1])
    x = x32.astype(np.float64)
    y = -y32.astype(np.float64)  # the kernels' y-up frame
    theta = angle32.astype(np.float64)
    per_minutia = {
        "bits": np.zeros((total, tables.nd * tables.wp), dtype=np.uint64),
        "mask": np.zeros((total, tables.wp), dtype=np.uint64),
        "valid": np.zeros(total, dtype=np.bool_),
        "count": np.zeros(total, dtype=np.int64),
        "full": np.zeros(total, dtype=np.bool_),
        "tord": np.zeros(total, dtype=np.int64),
        "tsort": np.zeros(total),
        "xord": np.zeros(total, dtype=np.int64),
        "xsort": np.zeros(total),
    }
    hull_rows = np.zeros((total, 3))  # a set's hull has at most as many edges as minutiae
    hull_count = np.zeros(len(sizes), dtype=np.int64)
    _cylinders_all_kernel(
        off,
        x,
        y,
        theta,
        tuple(tables),  # a plain tuple: see `CylinderTables`
        per_minutia["bits"],
        per_minutia["mask"],
        per_minutia["valid"],
        hull_rows,
        hull_count,
    )
    per_minutia["valid"] = keep_strongest(
        per_minutia["valid"], batch.quality, off, params.cylinder.max_cylinders
    )
    _summaries_all_kernel(
        off,
        x,
        theta,
        tables.disk_words,
        *per_minutia.values(),
    )
    in_hull = np.arange(total) - np.repeat(off[:-1], sizes) < np.repeat(hull_count, sizes)
    header = template_header(
        tables.ns, tables.nd, 0, width, height, params.ppi, float(params.cylinder.radius)
    )
    records = np.zeros(total, dtype=MINUTIA_RECORD)
    records["x"], records["y"], records["t"] = x32, y32, angle32
    records["k"], records["q"] = batch.kind, batch.quality
    return PackedTemplates(
        size=len(sizes),
        off=off,
        pl_off=_offsets(hull_count),
        keys=_keys(off, header, records, per_minutia),
        x=x,
        y=y,
        t=theta,
        planes=np.ascontiguousarray(hull_rows[in_hull]),
        **per_minutia,
    )


def _offsets(sizes: np.ndarray) -> np.ndarray:
    """0, then the running sums of `sizes` (int64)."""
    off = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=off[1:])
    return off


def _at_ppi(batch: MinutiaeBatch, ppi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """x, y, angle (float32), width, height as ``batch[i].at_ppi(ppi)`` has them: the same
    float32 operations, element by element (`Minutiae` reduces angles modulo 2 pi each time
    one is made: once for ``batch[i]``, once more when rescaled)."""
    two_pi = np.float32(2 * np.pi)
    angle = np.mod(batch.angle, two_pi).astype(np.float32)
    if ppi == batch.ppi:
        return batch.x, batch.y, angle, batch.width, batch.height
    scale = ppi / batch.ppi
    return (
        batch.x * scale,
        batch.y * scale,
        np.mod(angle, two_pi).astype(np.float32),
        round(batch.width * scale),
        round(batch.height * scale),
    )


def _keys(
    off: np.ndarray, header: bytes, records: np.ndarray, per_minutia: dict[str, np.ndarray]
) -> np.ndarray:
    """Each set's `MatcherTemplate.key`: blake2b (8 bytes, little-endian signed) of the bytes
    `to_bytes` writes, assembled for all sets in one buffer."""
    bits, mask, valid = per_minutia["bits"], per_minutia["mask"], per_minutia["valid"]
    if sys.byteorder != "little":  # the buffer copies the arrays' native bytes
        bits, mask = bits.astype("<u8"), mask.astype("<u8")
    sizes = np.diff(off)
    per_set = (
        len(header)
        + sizes * records.dtype.itemsize
        + sizes * (bits.shape[1] + mask.shape[1]) * 8
        + (sizes + 7) // 8
    )
    starts = _offsets(per_set)
    image = np.zeros(int(starts[-1]), dtype=np.uint8)
    _byte_images_kernel(
        off,
        starts,
        np.frombuffer(header, dtype=np.uint8),
        records.view(np.uint8).reshape(len(records), records.dtype.itemsize),
        bits.view(np.uint8),
        mask.view(np.uint8),
        valid,
        image,
    )
    view = memoryview(image)  # type: ignore[arg-type]
    bounds = starts.tolist()
    digests = b"".join(
        hashlib.blake2b(view[a:b], digest_size=8).digest()
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    )
    return np.frombuffer(digests, dtype="<i8").astype(np.int64)


@njit(cache=True)
def _byte_images(
    off: np.ndarray,
    starts: np.ndarray,
    header: np.ndarray,
    records: np.ndarray,
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
    image: np.ndarray,
) -> None:
    """Each set's `MatcherTemplate.to_bytes()` at image[starts[i]:starts[i + 1]]: header
    (minutiae count patched in), records, cylinder bits, masks (all three: bytes per
    minutia), validity flags packed most-significant bit first (as np.packbits does)."""
    rec_size = records.shape[1]
    bits_size = bits.shape[1]
    mask_size = mask.shape[1]
    for i in range(off.shape[0] - 1):
        s = off[i]
        n = off[i + 1] - s
        p = starts[i]
        for b in range(header.shape[0]):
            image[p + b] = header[b]
        image[p + HEADER_COUNT_AT] = n & 0xFF
        image[p + HEADER_COUNT_AT + 1] = n >> 8
        p += header.shape[0]
        for rows, size in ((records, rec_size), (bits, bits_size), (mask, mask_size)):
            image[p : p + n * size] = rows[s : s + n].reshape(-1)
            p += n * size
        for j in range(n):
            if valid[s + j]:
                image[p + j // 8] |= np.uint8(0x80 >> (j % 8))


_cylinders_all_kernel: Any = cylinders_all  # numba dispatchers: untyped for mypy
_summaries_all_kernel: Any = summaries_all
_byte_images_kernel: Any = _byte_images
