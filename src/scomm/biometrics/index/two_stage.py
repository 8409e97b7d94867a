"""Two-stage 1:N search: the pair-code scan shortlists, the MCC matcher decides.

Tenprint (or slap, or any set of fingers with known positions):
1. the probe's fingers are coded (`PairCoder`) and every enrolled identity gets a fused
   first-stage score (`scan.fused_scores`); the best `shortlist` identities go on;
2. their fingers are decoded from the gallery's compact rows, prepared for the matcher in
   one batch, and each probe finger is compared with the same finger of every shortlisted
   identity (`MccMatcher.compare_many` on the packed shortlist);
3. the fused score of a candidate is the sum of its per-finger MCC scores over the fingers
   both sides have; candidates are ranked on it and the decision compares the best with
   the threshold calibrated for that many probe fingers (`calibration`).

Single finger (position known or not): the probe code is compared with every enrolled
finger of the allowed positions, the best `shortlist` fingers are re-scored by the matcher.

`exhaustive=True` skips the first stage: every identity is re-scored (slow; it is the
reference the benchmark measures the first stage's losses against).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from scomm.biometrics.index import scan
from scomm.biometrics.index.finger_arrays import FINGERS, FingerArrays
from scomm.biometrics.index.pair_code import PairCoder
from scomm.biometrics.match import MccMatcher, prepare_packed
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch


@dataclass(frozen=True)
class SearchHit:
    """One candidate identity: fused score, and per finger position its matcher score."""

    identity_id: str
    score: float
    finger_scores: dict[int, float]
    first_stage: float


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    threshold: float
    positions: tuple[int, ...]
    shortlisted: int
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> SearchHit | None:
        return self.hits[0] if self.hits else None

    @property
    def is_hit(self) -> bool:
        return self.best is not None and self.best.score >= self.threshold


class TwoStageSearch:
    """Searches `arrays` (coded with `coder`) using `matcher` for the second stage."""

    def __init__(
        self,
        arrays: FingerArrays,
        coder: PairCoder,
        matcher: MccMatcher,
        thresholds: Mapping[int, float] | None = None,
        shortlist: int = 50,
    ) -> None:
        if coder.params.words != arrays.words:
            raise ValueError(
                f"coder makes {coder.params.words}-word codes, gallery holds {arrays.words}"
            )
        self.arrays = arrays
        self.coder = coder
        self.matcher = matcher
        self.thresholds = dict(thresholds or {})
        self.shortlist = shortlist

    def threshold_for(self, fingers: int) -> float:
        """Decision threshold for a probe of `fingers` fingers (inf when not calibrated)."""
        return self.thresholds.get(fingers, float("inf"))

    # --- tenprint ----------------------------------------------------------------------------

    def search(
        self,
        probe: Mapping[int, Minutiae],
        max_candidates: int = 10,
        *,
        shortlist: int | None = None,
        exhaustive: bool = False,
    ) -> SearchResult:
        """Candidates for a probe given as {finger position 1-10: minutiae}."""
        positions = tuple(sorted(p for p, m in probe.items() if len(m) > 0))
        if not positions:
            raise ValueError("the probe has no finger with minutiae")
        if any(not 1 <= p <= FINGERS for p in positions):
            raise ValueError(f"finger positions must be 1..{FINGERS}, got {positions}")
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        probe_batch = MinutiaeBatch.from_minutiae([probe[p] for p in positions])
        codes = np.zeros((FINGERS, self.arrays.words), dtype=np.uint64)
        codes[[p - 1 for p in positions]] = self.coder.encode(probe_batch)
        mask = sum(1 << (p - 1) for p in positions)
        clock.lap("probe_code")
        a = self.arrays
        first = scan.fused_scores(a.codes[: a.slots], a.present[: a.slots], codes, mask)
        if exhaustive:
            slots = np.flatnonzero(np.isfinite(first)).astype(np.int64)
        else:
            slots = scan.top_k(first, shortlist or self.shortlist)
        clock.lap("first_stage")
        scores = self._rescore(probe_batch, positions, slots, clock)
        fused = np.where(scores >= 0, scores, 0.0).sum(axis=1)  # a missing finger adds 0
        order = np.lexsort((slots, -fused))[:max_candidates]
        hits = tuple(
            SearchHit(
                a.identity_at(int(slots[i])),
                float(fused[i]),
                {p: float(scores[i, k]) for k, p in enumerate(positions) if scores[i, k] >= 0},
                float(first[slots[i]]),
            )
            for i in order
        )
        clock.lap("rank")
        return SearchResult(
            hits, self.threshold_for(len(positions)), positions, len(slots), timings
        )

    def rescore(self, probe: Mapping[int, Minutiae], slots: np.ndarray) -> np.ndarray:
        """Matcher scores of `probe` against the identities in `slots`: len(slots) x
        len(probe) (probe positions in ascending order; -1 where the identity lacks the
        finger).  The second stage alone, for any set of identities."""
        positions = tuple(sorted(probe))
        batch = MinutiaeBatch.from_minutiae([probe[p] for p in positions])
        return self._rescore(batch, positions, np.asarray(slots, dtype=np.int64), None)

    def _rescore(
        self,
        probe: MinutiaeBatch,
        positions: tuple[int, ...],
        slots: np.ndarray,
        clock: _Clock | None,
    ) -> np.ndarray:
        out = np.full((len(slots), len(positions)), -1.0)
        if not len(slots):
            return out
        columns = np.array([p - 1 for p in positions], dtype=np.int64)
        counts = self.arrays.counts[slots][:, columns]
        has = (counts > 0).reshape(-1)
        pair_slots = np.repeat(slots, len(columns))[has]
        pair_columns = np.tile(columns, len(slots))[has]
        packed = prepare_packed(self.matcher, self.arrays.fingers_at(pair_slots, pair_columns))
        if clock:
            clock.lap("prepare")
        where_flat = np.full(len(has), -1, dtype=np.int64)
        where_flat[has] = np.arange(int(has.sum()))
        where = where_flat.reshape(len(slots), len(positions))
        for k in range(len(positions)):
            template = self.matcher.prepare(probe[k])
            mine = np.flatnonzero(where[:, k] >= 0)
            if len(mine):
                out[mine, k] = self.matcher.compare_many(template, packed, where[mine, k])
        if clock:
            clock.lap("second_stage")
        return out

    # --- single finger -----------------------------------------------------------------------

    def search_finger(
        self,
        probe: Minutiae,
        position: int | None = None,
        max_candidates: int = 10,
        *,
        shortlist: int | None = None,
    ) -> SearchResult:
        """Candidates for one finger; `position` None searches every position."""
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        batch = MinutiaeBatch.from_minutiae([probe])
        code = self.coder.encode(batch)[0]
        a = self.arrays
        k = shortlist or self.shortlist
        if position is None:
            allowed = (1 << FINGERS) - 1
            first = scan.finger_scores(a.codes[: a.slots], a.present[: a.slots], code, allowed)
            flat = scan.top_k(first, k)
            first_best = first.reshape(-1)[flat]
        else:
            column = scan.position_scores(a.codes[: a.slots], a.present[: a.slots], code, position)
            best = scan.top_k(column, k)
            flat = best * FINGERS + (position - 1)
            first_best = column[best]
        clock.lap("first_stage")
        slots, columns = flat // FINGERS, flat % FINGERS
        packed = prepare_packed(self.matcher, self.arrays.fingers_at(slots, columns))
        clock.lap("prepare")
        scores = self.matcher.compare_many(self.matcher.prepare(batch[0]), packed)
        clock.lap("second_stage")
        order = np.lexsort((flat, -scores))[:max_candidates]
        hits = tuple(
            SearchHit(
                a.identity_at(int(slots[i])),
                float(scores[i]),
                {int(columns[i]) + 1: float(scores[i])},
                float(first_best[i]),
            )
            for i in order
        )
        return SearchResult(
            hits, self.threshold_for(1), (position,) if position else (), len(flat), timings
        )


class _Clock:
    def __init__(self, into: dict[str, float]) -> None:
        import time  # noqa: PLC0415

        self._now = time.perf_counter
        self._into = into
        self._last = self._now()

    def lap(self, name: str) -> None:
        now = self._now()
        self._into[name] = self._into.get(name, 0.0) + (now - self._last) * 1e3
        self._last = now
