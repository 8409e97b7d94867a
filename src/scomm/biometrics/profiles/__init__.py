"""Engines as data: versioned profiles (one file per engine) and the factory that builds them.

`load_profile(name)` reads a shipped profile, `build_engine(profile)` gives its extractor,
codec and empty galleries.  Profiles are written by jobs of the simulator and the benches
(`scomm.sim.bench.engine_profiles`), never fitted at start-up.
"""

from scomm.biometrics.profiles.factory import Engine, build_engine, fingerprint_engine
from scomm.biometrics.profiles.files import (
    PROFILE_FORMAT,
    load_profile,
    read_profile,
    resolve_profile,
    shipped_engines,
    write_profile,
)
from scomm.biometrics.profiles.model import (
    EngineProfile,
    EngineProfileError,
    ExtractorSpec,
    PairCodeFit,
    UnknownEngine,
)
from scomm.biometrics.profiles.names import (
    BASELINE_ENGINE,
    DEMO_ENGINE,
    LEADER_ENGINE,
    MINDTCT_ENGINE,
    MINUNET_ENGINE,
    REAL_PRINT_ENGINE,
)

__all__ = [
    "BASELINE_ENGINE",
    "DEMO_ENGINE",
    "LEADER_ENGINE",
    "MINDTCT_ENGINE",
    "MINUNET_ENGINE",
    "REAL_PRINT_ENGINE",
    "PROFILE_FORMAT",
    "Engine",
    "EngineProfile",
    "EngineProfileError",
    "ExtractorSpec",
    "PairCodeFit",
    "UnknownEngine",
    "build_engine",
    "fingerprint_engine",
    "load_profile",
    "read_profile",
    "resolve_profile",
    "shipped_engines",
    "write_profile",
]
