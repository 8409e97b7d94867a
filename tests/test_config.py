from pathlib import Path

import pytest

from scomm.config import DEFAULT_DATABASE_URL, load_settings


def test_defaults_then_environment_then_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCOMM_DATABASE_URL", raising=False)
    monkeypatch.delenv("SCOMM_DATA_DIR", raising=False)
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.data_dir.parts[-2:] == ("shared", "data")
    monkeypatch.setenv("SCOMM_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("SCOMM_DATA_DIR", "/somewhere/data")
    settings = load_settings(seed=7)
    assert settings.database_url == "sqlite:///x.db"
    assert settings.data_dir == Path("/somewhere/data")
    assert settings.seed == 7
    assert load_settings(database_url="sqlite:///y.db").database_url == "sqlite:///y.db"
