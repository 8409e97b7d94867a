"""The benchmark's 1:N path (compare_many) gives the same figures as one compare at a time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scomm.biometrics.protocols import FailureToEnrol
from scomm.sim.bench.engines import BatchEngine
from scomm.sim.bench.verify import Sample, evaluate_database


class Scalar:
    """Templates are numbers: a finger's impressions lie close together."""

    name = "scalar"

    def extract(self, image: np.ndarray, ppi: int) -> object:
        if image.max() == 0:
            raise FailureToEnrol("blank")
        return float(image.mean())

    def compare(self, a: object, b: object) -> float:
        return -abs(float(a) - float(b))  # type: ignore[arg-type]


class BatchedScalar(Scalar):
    calls = 0

    def compare_many(self, probe: object, references: Sequence[object]) -> np.ndarray:
        BatchedScalar.calls += 1
        return np.array([self.compare(probe, r) for r in references])


def test_batched_and_single_scoring_agree() -> None:
    rng = np.random.default_rng(0)
    samples, images = [], {}
    for finger in range(1, 5):
        for impression in range(1, 4):
            samples.append(Sample("DB", finger, impression, Path(f"{finger}_{impression}.png")))
            level = 0 if (finger, impression) == (2, 2) else finger * 40 + rng.normal(0, 8)
            images[(finger, impression)] = np.full((8, 8), int(np.clip(level, 0, 255)), np.uint8)
    assert isinstance(BatchedScalar(), BatchEngine) and not isinstance(Scalar(), BatchEngine)
    single = evaluate_database(Scalar(), samples, images)
    batched = evaluate_database(BatchedScalar(), samples, images)
    assert BatchedScalar.calls > 0
    for field in ("eer", "fnmr_at_fmr_1e_2", "fnmr_at_fmr_1e_3", "fte", "impostor_run"):
        assert getattr(single, field) == getattr(batched, field)
    assert single.fte == 1 / 12
