"""Engine profiles: files that read back exactly, clear refusals, engines built without fitting."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.extract_skeleton import SkeletonParams, SkeletonTemplateExtractor
from scomm.biometrics.index.calibration import Calibration
from scomm.biometrics.index.gallery import IndexedGallery, MinutiaeCodec
from scomm.biometrics.index.pair_code import PairCodeParams
from scomm.biometrics.match.mcc_params import GALLERY_MATCHER_PARAMS
from scomm.biometrics.profiles import (
    EngineProfile,
    EngineProfileError,
    ExtractorSpec,
    PairCodeFit,
    UnknownEngine,
    build_engine,
    load_profile,
    read_profile,
    resolve_profile,
    shipped_engines,
    write_profile,
)


def small_profile(name: str = "test-engine-v1") -> EngineProfile:
    params = PairCodeParams(distance_bins=2, angle_bins=4, bits=64)
    rng = np.random.default_rng(7)
    mean = rng.random(params.dims, dtype=np.float32) / np.float32(3.0)  # not short decimals
    return EngineProfile(
        name=name,
        version=3,
        description="a test engine",
        produced_by="tests",
        extractor=ExtractorSpec("skeleton", {"smooth_sigma": 1.0 / 3.0, "min_minutiae": 7}),
        matcher="mcc",
        matcher_params=GALLERY_MATCHER_PARAMS,
        search="indexed",
        pair_code=PairCodeFit(params, mean, "random numbers"),
        shortlist=5,
        thresholds={1: 0.1 + 0.2, 10: math.pi},
        fpir_model={10: Calibration(math.pi, 1e-3, 1000, 5000, 0.7, 0.01, 1.0 / 7.0)},
    )


def test_a_profile_reads_back_exactly_as_written(tmp_path: Path) -> None:
    profile = small_profile()
    written = write_profile(profile, tmp_path)
    assert [p.name for p in written] == ["test-engine-v1.json", "test-engine-v1.pair-code-mean.npy"]
    again = read_profile(tmp_path / "test-engine-v1.json")
    assert again == profile
    assert again.pair_code is not None and profile.pair_code is not None
    assert again.pair_code.mean.tobytes() == profile.pair_code.mean.tobytes()
    assert again.thresholds[1] == 0.1 + 0.2 and again.fpir_model[10].tail_mean_excess == 1 / 7
    assert resolve_profile(str(tmp_path / "test-engine-v1.json")) == profile
    first = {p.name: p.read_bytes() for p in written}
    write_profile(again, tmp_path)  # the same profile writes the same bytes
    assert {p.name: p.read_bytes() for p in written} == first


def test_a_profile_differs_when_its_fit_differs() -> None:
    profile = small_profile()
    assert profile.pair_code is not None
    mean = profile.pair_code.mean.copy()
    mean[0] = np.nextafter(mean[0], np.float32(1))
    other = PairCodeFit(profile.pair_code.params, mean, profile.pair_code.fitted_on)
    assert other != profile.pair_code


def test_the_shipped_engines() -> None:
    assert set(shipped_engines()) >= {
        "skeleton-mcc-v1",
        "correlation-baseline-v1",
        "scomm-leader-mcc-v1",
        "scomm-mindtct-mcc-v1",
    }
    for name in shipped_engines():
        assert load_profile(name).name == name


def test_the_demo_engine_builds_from_its_profile() -> None:
    engine = build_engine(load_profile("skeleton-mcc-v1"))
    assert engine.name == "skeleton-mcc-v1"
    assert isinstance(engine.extractor, SkeletonTemplateExtractor)
    assert engine.extractor.extractor.params == SkeletonParams()
    assert engine.extractor.min_minutiae == 6
    assert isinstance(engine.codec, MinutiaeCodec)
    gallery = engine.new_gallery()
    assert isinstance(gallery, IndexedGallery)
    assert gallery.search_engine.thresholds[10] == 2.20
    assert gallery.search_engine.shortlist == 20
    assert gallery.search_engine.matcher.params == GALLERY_MATCHER_PARAMS
    assert gallery.coder is engine.coder and engine.new_gallery() is not gallery
    assert isinstance(engine.new_gallery(thresholds={}), IndexedGallery)


def test_the_baseline_engine_builds_from_its_profile() -> None:
    from scomm.biometrics.baseline import (
        DEFAULT_THRESHOLD,
        CorrelationCodec,
        CorrelationExtractor,
        CorrelationGallery,
    )

    engine = build_engine(load_profile("correlation-baseline-v1"))
    assert isinstance(engine.extractor, CorrelationExtractor)
    assert isinstance(engine.codec, CorrelationCodec)
    gallery = engine.new_gallery()
    assert isinstance(gallery, CorrelationGallery) and gallery.threshold == DEFAULT_THRESHOLD


def test_unknown_and_malformed_names_are_refused() -> None:
    with pytest.raises(UnknownEngine, match="no engine profile named 'nope'.*skeleton-mcc-v1"):
        load_profile("nope")
    with pytest.raises(UnknownEngine, match="not an engine name"):
        load_profile("../etc/passwd")
    with pytest.raises(EngineProfileError, match="no such engine profile"):
        resolve_profile("/nowhere/engine.json")


def corrupt(tmp_path: Path, change: object) -> Path:
    write_profile(small_profile(), tmp_path)
    path = tmp_path / "test-engine-v1.json"
    document = json.loads(path.read_text())
    change(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format=2), "format: 2; this scomm reads format 1"),
        (lambda d: d.update(name="other"), "name: 'other' in a file named for 'test-engine-v1'"),
        (lambda d: d.pop("version"), "version: missing"),
        (lambda d: d.update(version="1"), "version: expected int, got str"),
        (lambda d: d["matcher"]["params"]["lssr"].pop("mu1"), "matcher.params.lssr: missing mu1"),
        (lambda d: d["matcher"]["params"]["cylinder"].update(x=1), "cylinder: unknown x"),
        (lambda d: d["search"]["pair_code"]["params"].update(bits=65), "multiple of 64"),
        (lambda d: d["search"]["pair_code"]["mean"].update(sha256="0"), "match its checksum"),
        (lambda d: d["search"]["pair_code"]["mean"].update(file="../x.npy"), "not a file beside"),
        (lambda d: d["thresholds"].update({"11": 1.0}), "threshold for 11 fingers"),
        (lambda d: d["thresholds"].update({"x": 1.0}), "keys are numbers of fingers"),
        (lambda d: d["extractor"].update(kind="magic"), "unknown extractor 'magic'"),
        (lambda d: d["search"].update(pair_code=None), "needs a pair-code fit"),
        (lambda d: d["extractor"]["settings"].update(x=[1]), "expected a number, text"),
    ],
)
def test_a_corrupt_profile_is_refused_naming_the_field(
    tmp_path: Path, change: object, message: str
) -> None:
    path = corrupt(tmp_path, change)
    with pytest.raises(EngineProfileError, match="engine profile test-engine-v1.json") as caught:
        read_profile(path)
    assert message in str(caught.value)


def test_damaged_files_are_refused(tmp_path: Path) -> None:
    write_profile(small_profile(), tmp_path)
    path = tmp_path / "test-engine-v1.json"
    (tmp_path / "test-engine-v1.pair-code-mean.npy").unlink()
    with pytest.raises(EngineProfileError, match="test-engine-v1.pair-code-mean.npy is missing"):
        read_profile(path)
    path.write_text("{ not json")
    with pytest.raises(EngineProfileError, match="unreadable"):
        read_profile(path)


def test_an_unknown_extractor_setting_is_refused_when_building(tmp_path: Path) -> None:
    profile = small_profile()
    bad = EngineProfile(**{**vars(profile), "extractor": ExtractorSpec("skeleton", {"x": 1})})
    with pytest.raises(EngineProfileError, match="skeleton extractor has no setting x"):
        build_engine(bad)
    one_to_one = EngineProfile(
        **{**vars(profile), "search": "none", "pair_code": None, "thresholds": {}}
    )
    with pytest.raises(EngineProfileError, match="no search stage"):
        build_engine(one_to_one).new_gallery()
