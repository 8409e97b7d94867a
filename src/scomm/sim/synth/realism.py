"""Synthetic impressions against real prints: minutiae, NFIQ 2 and score distributions.

The real side is FVC2002 DB1-3 (optical and capacitive sensors); DB4, made with SFinGe, is
measured too but reported apart and never pooled with the real ones.  The synthetic side is
plain impressions (`impression_image.impression`) of index and middle fingers (as FVC2002
took), cut into databases of ten fingers with the same number of impressions each.  Every
image goes through one scomm engine (`FingerprintEngine(extractor)`: LEADER or MINDTCT
minutiae, the MCC matcher); the FVC protocol (`evaluation.fvc_pairs`: every pair of
impressions of a finger, every impression against every impression of each other finger
of its database) gives the genuine and impostor scores.  Each distribution is compared with
the two-sample Kolmogorov-Smirnov statistic (the largest gap between the two empirical
CDFs).  The real images' features can be cached (`cache`), the synthetic ones are always
made anew, since they change with the generator.

Public API:
    RealismOptions, Distribution, RealismReport
    run_realism(options, progress=None) -> RealismReport
    ks_statistic(a, b) -> float
    report_markdown(report) -> str
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scomm.biometrics.engine import FingerprintEngine, FingerTemplate
from scomm.biometrics.evaluation import fvc_pairs
from scomm.biometrics.images import decode_image
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.protocols import FailureToEnrol
from scomm.biometrics.quality import Nfiq2Scorer, QualityError
from scomm.biometrics.resample import to_500_ppi
from scomm.sim.errors import SimulatorError
from scomm.sim.synth.impression_image import PLAIN_IMAGE, ImpressionImageParams, impression
from scomm.sim.synth.minutiae_params import MasterParams
from scomm.sim.synth.ridge_master import (
    DEFAULT_MASTER_PARAMS,
    DEFAULT_RIDGE_PARAMS,
    RidgeParams,
    make_master,
)

__all__ = [
    "EXTRACTORS",
    "Distribution",
    "RealismOptions",
    "RealismReport",
    "ks_statistic",
    "report_markdown",
    "run_realism",
]

EXTRACTORS = ("leader", "mindtct")
REAL_DATABASES = ("DB1_B", "DB2_B", "DB3_B")
SFINGE_DATABASE = "DB4_B"
SYNTHETIC_FINGERS = (2, 3, 7, 8)  # index and middle fingers of both hands, as in FVC2002
FINGERS_PER_DATABASE = 10
GOALS = {"impostor": 0.15, "genuine": 0.2}

Progress = Callable[[str, int], None]  # (stage, images done in this call)


class RealismError(SimulatorError, ValueError):
    """The real-data folder cannot be used as asked."""


@dataclass(frozen=True)
class RealismOptions:
    """What to compare (sizes are the knobs of the run time).

    real: the FVC2002 folder (DB1_B ... DB4_B, MANIFEST.csv with each image's ppi).
    extractor: "leader" (accurate, about 1 s an image) or "mindtct" (about 0.1 s).
    synthetic_fingers: synthetic fingers (a multiple of 10 makes whole databases).
    impressions: impressions per finger, real and synthetic (FVC2002 has 8).
    real_fingers: fingers per real database (at most 10).
    nfiq2: compute NFIQ 2 (about 0.1 s an image).  seed: the synthetic fingers' seed.
    cache: folder for the real images' features (None: no cache).
    plain, ridge, master: the generator's parameters (the defaults are what is checked).
    """

    real: Path
    extractor: str = "leader"
    synthetic_fingers: int = 20
    impressions: int = 8
    real_fingers: int = 10
    nfiq2: bool = True
    seed: int = 2002
    cache: Path | None = None
    plain: ImpressionImageParams = PLAIN_IMAGE
    ridge: RidgeParams = DEFAULT_RIDGE_PARAMS
    master: MasterParams = DEFAULT_MASTER_PARAMS

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTORS:
            raise ValueError(f"extractor must be one of {EXTRACTORS}, got {self.extractor!r}")
        if self.synthetic_fingers < 2 or not 2 <= self.impressions <= 8:
            raise ValueError("need at least 2 synthetic fingers and 2-8 impressions")
        if not 2 <= self.real_fingers <= 10:
            raise ValueError("real_fingers must be 2-10")


@dataclass
class Distribution:
    """Summary of one sample of values."""

    n: int
    mean: float
    sd: float
    p05: float
    p50: float
    p95: float

    @classmethod
    def of(cls, values: np.ndarray) -> Distribution:
        v = np.asarray(values, np.float64)
        if v.size == 0:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"), float("nan"))
        p05, p50, p95 = (float(x) for x in np.percentile(v, [5, 50, 95]))
        return cls(int(v.size), float(v.mean()), float(v.std()), p05, p50, p95)


@dataclass
class SampleSet:
    """The measures of one set of images (real, synthetic or DB4)."""

    name: str
    images: int = 0
    failures_to_enrol: int = 0
    minutiae: list[int] = field(default_factory=list)
    nfiq2: list[int] = field(default_factory=list)
    genuine: list[float] = field(default_factory=list)
    impostor: list[float] = field(default_factory=list)
    impostor_lssr: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "minutiae": np.asarray(self.minutiae, np.float64),
            "nfiq2": np.asarray(self.nfiq2, np.float64),
            "genuine": np.asarray(self.genuine, np.float64),
            "impostor": np.asarray(self.impostor, np.float64),
            "impostor_lssr": np.asarray(self.impostor_lssr, np.float64),
        }


@dataclass
class RealismReport:
    """Every set's summaries and the KS statistics of synthetic (and DB4) against real."""

    options: dict[str, object]
    sets: dict[str, dict[str, object]]
    ks: dict[str, dict[str, float]]
    goals: dict[str, float]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs
    (nan when a sample is empty)."""
    x, y = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    if x.size == 0 or y.size == 0:
        return float("nan")
    points = np.concatenate([x, y])
    fx = np.searchsorted(x, points, side="right") / x.size
    fy = np.searchsorted(y, points, side="right") / y.size
    return float(np.max(np.abs(fx - fy)))


# --- measuring a set of images -----------------------------------------------------------

# One image to measure: (database, finger, impression, loader of the 500 ppi grey image,
# cache file or None).
_Item = tuple[str, int, int, Callable[[], np.ndarray], Path | None]


def _minutiae_arrays(m: Minutiae) -> dict[str, np.ndarray]:
    return {
        "x": m.x,
        "y": m.y,
        "angle": m.angle,
        "kind": m.kind,
        "quality": m.quality,
        "size": np.array([m.width, m.height, m.ppi]),
    }


def _features(
    engine: FingerprintEngine, image: np.ndarray, nfiq2: Nfiq2Scorer | None
) -> tuple[Minutiae | None, int | None]:
    """Minutiae (None: failure to enrol) and NFIQ 2 (None: not computed or failed)."""
    score = None
    if nfiq2 is not None:
        try:
            score = nfiq2.score(image)
        except (QualityError, ValueError):
            score = None
    try:
        template = engine.extract(image, 500)
    except FailureToEnrol:
        return None, score
    return template.minutiae, score


def _cached(
    engine: FingerprintEngine, item: _Item, nfiq2: Nfiq2Scorer | None
) -> tuple[Minutiae | None, int | None]:
    _, _, _, load, cache = item
    if cache is not None and cache.is_file():
        z = np.load(cache)
        score = int(z["nfiq2"]) if int(z["nfiq2"]) >= 0 else None
        if not bool(z["enrolled"]):
            return None, score
        w, h, ppi = (int(v) for v in z["size"])
        return Minutiae(z["x"], z["y"], z["angle"], z["kind"], z["quality"], w, h, ppi), score
    minutiae, score = _features(engine, load(), nfiq2)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = _minutiae_arrays(minutiae) if minutiae is not None else {}
        arrays["enrolled"] = minutiae is not None
        arrays["nfiq2"] = -1 if score is None else score
        np.savez(cache, **arrays)
    return minutiae, score


def _measure(
    name: str,
    items: list[_Item],
    engine: FingerprintEngine,
    nfiq2: Nfiq2Scorer | None,
    progress: Progress | None,
) -> SampleSet:
    out = SampleSet(name)
    start = time.perf_counter()
    templates: dict[str, dict[tuple[int, int], FingerTemplate | None]] = {}
    for item in items:
        database, finger, number = item[0], item[1], item[2]
        minutiae, score = _cached(engine, item, nfiq2)
        out.images += 1
        if score is not None:
            out.nfiq2.append(score)
        template = None
        if minutiae is not None:
            out.minutiae.append(len(minutiae))
            try:
                template = engine.from_minutiae(minutiae)
            except FailureToEnrol:
                template = None
        if template is None:
            out.failures_to_enrol += 1
        templates.setdefault(database, {})[(finger, number)] = template
        if progress:
            progress(name, 1)
    for per_db in templates.values():
        fingers = sorted({f for f, _ in per_db})
        numbers = {f: sorted(n for g, n in per_db if g == f) for f in fingers}
        genuine, impostor = fvc_pairs(fingers, numbers)
        for pairs, scores in ((genuine, out.genuine), (impostor, out.impostor)):
            for a, b in pairs:
                ta, tb = per_db[a], per_db[b]
                # a failure to enrol scores 0, as the FVC protocol counts it (an error)
                scores.append(0.0 if ta is None or tb is None else engine.compare(ta, tb))
        for a, b in impostor:  # the LSS-R score, which the consolidation gate leaves mostly 0
            ta, tb = per_db[a], per_db[b]
            lssr = 0.0 if ta is None or tb is None else engine.explain(ta, tb).lssr_score
            out.impostor_lssr.append(lssr)
    out.seconds = time.perf_counter() - start
    return out


# --- the sets ----------------------------------------------------------------------------


def _real_items(options: RealismOptions, databases: tuple[str, ...]) -> list[_Item]:
    from scomm.sim.bench.verify import BenchError, find_databases

    try:
        found = find_databases(
            options.real, only=list(databases), limit_fingers=options.real_fingers
        )
    except BenchError as exc:
        raise RealismError(str(exc)) from exc
    items: list[_Item] = []
    for database, samples in found.items():
        for s in samples:
            if s.impression > options.impressions:
                continue

            def load(path: Path = s.path, ppi: int = s.ppi) -> np.ndarray:
                return to_500_ppi(decode_image(path.read_bytes()), ppi)

            cache = None
            if options.cache is not None:
                cache = (
                    options.cache / options.extractor / f"{database}_{s.finger}_{s.impression}.npz"
                )
            items.append((database, s.finger, s.impression, load, cache))
    return items


def synthetic_fingers(count: int) -> Iterator[tuple[int, int, int]]:
    """(database number, identity, finger position) of synthetic finger k = 0..count-1."""
    for k in range(count):
        yield (
            k // FINGERS_PER_DATABASE,
            k // len(SYNTHETIC_FINGERS),
            SYNTHETIC_FINGERS[k % len(SYNTHETIC_FINGERS)],
        )


def _synthetic_items(options: RealismOptions) -> list[_Item]:
    items: list[_Item] = []
    for k, (db, identity, finger) in enumerate(synthetic_fingers(options.synthetic_fingers)):
        for number in range(options.impressions):

            def load(
                identity: int = identity, finger: int = finger, number: int = number
            ) -> np.ndarray:
                master = make_master(options.seed, identity, finger, options.ridge, options.master)
                return impression(master, number, "plain", options.plain)

            items.append((f"SYN{db + 1}", k, number, load, None))
    return items


def measure_sets(
    options: RealismOptions, names: tuple[str, ...], progress: Progress | None = None
) -> dict[str, SampleSet]:
    """The named sets ("real", "db4_sfinge", "synthetic") measured as `options` says."""
    if not options.real.is_dir():
        raise RealismError(f"real-data folder {options.real} not found")
    engine = FingerprintEngine(options.extractor)  # type: ignore[arg-type]
    makers = {
        "real": lambda: _real_items(options, REAL_DATABASES),
        "db4_sfinge": lambda: _real_items(options, (SFINGE_DATABASE,)),
        "synthetic": lambda: _synthetic_items(options),
    }
    nfiq2 = Nfiq2Scorer() if options.nfiq2 else None  # one for every set: made once
    return {n: _measure(n, makers[n](), engine, nfiq2, progress) for n in names}


def run_realism(options: RealismOptions, progress: Progress | None = None) -> RealismReport:
    """Measure the real, the DB4 and the synthetic sets and compare them."""
    sets = measure_sets(options, ("real", "db4_sfinge", "synthetic"), progress)
    real = sets["real"].arrays()
    ks: dict[str, dict[str, float]] = {}
    for other in ("synthetic", "db4_sfinge"):
        arrays = sets[other].arrays()
        ks[other] = {key: ks_statistic(arrays[key], real[key]) for key in real}
    summary: dict[str, dict[str, object]] = {}
    for name, s in sets.items():
        arrays = s.arrays()
        summary[name] = {
            "images": s.images,
            "failures_to_enrol": s.failures_to_enrol,
            "seconds": round(s.seconds, 1),
            **{key: asdict(Distribution.of(values)) for key, values in arrays.items()},
        }
    opts = {
        k: str(v) if isinstance(v, Path) else v
        for k, v in asdict(options).items()
        if k not in ("plain", "ridge", "master")
    }
    opts["engine"] = f"scomm-{options.extractor}-mcc-v1"  # FingerprintEngine.name
    return RealismReport(opts, summary, ks, dict(GOALS))


def image_count(options: RealismOptions) -> int:
    """How many images `run_realism` will measure (for a progress bar)."""
    real = len(_real_items(options, REAL_DATABASES)) + len(_real_items(options, (SFINGE_DATABASE,)))
    return real + options.synthetic_fingers * options.impressions


# --- the report --------------------------------------------------------------------------


def _row(label: str, d: dict[str, object]) -> str:
    def f(key: str) -> str:
        v = d[key]
        assert isinstance(v, float | int)
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    return (
        f"| {label} | {d['n']} | {f('mean')} | {f('sd')} | {f('p05')} | {f('p50')} | {f('p95')} |"
    )


_MEASURES = (
    ("minutiae", "Minutiae per image"),
    ("nfiq2", "NFIQ 2 quality"),
    ("genuine", "Genuine scores"),
    ("impostor", "Impostor scores"),
    (
        "impostor_lssr",
        "Impostor LSS-R scores (before the consolidation gate, which scores most impostors 0)",
    ),
)


def report_markdown(report: RealismReport) -> str:
    """The report as Markdown: options, one table per measure, KS statistics and goals."""
    o = report.options
    lines = [
        "# Synthetic fingerprints against FVC2002",
        "",
        f"Engine `{o['engine']}` (extractor **{o['extractor']}**, scomm's MCC matcher); "
        f"real: FVC2002 DB1-3 B from `{o['real']}`, {o['real_fingers']} fingers x "
        f"{o['impressions']} impressions per database; synthetic: {o['synthetic_fingers']} "
        f"fingers x {o['impressions']} plain impressions (seed {o['seed']}). DB4 (SFinGe, "
        "itself synthetic) is reported apart and not pooled with the real sets.",
        "",
        "| set | images | failures to enrol | seconds |",
        "|---|---|---|---|",
    ]
    for name, s in report.sets.items():
        lines.append(f"| {name} | {s['images']} | {s['failures_to_enrol']} | {s['seconds']} |")
    for key, title in _MEASURES:
        lines += ["", f"## {title}", "", "| set | n | mean | sd | p05 | median | p95 |"]
        lines.append("|---|---|---|---|---|---|---|")
        for name, s in report.sets.items():
            d = s[key]
            assert isinstance(d, dict)
            lines.append(_row(name, d))
        lines.append("")
        lines.append(
            f"KS against real: synthetic **{report.ks['synthetic'][key]:.3f}**, "
            f"DB4 (SFinGe) {report.ks['db4_sfinge'][key]:.3f}"
        )
    lines += ["", "## Goals", "", "| distribution | KS synthetic vs real | goal | met |"]
    lines.append("|---|---|---|---|")
    for key, goal in report.goals.items():
        value = report.ks["synthetic"][key]
        lines.append(f"| {key} | {value:.3f} | <= {goal} | {'yes' if value <= goal else 'no'} |")
    return "\n".join(lines) + "\n"
