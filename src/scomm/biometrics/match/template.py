"""MatcherTemplate: a minutiae set prepared for MCC matching (cylinders, hull, geometry)."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import InitVar, dataclass, field
from functools import cached_property

import numpy as np

from scomm.biometrics.errors import BiometricsError
from scomm.biometrics.match.comparison.inputs import TemplateArrays
from scomm.biometrics.match.comparison.local_similarity import MAX_MINUTIAE
from scomm.biometrics.match.cylinders.prepare import bit_cylinders_of, summaries_of
from scomm.biometrics.match.cylinders.strongest import keep_strongest
from scomm.biometrics.match.cylinders.tables import CylinderTables, disk_words, words_per_plane
from scomm.biometrics.match.mcc_params import CylinderParams
from scomm.biometrics.match.primitives.hull import hull_halfplanes_of

_MAGIC = b"SMC1"  # scomm minutia cylinder-code, format 1
# magic, ns, nd, reserved, minutiae count, width, height, ppi, radius
_HEADER = struct.Struct("<4sBBHHHHHf")
HEADER_COUNT_AT = struct.calcsize("<4sBBH")  # where the minutiae count (u16) is
# one minutia in the bytes: x, y, theta, kind, quality
MINUTIA_RECORD = np.dtype([("x", "<f4"), ("y", "<f4"), ("t", "<f4"), ("k", "u1"), ("q", "u1")])


def template_header(
    ns: int, nd: int, count: int, width: int, height: int, ppi: int, radius: float
) -> bytes:
    """The header `MatcherTemplate.to_bytes` starts with."""
    return _HEADER.pack(_MAGIC, ns, nd, 0, count, width, height, ppi, radius)


class MatcherTemplateError(BiometricsError, ValueError):
    """The bytes are not an MCC matcher template."""


def _check_size(n: int) -> None:
    """The comparison codes a minutia pair in 32 bits: at most 65,535 minutiae a template."""
    if n >= MAX_MINUTIAE:
        raise ValueError(f"{n:,} minutiae: a matcher template holds at most {MAX_MINUTIAE - 1:,}")


@dataclass(frozen=True, eq=False)
class MatcherTemplate:
    """The prepared form of one `Minutiae`, at the matcher's resolution.

    x, y: pixels, image frame (y down); theta: ISO angle, radians, counter-clockwise.
    bits / mask / valid: the MCC-B cylinders, the valid cells of each, and which cylinders
    may be matched (see `cylinders.bit_cylinders`).  The rest is derived on construction:
    the y-up coordinates the kernels use, the hull's half-planes, and the minutiae's order
    by direction (tord, tsort: indices, sorted values; the valid cylinders first, see
    `cylinders.summaries`) and by x (xord, xsort).  `disk` (the full mask, `CylinderTables.
    disk_words`) saves recomputing it when the caller has the tables.  A template holds at
    most 65,535 minutiae (`comparison.local_similarity.MAX_MINUTIAE` - 1).
    """

    x: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    kind: np.ndarray
    quality: np.ndarray
    bits: np.ndarray
    mask: np.ndarray
    valid: np.ndarray
    width: int
    height: int
    ppi: int
    ns: int
    nd: int
    radius: float
    disk: InitVar[np.ndarray | None] = None
    # derived
    yup: np.ndarray = field(init=False, repr=False)
    planes: np.ndarray = field(init=False, repr=False)
    count: np.ndarray = field(init=False, repr=False)
    full: np.ndarray = field(init=False, repr=False)
    tord: np.ndarray = field(init=False, repr=False)
    tsort: np.ndarray = field(init=False, repr=False)
    xord: np.ndarray = field(init=False, repr=False)
    xsort: np.ndarray = field(init=False, repr=False)
    key: int = field(init=False, repr=False)

    def __post_init__(self, disk: np.ndarray | None) -> None:
        n = len(self.x)
        _check_size(n)
        wp = words_per_plane(self.ns)
        fixed = {
            "x": (np.float64, (n,)),
            "y": (np.float64, (n,)),
            "theta": (np.float64, (n,)),
            "kind": (np.uint8, (n,)),
            "quality": (np.uint8, (n,)),
            "bits": (np.uint64, (n, self.nd * wp)),
            "mask": (np.uint64, (n, wp)),
            "valid": (np.bool_, (n,)),
        }
        for name, (dtype, shape) in fixed.items():
            value: np.ndarray = np.ascontiguousarray(getattr(self, name), dtype=dtype).reshape(
                shape
            )
            value.flags.writeable = False
            object.__setattr__(self, name, value)
        ys = -self.y
        object.__setattr__(self, "yup", ys)
        object.__setattr__(self, "planes", hull_halfplanes_of(self.x, ys))
        if disk is None:
            disk = disk_words(self.ns, self.radius)
        summaries = summaries_of(self.x, self.theta, self.bits, self.mask, self.valid, disk)
        for name, value in summaries.items():
            object.__setattr__(self, name, value)
        digest = hashlib.blake2b(self.to_bytes(), digest_size=8).digest()
        object.__setattr__(self, "key", int.from_bytes(digest, "little", signed=True))

    def __len__(self) -> int:
        return len(self.x)

    @classmethod
    def build(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        theta: np.ndarray,
        kind: np.ndarray,
        quality: np.ndarray,
        width: int,
        height: int,
        ppi: int,
        p: CylinderParams,
        tables: CylinderTables,
    ) -> MatcherTemplate:
        """Prepare minutiae (image frame, already at `ppi`) with the cylinder parameters and
        their tables (`cylinder_tables(p)`): the cylinder stages in order."""
        _check_size(len(x))
        x = np.asarray(x, np.float32).astype(np.float64)
        y = np.asarray(y, np.float32).astype(np.float64)
        theta = np.asarray(theta, np.float32).astype(np.float64)
        planes = hull_halfplanes_of(x, -y)  # the kernels' frame is y-up
        bits, mask, valid = bit_cylinders_of(x, -y, theta, planes, tables)
        quality = np.asarray(quality)
        valid = keep_strongest(valid, quality, np.array([0, len(x)]), p.max_cylinders)
        # the summaries (orders, counts) are derived on construction, see __post_init__
        return cls(
            x,
            y,
            theta,
            kind,
            quality,
            bits,
            mask,
            valid,
            width,
            height,
            ppi,
            p.ns,
            p.nd,
            float(p.radius),
            tables.disk_words,
        )

    @cached_property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """What the comparison kernels read, as the plain tuple of a `TemplateArrays` (made
        once: a 1:1 comparison costs about 15 us, making it 1.5)."""
        return tuple(
            TemplateArrays(
                x=self.x,
                y=self.yup,
                theta=self.theta,
                bits=self.bits,
                mask=self.mask,
                bit_count=self.count,
                full=self.full,
                valid=self.valid,
                planes=self.planes,
                tord=self.tord,
                tsort=self.tsort,
                xord=self.xord,
                xsort=self.xsort,
            )
        )

    def to_bytes(self) -> bytes:
        """Header, then per minutia x, y, theta (float32) kind, quality (uint8), then the
        cylinder bits and masks (uint64, little-endian) and the packed validity flags."""
        n = len(self)
        head = template_header(self.ns, self.nd, n, self.width, self.height, self.ppi, self.radius)
        rec = np.zeros(n, dtype=MINUTIA_RECORD)
        rec["x"], rec["y"], rec["t"] = self.x, self.y, self.theta
        rec["k"], rec["q"] = self.kind, self.quality
        return b"".join(
            [
                head,
                rec.tobytes(),
                self.bits.astype("<u8").tobytes(),
                self.mask.astype("<u8").tobytes(),
                np.packbits(self.valid).tobytes(),
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> MatcherTemplate:
        """Read back `to_bytes()`; raises MatcherTemplateError on anything else."""
        if len(data) < _HEADER.size:
            raise MatcherTemplateError("too short for an MCC template header")
        magic, ns, nd, _, n, width, height, ppi, radius = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise MatcherTemplateError(f"bad magic {magic!r}")
        wp = words_per_plane(ns)
        sizes = [n * MINUTIA_RECORD.itemsize, n * nd * wp * 8, n * wp * 8, (n + 7) // 8]
        if len(data) != _HEADER.size + sum(sizes):
            raise MatcherTemplateError(
                f"expected {_HEADER.size + sum(sizes)} bytes for {n} minutiae, got {len(data)}"
            )
        off = _HEADER.size
        rec = np.frombuffer(data, MINUTIA_RECORD, n, off)
        off += sizes[0]
        bits = np.frombuffer(data, "<u8", n * nd * wp, off).reshape(n, nd * wp)
        off += sizes[1]
        mask = np.frombuffer(data, "<u8", n * wp, off).reshape(n, wp)
        off += sizes[2]
        valid = np.unpackbits(np.frombuffer(data, np.uint8, sizes[3], off))[:n].astype(bool)
        return cls(
            rec["x"].astype(np.float64),
            rec["y"].astype(np.float64),
            rec["t"].astype(np.float64),
            rec["k"],
            rec["q"],
            bits,
            mask,
            valid,
            width,
            height,
            ppi,
            ns,
            nd,
            float(radius),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MatcherTemplate):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return self.key
