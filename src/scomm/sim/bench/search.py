"""``scomm bench search``: 1:N identification on a synthetic template gallery.

The engine is an engine profile's search (by default the engine the flow runs,
`scomm.config.DEFAULT_ENGINE`): its pair coder (parameters and fitted mean), its matcher
parameters, its shortlist (unless the run names one) and, beside the thresholds the run
calibrates for its own gallery, the profile's threshold for the number of fingers.

The gallery holds `identities` synthetic people (`scomm.sim.synth.minutiae_sets`), each with a
rolled impression of the benchmark's finger positions (10: all; 2: both index fingers;
1: the right index).  Probes are another rolled impression: half of them of enrolled people
(mated), half of people never enrolled (non-mated).

Figures:
- fnir_at_fpir: the share of mated probes whose mate is not the top candidate at or above
  the threshold calibrated for that FPIR (`calibration.calibrate`, from fused scores of
  separate non-mated calibration pairs, extrapolated to the gallery's size); the observed
  FPIR of the non-mated probes at that threshold is reported next to it.
- exhaustive_fnir_at_fpir: the same matcher without the first stage: a mated probe is
  missed when its mate's fused score is below the threshold or below the best impostor the
  search scored (a lower bound of the best impostor an exhaustive scan would find).
- latency_ms: wall-clock time of each search (probe coding included, probe extraction not).
- bytes_per_finger: the gallery's arrays in memory over the enrolled fingers.
- enrol_identities_per_s: `FingerArrays.enrol_batch` from ready templates (minutiae and
  their pair code, which is made once per template when it is extracted or generated), a
  thousand identities per call, timed on 20,000 identities; code_templates_per_s: making
  those codes.
- load_s: opening the gallery's snapshot (memory-mapped) and touching every code.
- speedup_vs_exhaustive: re-scoring every identity, timed on a sample and scaled to the
  gallery, over the two-stage median latency.
- extra.profile: the profile's own threshold for this number of fingers (from its FPIR
  model on real prints) with the FNIR and observed FPIR it gives here.

Galleries are cached under --cache (a folder per configuration), so a second run loads
instead of generating.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scomm.biometrics.index.calibration import Calibration, calibrate
from scomm.biometrics.index.finger_arrays import FingerArrays, identity_ids
from scomm.biometrics.index.pair_code import PairCoder
from scomm.biometrics.index.two_stage import TwoStageSearch
from scomm.biometrics.match import MccMatcher
from scomm.biometrics.minutiae_batch import MinutiaeBatch
from scomm.biometrics.profiles import EngineProfile, EngineProfileError, resolve_profile
from scomm.biometrics.profiles.identity import profile_digest
from scomm.config import DEFAULT_ENGINE
from scomm.sim.synth import minutiae_sets

POSITIONS: dict[int, tuple[int, ...]] = {10: tuple(range(1, 11)), 2: (2, 7), 1: (2,)}
FPIRS = (1e-3, 1e-4)
ENROLMENT = 1  # impression numbers: the gallery's, the probes', the calibration probes'
PROBE = 2  # identity numbers below keep the populations apart
CALIBRATION_IDENTITY = 800_000_000
NON_MATED_IDENTITY = 700_000_000


@dataclass(frozen=True)
class SearchBenchConfig:
    identities: int
    probes: int = 200
    fingers: int = 10
    seed: int = 1
    shortlist: int | None = None  # None: the profile's
    calibration_pairs: int = 10_000
    exhaustive_sample: int = 2_000
    chunk: int = 10_000
    cache: Path | None = None
    engine: str = DEFAULT_ENGINE  # a shipped profile's name or a profile file

    def __post_init__(self) -> None:
        if self.fingers not in POSITIONS:
            raise ValueError(f"--fingers must be one of {sorted(POSITIONS)}, got {self.fingers}")
        if self.identities < 2 or self.probes < 2:
            raise ValueError("need at least 2 identities and 2 probes")

    def profile(self) -> EngineProfile:
        """The engine profile searched; ValueError when it has no indexed search."""
        profile = resolve_profile(self.engine)
        if profile.search != "indexed" or profile.pair_code is None:
            raise EngineProfileError(
                f"engine {profile.name!r} has no indexed search (search: {profile.search})"
            )
        return profile

    def shortlist_of(self, profile: EngineProfile) -> int:
        return profile.shortlist if self.shortlist is None else self.shortlist

    @property
    def positions(self) -> tuple[int, ...]:
        return POSITIONS[self.fingers]

    def gallery_key(self, profile: EngineProfile) -> str:
        text = json.dumps(
            [
                self.identities,
                self.fingers,
                self.seed,
                profile_digest(profile),
                repr(minutiae_sets.DEFAULT_PARAMS),
                "v2",
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class SearchBenchReport:
    identities: int
    fingers: int
    probes: int
    fnir_at_fpir: dict[str, float]
    observed_fpir: dict[str, float]
    exhaustive_fnir_at_fpir: dict[str, float]
    thresholds: dict[str, float]
    latency_ms: dict[str, float]
    stage_ms: dict[str, float]
    bytes_per_finger: float
    enrol_identities_per_s: float
    code_templates_per_s: float
    load_s: float
    speedup_vs_exhaustive: float
    shortlist: int
    rank1_in_shortlist: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[str, int, int], None]


def fpir_key(fpir: float) -> str:
    """'1e-3' for 0.001: the JSON keys of the rates."""
    mantissa, exponent = f"{fpir:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _quiet(stage: str, done: int, total: int) -> None:
    del stage, done, total


# --- gallery -------------------------------------------------------------------------------


def build_gallery(
    config: SearchBenchConfig, coder: PairCoder, progress: Progress = _quiet
) -> FingerArrays:
    """The configuration's gallery: rolled impressions of identities 0..N-1, coded."""
    arrays = FingerArrays(coder.params.words, config.identities, 416, 560, minutiae_per_finger=64)
    for begin in range(0, config.identities, config.chunk):
        people = np.arange(begin, min(begin + config.chunk, config.identities))
        batch = minutiae_sets.generate_impressions(
            config.seed, people, config.positions, ENROLMENT, kind="rolled"
        )
        arrays.enrol_batch(identity_ids("S", people), batch, coder.encode(batch),
                           config.positions)  # fmt: skip
        progress("build gallery", int(people[-1]) + 1, config.identities)
    return arrays


def measure_enrolment(
    config: SearchBenchConfig, coder: PairCoder, sample: int = 20_000
) -> tuple[float, float]:
    """(identities enrolled per second from ready templates, pair codes made per second),
    timed on `sample` identities enrolled into an empty gallery."""
    people = np.arange(min(sample, config.identities))
    batch = minutiae_sets.generate_impressions(
        config.seed, people, config.positions, ENROLMENT, kind="rolled"
    )
    coder.encode(batch.slice(0, 8))  # compiled already; keep the first call out of the time
    start = time.perf_counter()
    codes = coder.encode(batch)
    code_s = time.perf_counter() - start
    # sized for the sample, as a loader that knows what it loads would size it
    arrays = FingerArrays(coder.params.words, len(people), 416, 560, minutiae_per_finger=64)
    ids = identity_ids("S", people)
    start = time.perf_counter()
    for begin in range(0, len(people), 1_000):  # as a loader would: a thousand at a time
        end = min(begin + 1_000, len(people))
        n = len(config.positions)
        arrays.enrol_batch(ids[begin:end], batch.slice(begin * n, end * n),
                           codes[begin * n : end * n], config.positions)  # fmt: skip
    enrol_s = time.perf_counter() - start
    return len(people) / max(enrol_s, 1e-9), len(batch) / max(code_s, 1e-9)


def profile_coder(profile: EngineProfile) -> PairCoder:
    """The pair coder of an indexed profile (its parameters and fitted mean)."""
    fit = profile.pair_code
    if fit is None:
        raise EngineProfileError(f"engine {profile.name!r} has no pair coder")
    return PairCoder(fit.params, fit.mean)


def open_gallery(
    config: SearchBenchConfig, progress: Progress = _quiet
) -> tuple[FingerArrays, PairCoder, dict[str, float]]:
    """The configuration's gallery: built (and saved to the cache) if need be, then loaded
    back from its snapshot, so that the load time is measured every run."""
    profile = config.profile()
    folder = (config.cache or Path(".scomm-cache")) / f"search-{config.gallery_key(profile)}"
    figures: dict[str, float] = {}
    coder = profile_coder(profile)
    if not (folder / "header.json").exists():
        arrays = build_gallery(config, coder, progress)
        arrays.save(folder, {"coder_mean": coder.mean.tolist()})
        del arrays
    start = time.perf_counter()
    arrays, meta = FingerArrays.load(folder, mmap=True)
    stored = np.array(meta["coder_mean"], dtype=np.float32)
    if not np.array_equal(stored, coder.mean):  # the key covers it; a hand-copied folder not
        raise EngineProfileError(f"{folder}: the snapshot's pair coder is not {profile.name}'s")
    _touch(arrays)
    figures["load_s"] = time.perf_counter() - start
    figures["enrol_rate"], figures["code_rate"] = measure_enrolment(config, coder)
    return arrays, coder, figures


def _touch(arrays: FingerArrays) -> None:
    """Read every page of the codes and masks, as the first search would."""
    step = max(1, 4096 // max(1, arrays.codes.strides[0]))
    int(arrays.codes[::step, 0, 0].sum()) + int(arrays.present.sum())


# --- scoring pairs ---------------------------------------------------------------------------


def fused_pair_scores(
    search: TwoStageSearch, probe: dict[int, Any], slots: np.ndarray
) -> np.ndarray:
    """Fused matcher score of `probe` against each identity slot (sum over shared fingers)."""
    scores = search.rescore(probe, slots)
    fused: np.ndarray = np.where(scores >= 0, scores, 0.0).sum(axis=1)
    return fused


def _probe(batch: MinutiaeBatch, person: int, positions: Sequence[int]) -> dict[int, Any]:
    n = len(positions)
    return {p: batch[person * n + k] for k, p in enumerate(positions)}


def calibration_scores(
    config: SearchBenchConfig, search: TwoStageSearch, rng: np.random.Generator
) -> np.ndarray:
    """Fused scores of non-mated (calibration probe, gallery identity) pairs."""
    per_probe = 50
    people = max(1, config.calibration_pairs // per_probe)
    ids = np.arange(CALIBRATION_IDENTITY, CALIBRATION_IDENTITY + people)
    batch = minutiae_sets.generate_impressions(
        config.seed, ids, config.positions, PROBE, kind="rolled"
    )
    scores = []
    for i in range(people):
        slots = rng.choice(search.arrays.slots, size=min(per_probe, search.arrays.slots),
                           replace=False)  # fmt: skip
        scores.append(fused_pair_scores(search, _probe(batch, i, config.positions), slots))
    return np.concatenate(scores)


# --- the run ---------------------------------------------------------------------------------


def run_search_bench(config: SearchBenchConfig, progress: Progress = _quiet) -> SearchBenchReport:
    rng = np.random.default_rng(config.seed)
    profile = config.profile()
    arrays, coder, gallery_figures = open_gallery(config, progress)
    assert profile.matcher_params is not None  # an indexed profile has them
    matcher = MccMatcher(profile.matcher_params)
    shortlist = config.shortlist_of(profile)
    search = TwoStageSearch(arrays, coder, matcher, shortlist=shortlist)
    positions = config.positions

    impostor = calibration_scores(config, search, rng)
    calibrations: dict[str, Calibration] = {
        fpir_key(fpir): calibrate(impostor, config.identities, fpir) for fpir in FPIRS
    }
    search.thresholds = {len(positions): calibrations[fpir_key(FPIRS[0])].threshold}

    mated_n = config.probes // 2
    mates = np.sort(rng.choice(config.identities, size=mated_n, replace=False))
    strangers = np.arange(NON_MATED_IDENTITY, NON_MATED_IDENTITY + config.probes - mated_n)
    mated_batch = minutiae_sets.generate_impressions(
        config.seed, mates, positions, PROBE, kind="rolled"
    )
    stranger_batch = minutiae_sets.generate_impressions(
        config.seed, strangers, positions, PROBE, kind="rolled"
    )
    warm = _probe(mated_batch, 0, positions)
    search.search(warm) if len(positions) > 1 else search.search_finger(warm[positions[0]],
                                                                       positions[0])  # fmt: skip

    latencies: list[float] = []
    stages: dict[str, float] = {}
    mated_rows: list[tuple[str, float, float, float, bool]] = []
    best_non_mated: list[float] = []
    in_shortlist = 0
    total = config.probes
    for i in range(total):
        mated = i < mated_n
        probe = _probe(mated_batch if mated else stranger_batch, i if mated else i - mated_n,
                       positions)  # fmt: skip
        start = time.perf_counter()
        if len(positions) > 1:
            result = search.search(probe)
        else:
            result = search.search_finger(probe[positions[0]], positions[0])
        latencies.append((time.perf_counter() - start) * 1e3)
        for name, ms in result.timings_ms.items():
            stages[name] = stages.get(name, 0.0) + ms
        best = result.best
        if mated:
            mate = f"S{int(mates[i]):07d}"
            found = [h for h in result.hits if h.identity_id == mate]
            mate_score = (
                found[0].score
                if found
                else float(fused_pair_scores(search, probe, np.array([arrays.slot_of(mate)]))[0])
            )
            impostor_best = max(
                (h.score for h in result.hits if h.identity_id != mate), default=-np.inf
            )
            in_shortlist += bool(found)
            top = best.identity_id if best else ""
            mated_rows.append((top, best.score if best else -np.inf, mate_score,
                               impostor_best, top == mate))  # fmt: skip
        else:
            best_non_mated.append(best.score if best else -np.inf)
        progress("search", i + 1, total)

    fnir, observed, exhaustive, thresholds = {}, {}, {}, {}
    for key, cal in calibrations.items():
        t = cal.threshold
        thresholds[key] = t
        fnir[key] = float(np.mean([not (ok and score >= t) for _, score, _, _, ok in mated_rows]))
        exhaustive[key] = float(np.mean([ms < t or imp > ms for _, _, ms, imp, _ in mated_rows]))
        observed[key] = float(np.mean([s >= t for s in best_non_mated]))
    own = profile.thresholds.get(len(positions))
    model = profile.fpir_model.get(len(positions))
    profile_figures: dict[str, Any] = {"engine": profile.name, "threshold": own}
    if own is not None:
        profile_figures |= {
            "fnir": float(
                np.mean([not (ok and score >= own) for _, score, _, _, ok in mated_rows])
            ),
            "observed_fpir": float(np.mean([s >= own for s in best_non_mated])),
            "model_gallery_size": model.gallery_size if model else None,
            "model_fpir": model.fpir if model else None,
        }

    exhaustive_ms = _exhaustive_ms_per_identity(config, search, mated_batch, rng)
    lat = np.array(latencies)
    p50 = float(np.percentile(lat, 50))
    fingers_enrolled = max(1, arrays.fingers_enrolled())
    return SearchBenchReport(
        identities=config.identities,
        fingers=config.fingers,
        probes=config.probes,
        fnir_at_fpir=fnir,
        observed_fpir=observed,
        exhaustive_fnir_at_fpir=exhaustive,
        thresholds=thresholds,
        latency_ms={"p50": p50, "p99": float(np.percentile(lat, 99)), "mean": float(lat.mean())},
        stage_ms={k: v / total for k, v in stages.items()},
        bytes_per_finger=arrays.nbytes() / fingers_enrolled,
        enrol_identities_per_s=gallery_figures["enrol_rate"],
        code_templates_per_s=gallery_figures["code_rate"],
        load_s=gallery_figures["load_s"],
        speedup_vs_exhaustive=exhaustive_ms * config.identities / p50,
        shortlist=shortlist,
        rank1_in_shortlist=in_shortlist / max(1, mated_n),
        extra={
            "profile": profile_figures,
            "calibration": {k: c.to_json() for k, c in calibrations.items()},
            "exhaustive_ms_per_identity": exhaustive_ms,
            "minutiae_per_finger": float(arrays.rows_used / fingers_enrolled),
            "mate_score": _spread([ms for _, _, ms, _, _ in mated_rows]),
            "best_non_mated_score": _spread(best_non_mated),
        },
    )


def _spread(values: Sequence[float]) -> dict[str, float]:
    v = np.array(values, dtype=np.float64)
    if not len(v):
        return {}
    return {"min": float(v.min()), "p1": float(np.percentile(v, 1)),
            "median": float(np.median(v)), "max": float(v.max())}  # fmt: skip


def _exhaustive_ms_per_identity(
    config: SearchBenchConfig,
    search: TwoStageSearch,
    batch: MinutiaeBatch,
    rng: np.random.Generator,
) -> float:
    """Milliseconds to re-score one identity without the first stage (decode, prepare,
    compare every finger), timed on a sample."""
    sample = min(config.exhaustive_sample, search.arrays.slots)
    slots = np.sort(rng.choice(search.arrays.slots, size=sample, replace=False))
    probe = _probe(batch, 0, config.positions)
    start = time.perf_counter()
    fused_pair_scores(search, probe, slots)
    return (time.perf_counter() - start) * 1e3 / sample


def search_table(report: SearchBenchReport) -> Any:
    """A Rich table of the report's figures."""
    from rich.table import Table  # noqa: PLC0415

    engine = report.extra.get("profile", {}).get("engine", "?")
    table = Table(
        title=f"1:N search ({engine}): {report.identities:,} identities x "
        f"{report.fingers} fingers, {report.probes} probes (half mated), "
        f"shortlist {report.shortlist}"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in report.fnir_at_fpir:
        table.add_row(f"FNIR at FPIR {key}", f"{report.fnir_at_fpir[key]:.2%}")
        table.add_row("  exhaustive, same matcher", f"{report.exhaustive_fnir_at_fpir[key]:.2%}")
        table.add_row("  observed FPIR (non-mated)", f"{report.observed_fpir[key]:.2%}")
        table.add_row("  threshold", f"{report.thresholds[key]:.3f}")
    own = report.extra.get("profile", {})
    if own.get("threshold") is not None:
        table.add_row(f"FNIR at {own['engine']}'s threshold", f"{own['fnir']:.2%}")
        table.add_row("  observed FPIR (non-mated)", f"{own['observed_fpir']:.2%}")
        table.add_row("  threshold (profile)", f"{own['threshold']:.3f}")
    table.add_row("mate in shortlist", f"{report.rank1_in_shortlist:.2%}")
    table.add_row("latency p50 / p99 (ms)",
                  f"{report.latency_ms['p50']:.0f} / {report.latency_ms['p99']:.0f}")  # fmt: skip
    for name, ms in report.stage_ms.items():
        table.add_row(f"  {name} (mean ms)", f"{ms:.1f}")
    table.add_row("bytes per finger (RAM)", f"{report.bytes_per_finger:.0f}")
    table.add_row("enrolment (identities/s)", f"{report.enrol_identities_per_s:,.0f}")
    table.add_row("pair codes (templates/s)", f"{report.code_templates_per_s:,.0f}")
    table.add_row("snapshot load (s)", f"{report.load_s:.2f}")
    table.add_row("speed-up vs exhaustive", f"{report.speedup_vs_exhaustive:,.0f}x")
    return table
