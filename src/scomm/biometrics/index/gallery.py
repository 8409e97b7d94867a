"""IndexedGallery: the repositories' `Gallery`, on the two-stage search.

Templates are minutiae (`MinutiaeTemplate`, or the engine's `FingerTemplate`, or anything
with a `minutiae` attribute); each is coded for the first stage on enrolment and kept in
the gallery's flat arrays in the 6-byte compact form.  The decision threshold depends on
how many fingers the probe has (`thresholds`, fused matcher score: the sum of per-finger
MCC scores).  Thresholds belong to an engine and a population: calibrate them on its own
score distributions (`calibration.calibrate`, as `scomm bench search` and
`bench/demo_engine_calibration.py` do).  A finger count without one never decides a hit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scomm.biometrics import compact_minutiae
from scomm.biometrics.index.finger_arrays import (
    FINGERS,
    FingerArrays,
    SnapshotError,
    snapshot_sha256,
)
from scomm.biometrics.index.pair_code import PairCodeParams, PairCoder
from scomm.biometrics.index.two_stage import TwoStageSearch
from scomm.biometrics.match import MccMatcher
from scomm.biometrics.match.mcc_params import GALLERY_MATCHER_PARAMS
from scomm.biometrics.minutiae import Minutiae, MinutiaKind
from scomm.biometrics.minutiae_batch import MinutiaeBatch
from scomm.biometrics.protocols import Candidate, CandidateList, Template


@dataclass(frozen=True, eq=False)
class MinutiaeTemplate:
    """A finger as the gallery keeps it: its position and its minutiae."""

    finger: int
    minutiae: Minutiae

    def to_bytes(self) -> bytes:
        return compact_minutiae.encode(self.minutiae)


class MinutiaeCodec:
    """Reads back `MinutiaeTemplate.to_bytes` (the database's copy of a gallery finger)."""

    def decode(self, data: bytes, finger: int) -> MinutiaeTemplate:
        return MinutiaeTemplate(finger, compact_minutiae.decode(data))


def minutiae_of(template: Template) -> Minutiae:
    found = getattr(template, "minutiae", None)
    if not isinstance(found, Minutiae):
        raise TypeError(f"{type(template).__name__} carries no minutiae for the indexed gallery")
    return found


class IndexedGallery:
    """Enrolled identities with up to ten fingers each, searched in two stages."""

    keeps_last_answer = True  # `search`: the same probe again, unchanged, costs nothing

    def __init__(
        self,
        coder: PairCoder,
        matcher: MccMatcher | None = None,
        thresholds: Mapping[int, float] | None = None,
        shortlist: int = 50,
        arrays: FingerArrays | None = None,
    ) -> None:
        self.arrays = arrays or FingerArrays(coder.params.words)
        # the last search's probe (its template objects, kept alive so that their ids stay
        # theirs), the gallery's contents then (`FingerArrays.version`) and its answer
        self._last: tuple[tuple[Any, ...], tuple[Template, ...], CandidateList] | None = None
        self.search_engine = TwoStageSearch(
            self.arrays,
            coder,
            matcher or MccMatcher(GALLERY_MATCHER_PARAMS),
            thresholds or {},
            shortlist,
        )

    @property
    def coder(self) -> PairCoder:
        return self.search_engine.coder

    def __len__(self) -> int:
        return len(self.arrays)

    def __contains__(self, identity_id: object) -> bool:
        return identity_id in self.arrays

    def enrol(self, identity_id: str, templates: Mapping[int, Template]) -> None:
        """Enrol (or replace) one identity's fingers."""
        self.enrol_many([(identity_id, templates)])

    def enrol_many(self, items: Sequence[tuple[str, Mapping[int, Template]]]) -> None:
        """Enrol (or replace) many identities at once: one batch, coded in one pass."""
        empty = Minutiae.empty(self.arrays.width, self.arrays.height)
        sets: list[Minutiae] = []
        for identity_id, templates in items:
            if not templates:
                raise ValueError(f"identity {identity_id!r}: no finger templates to enrol")
            row = [empty] * FINGERS
            for position, template in templates.items():
                if template.finger != position:
                    raise ValueError(f"template of finger {template.finger} filed under {position}")
                if not 1 <= position <= FINGERS:
                    raise ValueError(f"finger position {position} is not 1..{FINGERS}")
                row[position - 1] = minutiae_of(template)
            sets.extend(row)
        if not sets:
            return
        batch = MinutiaeBatch.from_minutiae(sets)
        ids = [identity_id for identity_id, _ in items]
        self.arrays.enrol_batch(ids, batch, self.coder.encode(batch))

    def delete(self, identity_id: str) -> None:
        self.arrays.delete(identity_id)

    def warm(self) -> None:
        """Enrol made-up minutiae in a throwaway gallery of this one's coder and matcher,
        search it and explain a pair: the matcher's compiled kernels load from numba's cache
        at their first call (about 0.1 s), which a service does before it serves rather than
        inside its first search (`scomm serve`, where that search holds the write lock).
        This gallery is not touched."""
        rng = np.random.default_rng(0)
        count = 40

        def made_up(finger: int) -> MinutiaeTemplate:
            minutiae = Minutiae(
                x=rng.uniform(40, 360, count).astype(np.float32),
                y=rng.uniform(40, 460, count).astype(np.float32),
                angle=rng.uniform(0, 2 * np.pi, count).astype(np.float32),
                kind=np.full(count, MinutiaKind.RIDGE_ENDING),
                quality=np.full(count, 60),
                width=400,
                height=500,
            )
            return MinutiaeTemplate(finger, minutiae)

        probe = {finger: made_up(finger) for finger in range(1, FINGERS + 1)}
        engine = self.search_engine
        throwaway = IndexedGallery(self.coder, engine.matcher, engine.thresholds, engine.shortlist)
        throwaway.enrol("warm-up", probe)
        throwaway.search(probe)
        matcher = engine.matcher
        matcher.explain(matcher.prepare(probe[1].minutiae), matcher.prepare(probe[2].minutiae))

    def search(self, probe: Mapping[int, Template], max_candidates: int = 10) -> CandidateList:
        """Candidates for `probe` ({finger position: template}). The same template objects
        searched again, with no change of the gallery in between, get the last answer
        again without a second search (the same object: do not change it): a service
        searches a probe before it takes its write lock (`scomm.system.System.prepare`)
        and its handler then finds the answer."""
        version = self.arrays.version
        key = (version, max_candidates,
               tuple((position, id(t)) for position, t in probe.items()))  # fmt: skip
        last = self._last
        if last is not None and last[0] == key:
            return last[2]
        found = self._search(probe, max_candidates)
        if self.arrays.version == version:  # not changed while it searched
            self._last = (key, tuple(probe.values()), found)
        return found

    def _search(self, probe: Mapping[int, Template], max_candidates: int) -> CandidateList:
        if max_candidates < 0:
            raise ValueError(f"max_candidates must be >= 0, got {max_candidates}")
        for position, template in probe.items():
            if template.finger != position:
                raise ValueError(f"template of finger {template.finger} filed under {position}")
        fingers = {p: minutiae_of(t) for p, t in probe.items() if len(minutiae_of(t))}
        if not fingers or len(self.arrays) == 0:
            threshold = self.search_engine.threshold_for(len(fingers))
            return CandidateList((), threshold, tuple(sorted(fingers)))
        result = self.search_engine.search(fingers, max_candidates)
        candidates = tuple(
            Candidate(hit.identity_id, hit.score, dict(hit.finger_scores), rank)
            for rank, hit in enumerate(result.hits, start=1)
        )
        return CandidateList(candidates, result.threshold, result.positions)

    def clear(self) -> None:
        """Forget every identity."""
        self._use(FingerArrays(self.coder.params.words))

    def save(self, folder: Path, extra: Mapping[str, Any] | None = None) -> str:
        """Snapshot the gallery (arrays, coder, and `extra` metadata) into `folder`; returns
        the snapshot's content hash (`snapshot_sha256`)."""
        meta = {
            "coder_mean": self.coder.mean.tolist(),
            "coder_params": _params_json(self.coder.params),
            **dict(extra or {}),
        }
        return self.arrays.save(folder, meta)

    def snapshot_sha256(self, folder: Path) -> str:
        """The content hash of the snapshot in `folder` as it is now (what `save` returned
        when it wrote it, unless a file changed since)."""
        return snapshot_sha256(folder)

    def restore(self, folder: Path) -> tuple[dict[str, Any], str]:
        """Replace the gallery's contents with a snapshot made with the same coder; returns
        the snapshot's metadata and the content hash of exactly the bytes it took (each file
        read once, into memory: a file changed afterwards changes nothing here).  Raises
        `SnapshotError` when it cannot be used (with that hash, where the files were read)."""
        arrays, meta, content_sha256 = FingerArrays.read(folder)
        try:
            params = PairCodeParams(**meta.get("coder_params", {}))
            mean = np.array(meta.get("coder_mean", []), dtype=np.float32)
            same = params == self.coder.params and np.array_equal(mean, self.coder.mean)
        except (TypeError, ValueError):
            same = False
        if not same:
            error = SnapshotError(f"{folder}: made with another pair coder")
            error.content_sha256 = content_sha256
            raise error
        self._use(arrays)
        return meta, content_sha256

    @classmethod
    def load(cls, folder: Path, matcher: MccMatcher | None = None, **kwargs: Any) -> IndexedGallery:
        """A gallery from a snapshot, with the snapshot's own coder."""
        arrays, meta = FingerArrays.load(folder)
        params = PairCodeParams(**meta.get("coder_params", {}))
        coder = PairCoder(params, np.array(meta["coder_mean"], dtype=np.float32))
        return cls(coder, matcher, arrays=arrays, **kwargs)

    def _use(self, arrays: FingerArrays) -> None:
        self._last = None  # an answer from the arrays before
        self.arrays = arrays
        self.search_engine.arrays = arrays


def _params_json(params: PairCodeParams) -> dict[str, Any]:
    from dataclasses import asdict  # noqa: PLC0415

    return asdict(params)
