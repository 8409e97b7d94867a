"""The profile job: every shipped profile but the demo's (tested with its fit) and the default
engine's (calibrated on FVC2002 with a slow extractor) is current; the default engine's
calibration, piece by piece."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.index.calibration import Calibration
from scomm.biometrics.profiles import REAL_PRINT_ENGINE, load_profile, shipped_engines
from scomm.config import DEFAULT_ENGINE
from scomm.sim.bench import engine_profiles, fvc_minutiae
from scomm.sim.bench.engine_profiles import (
    SHIPPED,
    SingleFingerTail,
    fused_calibration,
    shipped_folder,
    write_shipped,
)
from scomm.sim.synth.demo_engine import ENGINE_NAME


def test_every_shipped_profile_has_a_job_and_every_job_a_shipped_profile() -> None:
    assert set(SHIPPED) == set(shipped_engines())


@pytest.mark.parametrize("name", sorted(set(SHIPPED) - {ENGINE_NAME, REAL_PRINT_ENGINE}))
def test_the_shipped_profile_is_what_the_job_writes(tmp_path: Path, name: str) -> None:
    for path in write_shipped(tmp_path, (name,))[name]:
        assert path.read_bytes() == (shipped_folder() / path.name).read_bytes(), path.name
    assert load_profile(name) == SHIPPED[name]()


def test_an_unknown_job_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no profile job for nope"):
        write_shipped(tmp_path, ("nope",))


# --- the default engine ----------------------------------------------------------------------


def test_the_default_engine_is_the_real_print_profile_of_the_jobs_extractor() -> None:
    profile = load_profile(DEFAULT_ENGINE)
    assert profile.name == REAL_PRINT_ENGINE == DEFAULT_ENGINE
    kind = engine_profiles.EXTRACTOR_KIND
    assert profile.extractor == engine_profiles.extractor_spec(kind)
    assert profile.matcher_params == engine_profiles.matcher_params_for(kind)
    assert profile.search == "indexed" and profile.pair_code is not None
    assert "FVC2002" in profile.pair_code.fitted_on
    # a threshold and its FPIR model for every number of probe fingers, rising with it
    assert sorted(profile.thresholds) == list(range(1, 11)) == sorted(profile.fpir_model)
    levels = [profile.thresholds[k] for k in range(1, 11)]
    assert levels == sorted(levels)
    for count, model in profile.fpir_model.items():
        assert model.threshold == profile.thresholds[count]
        assert model.gallery_size == engine_profiles.GALLERY_SIZE
        assert model.fpir == engine_profiles.FPIR
        allowed = -math.expm1(math.log1p(-model.fpir) / model.gallery_size)
        assert model.modelled_fmr(model.threshold) == pytest.approx(allowed, rel=1e-6)


def _scores(positive: np.ndarray, zeros: int) -> np.ndarray:
    return np.concatenate([np.zeros(zeros), positive])


def test_one_finger_threshold_is_the_exponential_tails() -> None:
    rng = np.random.default_rng(3)
    tail = SingleFingerTail.fit(_scores(0.08 + rng.exponential(0.05, 40), 9_960))
    assert tail.positive == pytest.approx(0.004)
    assert tail.start == pytest.approx(0.08, abs=0.01)
    found = fused_calibration(tail, 1, 100_000, 1e-3)
    fmr = -math.expm1(math.log1p(-1e-3) / 100_000)
    exact = tail.start + tail.mean_excess * math.log(tail.positive / fmr)
    assert exact <= found.threshold <= exact + 2 * engine_profiles.GRID
    assert isinstance(found, Calibration) and found.samples == 10_000


def test_fused_thresholds_rise_with_fingers_and_gallery_size() -> None:
    rng = np.random.default_rng(4)
    tail = SingleFingerTail.fit(_scores(0.08 + rng.exponential(0.05, 40), 9_960))
    by_count = [fused_calibration(tail, k, 100_000, 1e-3).threshold for k in (1, 2, 5, 10)]
    assert by_count == sorted(by_count) and by_count[0] < by_count[-1]
    # a ten-finger sum of impostors needs more than one impostor finger's threshold, and the
    # larger gallery a higher one
    assert fused_calibration(tail, 10, 1_000_000, 1e-3).threshold > by_count[-1]


def test_too_few_positive_impostor_scores_cannot_be_fitted() -> None:
    with pytest.raises(ValueError, match="19 positive impostor scores"):
        SingleFingerTail.fit(_scores(np.full(19, 0.1), 10_000))


# --- FVC minutiae cache ----------------------------------------------------------------------


@pytest.fixture
def small_fvc(data_dir: Path, tmp_path: Path) -> Path:
    """Two fingers of FVC2002 DB1_B, two impressions each, as a database folder."""
    source = data_dir / "fvc2002" / "DB1_B"
    if not source.is_dir():
        pytest.skip(f"{source} not found")
    target = tmp_path / "fvc" / "DB1_B"
    target.mkdir(parents=True)
    for name in ("101_1.tif", "101_2.tif", "102_1.tif", "102_2.tif"):
        shutil.copy(source / name, target / name)
    return tmp_path / "fvc"


def test_fvc_minutiae_are_extracted_once_and_again_when_stale_or_damaged(
    small_fvc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = engine_profiles._profile_shell("mindtct")  # fast: NBIS
    cache = tmp_path / "cache"
    first = fvc_minutiae.fvc_minutiae(small_fvc, profile, cache)
    assert [(i.finger, i.impression) for i in first["DB1_B"]] == [
        (101, 1), (101, 2), (102, 1), (102, 2),
    ]  # fmt: skip
    folder = fvc_minutiae.cache_folder(cache, profile)
    entries = sorted((folder / "DB1_B").glob("*.npz"))
    assert len(entries) == 4

    calls: list[int] = []
    real = fvc_minutiae.fingerprint_engine

    def counting(chosen: object) -> object:
        engine = real(chosen)  # type: ignore[arg-type]
        extract = engine.extract

        def counted(*args: object) -> object:
            calls.append(1)
            return extract(*args)  # type: ignore[arg-type]

        engine.extract = counted  # type: ignore[method-assign]
        return engine

    monkeypatch.setattr(fvc_minutiae, "fingerprint_engine", counting)
    again = fvc_minutiae.fvc_minutiae(small_fvc, profile, cache)
    assert calls == []  # every impression from the cache, the same minutiae
    pairs = zip(first["DB1_B"], again["DB1_B"], strict=True)
    assert all(a.minutiae == b.minutiae for a, b in pairs)

    entries[0].write_bytes(b"not an npz")  # damaged: extracted again, rewritten
    (small_fvc / "DB1_B" / "102_2.tif").write_bytes(
        (small_fvc / "DB1_B" / "101_1.tif").read_bytes()
    )  # another image under a cached name: extracted again
    third = fvc_minutiae.fvc_minutiae(small_fvc, profile, cache)
    assert len(calls) == 2
    assert third["DB1_B"][0].minutiae == first["DB1_B"][0].minutiae
    assert third["DB1_B"][3].minutiae == first["DB1_B"][0].minutiae
    assert len(list((folder / "DB1_B").glob("*.npz"))) == 4

    # the same files read at another resolution (a MANIFEST.csv that says so): extracted again
    (small_fvc / "MANIFEST.csv").write_text(
        "path,ppi\n" + "".join(f"DB1_B/{n}.tif,569\n" for n in ("101_1", "101_2", "102_1", "102_2"))
    )
    calls.clear()
    fvc_minutiae.fvc_minutiae(small_fvc, profile, cache)
    assert len(calls) == 4


def test_another_extractor_setting_has_its_own_cache_folder(tmp_path: Path) -> None:
    leader = engine_profiles._profile_shell("leader")
    mindtct = engine_profiles._profile_shell("mindtct")
    assert fvc_minutiae.cache_folder(tmp_path, leader) != fvc_minutiae.cache_folder(
        tmp_path, mindtct
    )


def test_the_default_engine_profile_is_what_the_job_writes_from_the_cached_minutiae(
    data_dir: Path, tmp_path: Path
) -> None:
    """Runs where FVC2002's minutiae of the default extractor are cached (SCOMM_FVC_CACHE,
    ~/.cache/scomm/fvc-minutiae): extracting them again would take minutes."""
    shell = engine_profiles._profile_shell(engine_profiles.EXTRACTOR_KIND)
    folder = fvc_minutiae.cache_folder(engine_profiles.default_fvc_cache(), shell)
    cached = sum(
        len(list((folder / database).glob("*.npz")))
        for database in engine_profiles.CALIBRATION_DATABASES
    )
    if cached < 240:
        pytest.skip(f"{folder} holds {cached} of FVC2002 DB1-DB3's 240 impressions")
    profile = engine_profiles.real_print_profile(data=data_dir / "fvc2002")
    for path in engine_profiles.write_profile(profile, tmp_path):
        assert path.read_bytes() == (shipped_folder() / path.name).read_bytes(), path.name
