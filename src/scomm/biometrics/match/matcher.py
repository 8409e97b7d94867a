"""MccMatcher: 1:1 and 1:N minutiae comparison with Minutia Cylinder-Code.

Method: Cappelli, Ferrara, Maltoni, "Minutia Cylinder-Code: a new representation and
matching technique for fingerprint recognition", IEEE TPAMI 32(12):2128-2141, 2010 -- bit
cylinders (MCC-B) and Local Similarity Sort with Relaxation (LSS-R) -- followed by a
geometric consolidation step (one rigid transform fitted to the relaxed pairs; the fraction
of minutiae in the common area that agree under it), and the weighted geometric mean of the
two scores.  `prepare` runs the stages of `cylinders/`, `compare` those of `comparison/`;
the matcher owns the tables both need, built once from its parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from scomm.biometrics.match.comparison.inputs import (
    PackedArrays,
    comparison_params,
    comparison_tables,
)
from scomm.biometrics.match.comparison.pipeline import ScoreParts, compare_batch, compare_pair
from scomm.biometrics.match.cylinders.tables import cylinder_tables
from scomm.biometrics.match.mcc_params import MccParams
from scomm.biometrics.match.template import MatcherTemplate
from scomm.biometrics.minutiae import Minutiae


@dataclass(frozen=True)
class MatchExplanation:
    """Why two templates scored what they did (indices refer to the templates' minutiae).

    pairs: k x 2 (index in a, index in b) minutia pairs the relaxation kept, most efficient
    first; local_similarity / relaxed: their MCC-B similarity and relaxed value.
    matched: m x 2 pairs that agree under the transform (the consolidation count is m).
    rotation (radians, counter-clockwise as seen, like ISO angles), tx, ty (pixels): the rigid
    transform mapping a's minutiae onto b's in image coordinates (y down):
    x_b = cos(r) x_a + sin(r) y_a + tx,  y_b = -sin(r) x_a + cos(r) y_a + ty.
    score = lssr_score ** (1 - weight) * consolidation_score ** weight.
    """

    score: float
    lssr_score: float
    consolidation_score: float
    matched_count: int
    overlap_a: int
    overlap_b: int
    rotation: float
    tx: float
    ty: float
    pairs: np.ndarray
    local_similarity: np.ndarray
    relaxed: np.ndarray
    matched: np.ndarray


@dataclass(frozen=True, eq=False)
class PackedTemplates:
    """Candidates concatenated for `MccMatcher.compare_many` (pack once, search many)."""

    size: int
    off: np.ndarray
    pl_off: np.ndarray
    keys: np.ndarray
    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    bits: np.ndarray
    mask: np.ndarray
    count: np.ndarray
    full: np.ndarray
    valid: np.ndarray
    planes: np.ndarray
    tord: np.ndarray
    tsort: np.ndarray
    xord: np.ndarray
    xsort: np.ndarray

    def __len__(self) -> int:
        return self.size

    @cached_property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """What the comparison kernels read, as the plain tuple of a `PackedArrays` (made
        once: a 1:1 comparison costs about 15 us, making it 1.5)."""
        return tuple(
            PackedArrays(
                off=self.off,
                pl_off=self.pl_off,
                keys=self.keys,
                x=self.x,
                y=self.y,
                theta=self.t,
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


_compare_pair: Any = compare_pair  # numba dispatchers: untyped for mypy
_compare_batch: Any = compare_batch


class MccMatcher:
    """Prepares `Minutiae` into `MatcherTemplate`s and compares them (scores in [0, 1]).

    It builds the tables its stages need once, from its parameters (`cylinder_tables`,
    about 20 ms; `comparison_tables`), and holds them: build one matcher per parameter
    set and share it.
    """

    def __init__(self, params: MccParams | None = None) -> None:
        self.params = params or MccParams()
        self.cylinder_tables = cylinder_tables(self.params.cylinder)
        self.comparison_params = comparison_params(self.params)
        self.comparison_tables = comparison_tables(self.params)
        # the kernels' entry points take plain tuples (see `comparison.inputs`)
        self._params = tuple(self.comparison_params)
        self._tables = tuple(self.comparison_tables)

    def prepare(self, minutiae: Minutiae) -> MatcherTemplate:
        """Rescale to the matcher's ppi and build the cylinders."""
        m = minutiae.at_ppi(self.params.ppi)
        return MatcherTemplate.build(
            m.x,
            m.y,
            m.angle,
            m.kind,
            m.quality,
            m.width,
            m.height,
            m.ppi,
            self.params.cylinder,
            self.cylinder_tables,
        )

    def _check(self, t: MatcherTemplate) -> None:
        c = self.params.cylinder
        if (t.ns, t.nd, t.ppi) != (c.ns, c.nd, self.params.ppi) or t.radius != float(c.radius):
            raise ValueError(
                f"template prepared with ns={t.ns} nd={t.nd} ppi={t.ppi} radius={t.radius}, "
                f"this matcher uses ns={c.ns} nd={c.nd} ppi={self.params.ppi} radius={c.radius}"
            )

    def _run(
        self, a: MatcherTemplate, b: MatcherTemplate
    ) -> tuple[int, np.ndarray, np.ndarray, ScoreParts]:
        self._check(a)
        self._check(b)
        n, pairs, values, parts = _compare_pair(a.arrays, b.arrays, self._params, self._tables)
        return int(n), pairs, values, parts

    def compare(self, a: MatcherTemplate, b: MatcherTemplate) -> float:
        """Similarity in [0, 1]; symmetric (the pair is always compared in canonical order)."""
        if a.key > b.key:
            a, b = b, a
        return float(self._run(a, b)[3].score)

    def explain(self, a: MatcherTemplate, b: MatcherTemplate) -> MatchExplanation:
        """The score of `compare(a, b)` with its parts, pairs and transform (a -> b)."""
        swap = a.key > b.key
        first, second = (b, a) if swap else (a, b)
        k, pairs, vals, parts = self._run(first, second)
        m = int(parts.matched)
        kept = pairs[:k].copy()
        matched = pairs[k : k + m].copy()
        rot, tx, ty = float(parts.rotation), float(parts.tx), float(parts.ty)
        if swap:
            kept = kept[:, ::-1].copy()
            matched = matched[:, ::-1].copy()
            c, s = np.cos(rot), np.sin(rot)
            rot, tx, ty = -rot, -(c * tx + s * ty), -(-s * tx + c * ty)
        # kernels work with y up: p_b = R(rot) p_a + t there; in the image frame (y down)
        # the same map is x_b = c x_a + s y_a + tx, y_b = -s x_a + c y_a - t_y.
        return MatchExplanation(
            score=float(parts.score),
            lssr_score=float(parts.lssr),
            consolidation_score=float(parts.consolidation),
            matched_count=m,
            overlap_a=int(parts.overlap_a if not swap else parts.overlap_b),
            overlap_b=int(parts.overlap_b if not swap else parts.overlap_a),
            rotation=rot,
            tx=tx,
            ty=-ty,
            pairs=kept,
            local_similarity=vals[:k, 0].copy(),
            relaxed=vals[:k, 1].copy(),
            matched=matched,
        )

    def pack(self, candidates: Sequence[MatcherTemplate]) -> PackedTemplates:
        """Concatenate candidates for `compare_many` (do it once per gallery or shortlist)."""
        for t in candidates:
            self._check(t)
        c = self.params.cylinder
        wp = (c.ns * c.ns + 63) // 64
        sizes = np.array([len(t) for t in candidates], dtype=np.int64)
        off = np.zeros(len(candidates) + 1, dtype=np.int64)
        off[1:] = np.cumsum(sizes)
        pl_off = np.zeros(len(candidates) + 1, dtype=np.int64)
        pl_off[1:] = np.cumsum([len(t.planes) for t in candidates])

        def cat(name: str, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
            parts = [np.asarray(getattr(t, name)).reshape(-1, *shape) for t in candidates]
            if not parts:
                return np.zeros((0, *shape), dtype=dtype)
            return np.ascontiguousarray(np.concatenate(parts), dtype=dtype)

        return PackedTemplates(
            size=len(candidates),
            off=off,
            pl_off=pl_off,
            keys=np.array([t.key for t in candidates], dtype=np.int64),
            x=cat("x", np.float64, ()),
            y=cat("yup", np.float64, ()),
            t=cat("theta", np.float64, ()),
            bits=cat("bits", np.uint64, (c.nd * wp,)),
            mask=cat("mask", np.uint64, (wp,)),
            count=cat("count", np.int64, ()),
            full=cat("full", np.bool_, ()),
            valid=cat("valid", np.bool_, ()),
            planes=cat("planes", np.float64, (3,)),
            tord=cat("tord", np.int64, ()),
            tsort=cat("tsort", np.float64, ()),
            xord=cat("xord", np.int64, ()),
            xsort=cat("xsort", np.float64, ()),
        )

    def compare_many(
        self,
        probe: MatcherTemplate,
        candidates: Sequence[MatcherTemplate] | PackedTemplates,
        select: Sequence[int] | np.ndarray | None = None,
    ) -> np.ndarray:
        """Scores of probe against each candidate (float64, candidate order); equal to
        `[compare(probe, c) for c in candidates]`.  Pass a `PackedTemplates` to skip packing,
        and `select` (candidate indices) to score only those, in that order."""
        self._check(probe)
        packed = candidates if isinstance(candidates, PackedTemplates) else self.pack(candidates)
        if select is None:
            chosen = np.arange(packed.size, dtype=np.int64)
        else:
            chosen = np.ascontiguousarray(select, dtype=np.int64)
            if chosen.size and (chosen.min() < 0 or chosen.max() >= packed.size):
                raise IndexError(f"select holds an index outside 0..{packed.size - 1}")
        out = np.zeros(chosen.size, dtype=np.float64)
        if chosen.size == 0:
            return out
        _compare_batch(
            probe.arrays, probe.key, packed.arrays, self._params, self._tables, chosen, out
        )
        return out
