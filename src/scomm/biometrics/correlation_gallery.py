"""1:N search for the correlation engine: stacked reference spectra, a batch per finger position."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scomm.biometrics.correlation_match import (
    SPECTRUM_SHAPE,
    batch_scores,
    features_of,
    probe_spectrum,
    reference_spectrum,
)
from scomm.biometrics.protocols import Candidate, CandidateList, Template

# Default operating point: the midpoint between the highest impostor and the lowest genuine
# fused score of ten-finger searches on synthetic data, rounded down to 0.05; not tuned
# further.  Measured with `.venv/bin/python bench/baseline_engine.py` (seed 0): 200 persons
# enrolled, searched with a fresh capture of each of them and of 200 never-enrolled persons,
# every candidate's fused score kept:
#   genuine  fused (n=200):    min 0.804  mean 0.914  max 0.977
#   impostor fused (n=79,800): min 0.070  mean 0.178  max 0.316   -> midpoint 0.560
# Single fingers overlap (measured separately on 150 persons: impostor max 0.64, genuine
# 1st percentile 0.57), so searches with only one or two fingers are far less reliable here.
# On real prints (FVC2002) this engine is near chance: the threshold means nothing there.
DEFAULT_THRESHOLD = 0.55


class _Position:
    """Reference spectra of one finger position, rows packed densely (swap-remove on delete)."""

    def __init__(self) -> None:
        self.spectra = np.zeros((0, *SPECTRUM_SHAPE), dtype=np.complex64)
        self.owners = np.zeros(0, dtype=np.int64)  # identity slot of each row
        self.row_of: dict[int, int] = {}  # identity slot -> row
        self.size = 0

    def put(self, slot: int, spectrum: np.ndarray) -> None:
        row = self.row_of.get(slot)
        if row is None:
            if self.size == len(self.spectra):
                capacity = max(16, 2 * self.size)
                spectra = np.zeros((capacity, *SPECTRUM_SHAPE), dtype=np.complex64)
                spectra[: self.size] = self.spectra[: self.size]
                owners = np.zeros(capacity, dtype=np.int64)
                owners[: self.size] = self.owners[: self.size]
                self.spectra, self.owners = spectra, owners
            row = self.size
            self.size += 1
            self.row_of[slot] = row
            self.owners[row] = slot
        self.spectra[row] = spectrum

    def drop(self, slot: int) -> None:
        row = self.row_of.pop(slot)
        last = self.size - 1
        if row != last:
            moved = int(self.owners[last])
            self.spectra[row] = self.spectra[last]
            self.owners[row] = moved
            self.row_of[moved] = row
        self.size = last


class CorrelationGallery:
    """Enrolled identities, searchable by any subset of their finger positions.

    Each probe finger is compared only with the same finger position of every identity,
    all at once (one batched multiply and inverse FFT per position).  An identity's fused
    score is the mean of its per-finger scores over the positions present in both the
    probe and its enrolment; identities sharing no position with the probe are not listed.
    Enrolling an identity that is already present replaces its fingers.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._slot_of: dict[str, int] = {}
        self._ids: list[str | None] = []  # slot -> identity (None: free)
        self._free: list[int] = []
        self._fingers: dict[str, tuple[int, ...]] = {}
        self._positions: dict[int, _Position] = {}

    def enrol(self, identity_id: str, templates: Mapping[int, Template]) -> None:
        if not templates:
            raise ValueError(f"identity {identity_id!r}: no finger templates to enrol")
        spectra = {}
        for finger, template in templates.items():
            if template.finger != finger:
                raise ValueError(f"template of finger {template.finger} filed under {finger}")
            spectra[finger] = reference_spectrum(features_of(template))
        if identity_id in self._slot_of:
            self.delete(identity_id)
        slot = self._free.pop() if self._free else len(self._ids)
        if slot == len(self._ids):
            self._ids.append(identity_id)
        else:
            self._ids[slot] = identity_id
        self._slot_of[identity_id] = slot
        self._fingers[identity_id] = tuple(sorted(spectra))
        for finger, spectrum in spectra.items():
            self._positions.setdefault(finger, _Position()).put(slot, spectrum)

    def delete(self, identity_id: str) -> None:
        """Remove an identity; KeyError if it is not enrolled."""
        slot = self._slot_of.pop(identity_id)
        for finger in self._fingers.pop(identity_id):
            self._positions[finger].drop(slot)
        self._ids[slot] = None
        self._free.append(slot)

    def search(self, probe: Mapping[int, Template], max_candidates: int = 10) -> CandidateList:
        if max_candidates < 0:
            raise ValueError(f"max_candidates must be >= 0, got {max_candidates}")
        slots = len(self._ids)
        sums = np.zeros(slots)
        counts = np.zeros(slots, dtype=np.int64)
        per_finger: dict[int, tuple[_Position, np.ndarray]] = {}
        for finger in sorted(probe):
            template = probe[finger]
            if template.finger != finger:
                raise ValueError(f"template of finger {template.finger} filed under {finger}")
            position = self._positions.get(finger)
            if position is None or position.size == 0:
                continue
            spectra = position.spectra[: position.size]
            scores = batch_scores(probe_spectrum(features_of(template)), spectra)
            owners = position.owners[: position.size]
            sums[owners] += scores
            counts[owners] += 1
            per_finger[finger] = (position, scores)
        fused = np.full(slots, -np.inf)
        present = counts > 0
        fused[present] = sums[present] / counts[present]
        ranked = np.argsort(-fused, kind="stable")[: min(max_candidates, int(present.sum()))]
        candidates = []
        for rank, slot in enumerate(ranked.tolist(), start=1):
            finger_scores = {
                finger: float(scores[position.row_of[slot]])
                for finger, (position, scores) in per_finger.items()
                if slot in position.row_of
            }
            identity = self._ids[slot]
            assert identity is not None
            candidates.append(Candidate(identity, float(fused[slot]), finger_scores, rank=rank))
        return CandidateList(tuple(candidates), self.threshold, tuple(per_finger))

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, identity_id: object) -> bool:
        return identity_id in self._slot_of
