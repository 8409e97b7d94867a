"""The benchmark's engines: registry, resampling, baseline and NBIS adapters."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.protocols import FailureToEnrol
from scomm.sim.bench import engines
from scomm.sim.bench.engines import (
    ENGINES,
    BaselineEngine,
    MinutiaeEngine,
    NbisEngine,
    VerificationEngine,
    default_engine_name,
    register_engine,
    to_500_ppi,
)
from scomm.sim.synth.fingers import impression, master_finger


@pytest.fixture
def registry() -> Iterator[dict]:
    saved = dict(ENGINES)
    yield ENGINES
    ENGINES.clear()
    ENGINES.update(saved)


def test_registry_and_default(registry: dict) -> None:
    assert {"scomm", "baseline", "nbis"} <= set(registry)
    assert default_engine_name() == "scomm"
    registry.pop("scomm", None)
    assert default_engine_name() == "baseline"
    register_engine("scomm", BaselineEngine)
    assert default_engine_name() == "scomm"


def test_engines_follow_the_protocol() -> None:
    assert isinstance(BaselineEngine(), VerificationEngine)
    assert not isinstance(BaselineEngine(), MinutiaeEngine)
    assert isinstance(NbisEngine(), MinutiaeEngine)
    assert isinstance(ENGINES["scomm"](), MinutiaeEngine)


def test_resampling_to_500_ppi() -> None:
    image = np.random.default_rng(0).integers(0, 256, (560, 296), dtype=np.uint8)
    assert np.array_equal(to_500_ppi(image, 500), image)
    out = to_500_ppi(image, 569)
    assert out.dtype == np.uint8 and out.shape == (492, 260)
    assert "resample" in engines.resampler_name()


@pytest.mark.parametrize("factory", [BaselineEngine, NbisEngine])
def test_genuine_scores_above_impostor_and_blank_fails(factory: type) -> None:
    engine = factory()
    rng = np.random.default_rng(3)
    a, b = master_finger(21, 256), master_finger(22, 256)
    ta1, ta2, tb = (engine.extract(impression(m, rng, dropout=0.0), 500) for m in (a, a, b))
    assert engine.compare(ta1, ta2) > engine.compare(ta1, tb)
    with pytest.raises(FailureToEnrol):
        engine.extract(np.full((256, 256), 210, np.uint8), 500)


def test_nbis_reads_minutiae_back_as_it_extracted_them() -> None:
    engine = NbisEngine()
    image = impression(master_finger(5, 256), np.random.default_rng(0))
    extracted = engine.extract(image, 500)
    points = extracted.get()  # type: ignore[attr-defined]
    minutiae = Minutiae(
        x=np.array([p.x() for p in points], np.float32),
        y=np.array([p.y() for p in points], np.float32),
        angle=np.array([math.radians(p.angle()) for p in points], np.float32),
        kind=np.array([p.kind().value for p in points], np.uint8),
        quality=np.full(len(points), 50, np.uint8),
        width=256,
        height=256,
    )
    loaded = engine.from_minutiae(minutiae)
    assert len(loaded.get()) == len(points)  # type: ignore[attr-defined]
    self_score = engine.compare(extracted, extracted)
    assert engine.compare(loaded, extracted) == pytest.approx(self_score, rel=0.05)
    # the same minutiae recorded at 1000 ppi come back at 500 ppi: the same score
    doubled = Minutiae(
        minutiae.x * 2, minutiae.y * 2, minutiae.angle, minutiae.kind, minutiae.quality,
        512, 512, 1000,
    )  # fmt: skip
    assert engine.compare(engine.from_minutiae(doubled), extracted) == pytest.approx(
        self_score, rel=0.05
    )
    with pytest.raises(FailureToEnrol):
        engine.from_minutiae(Minutiae.empty(256, 256))
