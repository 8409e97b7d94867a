"""The benchmark's engines: registry, resampling, baseline and NBIS adapters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scomm.biometrics.engine import MATCHER_PARAMS, FingerprintEngine
from scomm.biometrics.match.mcc_params import LEADER_MATCHER_PARAMS
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.profiles import load_profile
from scomm.biometrics.protocols import FailureToEnrol
from scomm.config import DEFAULT_ENGINE
from scomm.sim.bench import engines
from scomm.sim.bench.engines import (
    BaselineEngine,
    EngineRegistry,
    MinutiaeEngine,
    NbisEngine,
    VerificationEngine,
    bench_engines,
    to_500_ppi,
)
from scomm.sim.synth.fingers import impression, master_finger


def test_registry_and_default() -> None:
    registry = bench_engines()
    assert {"scomm", "scomm-leader", "scomm-fast", "minunet", "baseline", "nbis"} <= set(
        registry.names
    )
    assert registry.default == "scomm"
    without = registry.without("scomm")
    assert without.default == "baseline" and "scomm" in registry  # the original is unchanged
    again = without.with_engine("scomm", BaselineEngine)
    assert again.default == "scomm" and isinstance(again.create("scomm"), BaselineEngine)
    with pytest.raises(KeyError, match="unknown engine 'nope'; known: baseline"):
        registry.create("nope")
    assert isinstance(EngineRegistry({}), EngineRegistry) and EngineRegistry({}).names == ()


def test_engines_follow_the_protocol() -> None:
    assert isinstance(BaselineEngine(), VerificationEngine)
    assert not isinstance(BaselineEngine(), MinutiaeEngine)
    assert isinstance(NbisEngine(), MinutiaeEngine)
    assert isinstance(bench_engines().create("scomm"), MinutiaeEngine)


def settings_of(extractor: object) -> dict[str, object]:
    """An extractor's settings: its attributes, less the native objects it owns (each
    extractor builds its own, so two equal extractors hold two of them)."""
    return {k: v for k, v in vars(extractor).items() if not k.startswith("_native")}


def test_scomm_is_the_default_engine_profile() -> None:
    """ "scomm", the benchmark's default, is the engine the flow and bench search run."""
    engine = bench_engines().create("scomm")
    profile = load_profile(DEFAULT_ENGINE)
    assert isinstance(engine, FingerprintEngine)
    assert engine.name == DEFAULT_ENGINE == "scomm-mcc-v2"
    assert engine.matcher.params == profile.matcher_params


@pytest.mark.parametrize(
    ("name", "extractor", "params"),
    [
        ("scomm-leader", "leader", LEADER_MATCHER_PARAMS),
        ("scomm-fast", "mindtct", MATCHER_PARAMS["mindtct"]),
        ("minunet", "minunet", LEADER_MATCHER_PARAMS),
    ],
)
def test_scomm_engines_come_from_their_profiles_with_unchanged_settings(
    name: str, extractor: str, params: object
) -> None:
    """The profiles hold the settings the FVC figures were measured with, exactly."""
    engine = bench_engines().create(name)
    assert isinstance(engine, FingerprintEngine)
    assert engine.matcher.params == params
    assert engine.name == f"scomm-{extractor}-mcc-v1"
    default = FingerprintEngine(extractor)  # type: ignore[arg-type]
    assert type(engine._extractor) is type(default._extractor)
    assert settings_of(engine._extractor) == settings_of(default._extractor)
    assert engine.min_minutiae == default.min_minutiae
    assert engine.min_usable_area_mm2 == default.min_usable_area_mm2


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
