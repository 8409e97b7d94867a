"""Configuration in one place: defaults, overridden by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from scomm.domain.policies import SimulatedOfficerPolicy
from scomm.domain.removals import RemovalPolicy
from scomm.domain.safeguards import Safeguards
from scomm.errors import ScommError

DEFAULT_DATABASE_URL = "sqlite:///demo-out/scomm.db"
# The fingerprint engine the system runs: a profile shipped in scomm/biometrics/profiles/data
# (or the path of a profile file ending in .json).  The engine calibrated on real prints
# (FVC2002); "skeleton-mcc-v1", fitted on synthetic prints only, stays an option.
DEFAULT_ENGINE = "scomm-mcc-v2"
# A signed checkpoint of the audit chain's head at least every this many entries (and at the
# end of every run): see scomm.audit.checkpoints.
DEFAULT_CHECKPOINT_EVERY = 1000


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
    # What ICE and the immigration court do after a transfer (scomm.services.removals)
    removal_policy: RemovalPolicy = field(default_factory=RemovalPolicy)
    # Matches wait for a person's decision (POST /v1/ero/matches/{case}/decision) instead of
    # the simulated officer's; `load_settings` reads SCOMM_OFFICER_REVIEW (1/true/yes).
    officer_review: bool = False
    safeguards: Safeguards = field(default_factory=Safeguards)
    # Anchoring the audit chain (scomm.audit.checkpoints): the Ed25519 private key that signs
    # checkpoints and the file they are appended to, both outside the database; nothing is
    # signed without a key. The public key verifiers use (default: the private key's).
    audit_key: Path | None = None
    audit_public_key: Path | None = None
    checkpoint_log: Path | None = None
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    # A shell command run with each new checkpoint's JSON line on stdin (an external
    # transparency log, say); a failure is logged and reported, the local line kept.
    checkpoint_hook: str | None = None
    # Where runs keep what they may reuse (a world's enrolment templates, keyed by engine
    # version); None keeps nothing.  `load_settings` gives SCOMM_CACHE_DIR ("off": none),
    # by default ~/.cache/scomm.
    cache_dir: Path | None = None
    # The service (`scomm serve`): the Ed25519 private key (PEM) that signs its access
    # tokens; None: `api-key.pem` beside a SQLite database, made on the first start.
    api_key: Path | None = None
    # The published public pages (`scomm stats site --out DIR`) that the service serves at
    # /public/ without a login; None: none published (404). `load_settings` reads
    # SCOMM_PUBLIC_DIR.
    public_dir: Path | None = None


def load_settings(**overrides: object) -> Settings:
    """Settings from `SCOMM_DATABASE_URL`, `SCOMM_DATA_DIR`, `SCOMM_ENGINE`, the anchoring
    ones (`SCOMM_AUDIT_KEY`, `SCOMM_AUDIT_PUBLIC_KEY`, `SCOMM_CHECKPOINT_LOG`,
    `SCOMM_CHECKPOINT_EVERY`, `SCOMM_CHECKPOINT_HOOK`), `SCOMM_CACHE_DIR`, `SCOMM_API_KEY`,
    `SCOMM_OFFICER_REVIEW`, `SCOMM_PUBLIC_DIR`,
    then explicit overrides."""
    env: dict[str, object] = {}
    if url := os.environ.get("SCOMM_DATABASE_URL"):
        env["database_url"] = url
    if data := os.environ.get("SCOMM_DATA_DIR"):
        env["data_dir"] = Path(data)
    if engine := os.environ.get("SCOMM_ENGINE"):
        env["engine"] = engine
    for variable, name in (
        ("SCOMM_AUDIT_KEY", "audit_key"),
        ("SCOMM_AUDIT_PUBLIC_KEY", "audit_public_key"),
        ("SCOMM_CHECKPOINT_LOG", "checkpoint_log"),
        ("SCOMM_API_KEY", "api_key"),
        ("SCOMM_PUBLIC_DIR", "public_dir"),
    ):
        if path := os.environ.get(variable):
            env[name] = Path(path)
    if every := os.environ.get("SCOMM_CHECKPOINT_EVERY"):
        env["checkpoint_every"] = checkpoint_every(every)
    if hook := os.environ.get("SCOMM_CHECKPOINT_HOOK"):
        env["checkpoint_hook"] = hook
    if review := os.environ.get("SCOMM_OFFICER_REVIEW"):
        env["officer_review"] = review.strip().lower() in ("1", "true", "yes")
    env["cache_dir"] = cache_dir(os.environ.get("SCOMM_CACHE_DIR"))
    env.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**env)  # type: ignore[arg-type]


def cache_dir(configured: str | None) -> Path | None:
    """`SCOMM_CACHE_DIR`: a folder, or "off" for none; unset: $XDG_CACHE_HOME/scomm or
    ~/.cache/scomm."""
    if configured is not None and configured.strip():
        return None if configured.strip().lower() == "off" else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "scomm"


def checkpoint_every(text: str) -> int:
    """`SCOMM_CHECKPOINT_EVERY`: a whole number of entries, at least 1."""
    value = text.strip()
    if (
        not (value.isascii() and value.isdigit() and len(value) <= 10)
        or not 1 <= int(value) <= 10**9
    ):
        raise ScommError(  # the root: the command line reports it in one line, exit 2
            f"SCOMM_CHECKPOINT_EVERY={text!r} is not a number of entries from 1 to 10^9"
        )
    return int(value)
