from pathlib import Path

import pytest

from scomm.config import DEFAULT_DATABASE_URL, DEFAULT_ENGINE, Settings, load_settings


def test_defaults_then_environment_then_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCOMM_DATABASE_URL", raising=False)
    monkeypatch.delenv("SCOMM_DATA_DIR", raising=False)
    monkeypatch.delenv("SCOMM_ENGINE", raising=False)
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.engine == DEFAULT_ENGINE
    assert settings.data_dir.parts[-2:] == ("shared", "data")
    monkeypatch.setenv("SCOMM_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("SCOMM_DATA_DIR", "/somewhere/data")
    monkeypatch.setenv("SCOMM_ENGINE", "correlation-baseline-v1")
    settings = load_settings(seed=7)
    assert settings.engine == "correlation-baseline-v1"
    assert settings.database_url == "sqlite:///x.db"
    assert settings.data_dir == Path("/somewhere/data")
    assert settings.seed == 7
    assert load_settings(database_url="sqlite:///y.db").database_url == "sqlite:///y.db"
    assert load_settings(engine="my-engine").engine == "my-engine"


def test_cache_folder_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SCOMM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert load_settings().cache_dir == tmp_path / "xdg" / "scomm"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert load_settings().cache_dir == tmp_path / "home" / ".cache" / "scomm"
    monkeypatch.setenv("SCOMM_CACHE_DIR", str(tmp_path / "mine"))
    assert load_settings().cache_dir == tmp_path / "mine"
    monkeypatch.setenv("SCOMM_CACHE_DIR", "off")
    assert load_settings().cache_dir is None
    assert Settings().cache_dir is None  # a system built in code keeps nothing unless told
