"""The composition root picks its engine by name, loads it from its profile, fits nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from scomm.biometrics.index.gallery import IndexedGallery
from scomm.biometrics.profiles import (
    BASELINE_ENGINE,
    EngineProfileError,
    UnknownEngine,
    load_profile,
)
from scomm.config import DEFAULT_ENGINE, Settings
from scomm.domain.clock import ScenarioClock
from scomm.system import System

START = datetime(2012, 1, 1)


def system(tmp_path: Path, **settings: str) -> System:
    return System(Settings(database_url=f"sqlite:///{tmp_path / 'scomm.db'}", **settings),
                  ScenarioClock(START))  # fmt: skip


def test_the_default_engine_is_the_shipped_real_print_profile(tmp_path: Path) -> None:
    built = system(tmp_path)
    try:
        assert built.ctx.engine_name == DEFAULT_ENGINE == "scomm-mcc-v2"
        gallery = built.ctx.criminal_gallery
        assert isinstance(gallery, IndexedGallery)
        fit = load_profile(DEFAULT_ENGINE).pair_code
        assert fit is not None and gallery.coder.mean.tobytes() == fit.mean.tobytes()
        assert built.ctx.immigration_gallery is not gallery
        # one WSQ decode cache per system, shared by the actors that read a booking's images
        caches = {id(h.ctx.decoded_images) for h in built.dispatcher.handlers.values()}
        assert caches == {id(built.ctx.decoded_images)}
    finally:
        built.close()


def test_the_engine_is_chosen_by_name(tmp_path: Path) -> None:
    built = system(tmp_path, engine=BASELINE_ENGINE)
    try:
        assert built.ctx.engine_name == BASELINE_ENGINE
        assert type(built.ctx.criminal_gallery).__name__ == "CorrelationGallery"
    finally:
        built.close()


def test_an_unknown_or_one_to_one_engine_stops_the_start_before_the_database(
    tmp_path: Path,
) -> None:
    with pytest.raises(UnknownEngine, match="no engine profile named 'nope'"):
        system(tmp_path, engine="nope")
    with pytest.raises(EngineProfileError, match="no search stage"):
        system(tmp_path, engine="scomm-mindtct-mcc-v1")
    assert not (tmp_path / "scomm.db").exists()
