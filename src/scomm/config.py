"""Configuration in one place: defaults, overridden by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from scomm.domain.policies import SimulatedOfficerPolicy
from scomm.domain.safeguards import Safeguards

DEFAULT_DATABASE_URL = "sqlite:///demo-out/scomm.db"
# The fingerprint engine the system runs: a profile shipped in scomm/biometrics/profiles/data
# (or the path of a profile file ending in .json).  The demo's engine, fitted and calibrated
# on synthetic prints, until an engine calibrated on real prints ships.
DEFAULT_ENGINE = "skeleton-mcc-v1"


@dataclass(frozen=True)
class Delays:
    """How long each actor takes to act, on scenario time."""

    sib_forward: timedelta = timedelta(minutes=5)
    cjis_search: timedelta = timedelta(minutes=20)
    ident_search: timedelta = timedelta(minutes=10)
    lesc_research: timedelta = timedelta(hours=2)
    ero_decision: timedelta = timedelta(hours=4)
    lea_response: timedelta = timedelta(minutes=30)
    pickup_min: timedelta = timedelta(hours=4)
    pickup_max: timedelta = timedelta(hours=90)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # ../shared/data beside the checkout (src/scomm/config.py -> repository -> its parent)
    data_dir: Path = Path(__file__).resolve().parents[3] / "shared" / "data"
    seed: int = 1
    engine: str = DEFAULT_ENGINE
    delays: Delays = field(default_factory=Delays)
    officer_policy: SimulatedOfficerPolicy = field(default_factory=SimulatedOfficerPolicy)
    safeguards: Safeguards = field(default_factory=Safeguards)


def load_settings(**overrides: object) -> Settings:
    """Settings from `SCOMM_DATABASE_URL`, `SCOMM_DATA_DIR` and `SCOMM_ENGINE`, then explicit
    overrides."""
    env: dict[str, object] = {}
    if url := os.environ.get("SCOMM_DATABASE_URL"):
        env["database_url"] = url
    if data := os.environ.get("SCOMM_DATA_DIR"):
        env["data_dir"] = Path(data)
    if engine := os.environ.get("SCOMM_ENGINE"):
        env["engine"] = engine
    env.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**env)  # type: ignore[arg-type]
