"""The FVC verification benchmark: accuracy and CPU cost of an engine on FVC-style databases.

Layout read: DIR holds database folders (``DB1_B``, ...) of files named
``FINGER_IMPRESSION.ext`` (``101_3.tif``); DIR may hold a ``MANIFEST.csv`` whose ``path``
(relative to the manifest's folder) and ``ppi`` columns give each image's resolution
(images it does not list are taken at ``--ppi``, default 500).  A DIR that directly holds
such files is one database, named after the folder.

Protocol, per database (see `scomm.biometrics.evaluation.fvc_pairs`): genuine = every pair
of impressions of the same finger, impostor = every pair of impressions of different
fingers.  Every image is decoded once, resampled to 500 ppi and extracted once per engine.
A failure to enrol stays in every figure: each comparison involving it gets the lowest
possible score (``-inf``), a false non-match for a genuine pair and never a false match.

Timing is CPU time.  ``extract_ms`` = mean over every image of resampling + extraction
(failed attempts included; file reading and decoding excluded), CPU time of the whole
process (``time.process_time``: an extractor's own threads count); for an engine that times
its usable-area check apart (`extract_timed`), that check is left out of ``extract_ms`` and
reported as ``quality_ms``.  ``compare_us`` = mean
over the comparisons actually run (those involving a failure to enrol are not run), CPU
time of the thread that runs them (``time.thread_time``: the matchers run in it, and an
extractor's idle threads, which may spin for a while after their last image, must not be
charged to them); impostor comparisons per second per core = impostor comparisons run /
their CPU seconds, over all databases.
"""

from __future__ import annotations

import csv
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scomm.biometrics.evaluation import LOWEST_SCORE, eer, fnmr_at_fmr, fvc_pairs
from scomm.biometrics.protocols import FailureToEnrol
from scomm.sim.bench.engines import (
    BENCH_PPI,
    BatchEngine,
    GalleryEngine,
    MinutiaeEngine,
    VerificationEngine,
    to_500_ppi,
)
from scomm.sim.errors import SimulatorError

SAMPLE_NAME = re.compile(r"^(\d+)_(\d+)\.[A-Za-z0-9]+$")
IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".png", ".bmp", ".jpg", ".jpeg", ".wsq", ".pgm"})
MANIFEST = "MANIFEST.csv"
_CHUNK = 64  # comparisons timed together (keeps clock reads and progress updates out)


class BenchError(SimulatorError, ValueError):
    """The input folder cannot be benchmarked as asked (no databases, too few fingers...)."""


@dataclass(frozen=True)
class Sample:
    """One impression file of one database."""

    database: str
    finger: int
    impression: int
    path: Path
    ppi: int = BENCH_PPI

    @property
    def key(self) -> tuple[int, int]:
        return self.finger, self.impression


# --- finding the data -------------------------------------------------------------------


def read_manifest_ppi(root: Path) -> dict[Path, int]:
    """{resolved image path: ppi} from ``root/MANIFEST.csv``; {} without one."""
    manifest = root / MANIFEST
    if not manifest.is_file():
        return {}
    with manifest.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"path", "ppi"} <= set(reader.fieldnames):
            raise BenchError(f"{manifest} needs 'path' and 'ppi' columns")
        return {
            (root / row["path"]).resolve(): round(float(row["ppi"]))
            for row in reader
            if row["path"] and row["ppi"]
        }


def _samples_in(folder: Path, database: str, suffixes: frozenset[str] | None) -> list[Sample]:
    out = []
    for path in sorted(folder.iterdir()):
        match = SAMPLE_NAME.match(path.name)
        if match and path.is_file() and (suffixes is None or path.suffix.lower() in suffixes):
            out.append(Sample(database, int(match[1]), int(match[2]), path))
    return out


def find_databases(
    root: Path,
    *,
    templates: bool = False,
    default_ppi: int = BENCH_PPI,
    only: Sequence[str] | None = None,
    limit_fingers: int | None = None,
) -> dict[str, list[Sample]]:
    """{database name: samples sorted by finger, impression} under `root`.

    Images: files with an image suffix; templates (``templates=True``): files of any
    suffix.  `only` keeps the named databases; `limit_fingers` keeps the first N fingers
    (in id order) of each.  Raises `BenchError` when nothing usable is found.
    """
    if not root.is_dir():
        raise BenchError(f"{root} is not a folder")
    suffixes = None if templates else IMAGE_SUFFIXES
    found = {
        sub.name: samples
        for sub in sorted(p for p in root.iterdir() if p.is_dir())
        if (samples := _samples_in(sub, sub.name, suffixes))
    }
    if not found and (samples := _samples_in(root, root.name, suffixes)):
        found = {root.name: samples}
    if only:
        missing = sorted(set(only) - set(found))
        if missing:
            raise BenchError(f"no database {', '.join(missing)} in {root} (have: {sorted(found)})")
        found = {name: found[name] for name in only}
    if not found:
        raise BenchError(f"no FINGER_IMPRESSION files in {root} or its sub-folders")
    ppi_of = {} if templates else read_manifest_ppi(root)
    out: dict[str, list[Sample]] = {}
    for name, samples in found.items():
        fingers = sorted({s.finger for s in samples})
        keep = set(fingers[:limit_fingers] if limit_fingers else fingers)
        out[name] = [
            Sample(
                s.database,
                s.finger,
                s.impression,
                s.path,
                ppi_of.get(s.path.resolve(), default_ppi),
            )
            for s in samples
            if s.finger in keep
        ]
    return out


def protocol_pairs(
    samples: Sequence[Sample],
) -> tuple[
    list[tuple[tuple[int, int], tuple[int, int]]], list[tuple[tuple[int, int], tuple[int, int]]]
]:
    """The FVC genuine and impostor pairs of one database's samples (keys finger, impression)."""
    impressions: dict[int, list[int]] = {}
    for s in samples:
        impressions.setdefault(s.finger, []).append(s.impression)
    genuine, impostor = fvc_pairs(sorted(impressions), impressions)
    name = samples[0].database if samples else "?"
    if not genuine or not impostor:
        raise BenchError(
            f"database {name} gives {len(genuine)} genuine and {len(impostor)} impostor pairs: "
            "it needs at least two fingers and a finger with two impressions"
        )
    return genuine, impostor


# --- results ----------------------------------------------------------------------------


@dataclass
class DatabaseResult:
    """One engine on one database."""

    eer: float
    fnmr_at_fmr_1e_2: float
    fnmr_at_fmr_1e_3: float
    fte: float  # failures to enrol / images
    genuine: int  # genuine comparisons of the protocol (failures to enrol included)
    impostor: int  # impostor comparisons of the protocol (failures to enrol included)
    extract_ms: float | None
    compare_us: float | None
    failures: int = 0
    quality_ms: float | None = None  # the usable-area check, where the engine times it apart
    impostor_run: int = 0  # impostor comparisons actually run
    impostor_cpu_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "eer": self.eer,
            "fnmr_at_fmr_1e-2": self.fnmr_at_fmr_1e_2,
            "fnmr_at_fmr_1e-3": self.fnmr_at_fmr_1e_3,
            "fte": self.fte,
            "genuine": self.genuine,
            "impostor": self.impostor,
            "extract_ms": _rounded(self.extract_ms, 4),
            "quality_ms": _rounded(self.quality_ms, 4),
            "compare_us": _rounded(self.compare_us, 3),
        }


@dataclass
class EngineReport:
    """One engine on every database."""

    engine: str
    databases: dict[str, DatabaseResult] = field(default_factory=dict)

    @property
    def mean_eer(self) -> float:
        return float(np.mean([r.eer for r in self.databases.values()]))

    @property
    def impostor_compares_per_s_per_core(self) -> float | None:
        runs = sum(r.impostor_run for r in self.databases.values())
        seconds = sum(r.impostor_cpu_s for r in self.databases.values())
        return runs / seconds if runs and seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "databases": {name: r.to_json() for name, r in self.databases.items()},
            "mean_eer": self.mean_eer,
            "impostor_compares_per_s_per_core": _rounded(self.impostor_compares_per_s_per_core, 1),
        }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def bench_json(primary: EngineReport, peers: Iterable[EngineReport] = ()) -> dict[str, Any]:
    """The ``--json`` document: the primary engine's figures, then each peer's, same shape."""
    return {**primary.to_json(), "peers": {p.engine: p.to_json() for p in peers}}


# --- running ----------------------------------------------------------------------------


class _NoProgress:
    """Stands in for a Rich `Progress` when none is shown."""

    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def reset(self, *args: Any, **kwargs: Any) -> None:
        pass

    def advance(self, *args: Any, **kwargs: Any) -> None:
        pass

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass


def _enrol(
    engine: VerificationEngine, sample: Sample, prepared: Any, templates: bool
) -> tuple[object | None, float, float | None]:
    """(template or None for a failure to enrol, CPU seconds of extraction, CPU seconds of
    the quality check when the engine times it apart: `extract_timed`, else None)."""
    start = time.process_time()
    quality_s: float | None = None
    timed = getattr(engine, "extract_timed", None)
    try:
        if prepared is None:
            raise FailureToEnrol("unreadable input")
        if templates:
            template = engine.from_minutiae(prepared)  # type: ignore[attr-defined]
        elif timed is not None:
            template, quality_s = timed(to_500_ppi(prepared, sample.ppi), BENCH_PPI)
        else:
            template = engine.extract(to_500_ppi(prepared, sample.ppi), BENCH_PPI)
    except FailureToEnrol:
        template = None
    total = time.process_time() - start
    return template, total - (quality_s or 0.0), quality_s


def _score_pairs(
    engine: VerificationEngine,
    enrolled: dict[tuple[int, int], object | None],
    pairs: Sequence[tuple[tuple[int, int], tuple[int, int]]],
    progress: Any,
    task: Any,
) -> tuple[np.ndarray, int, float]:
    """(scores, comparisons run, their CPU seconds); LOWEST_SCORE where either side failed."""
    scores = np.full(len(pairs), LOWEST_SCORE, dtype=np.float64)
    if isinstance(engine, GalleryEngine):
        return _score_pairs_gallery(engine, enrolled, pairs, progress, task, scores)
    if isinstance(engine, BatchEngine):
        return _score_pairs_batched(engine, enrolled, pairs, progress, task, scores)
    run, cpu = 0, 0.0
    compare = engine.compare
    for begin in range(0, len(pairs), _CHUNK):
        chunk = pairs[begin : begin + _CHUNK]
        start = time.thread_time()
        for k, (p, q) in enumerate(chunk):
            a, b = enrolled[p], enrolled[q]
            if a is not None and b is not None:
                scores[begin + k] = compare(a, b)
                run += 1
        cpu += time.thread_time() - start
        progress.advance(task, len(chunk))
    return scores, run, cpu


def _score_pairs_batched(
    engine: BatchEngine,
    enrolled: dict[tuple[int, int], object | None],
    pairs: Sequence[tuple[tuple[int, int], tuple[int, int]]],
    progress: Any,
    task: Any,
    scores: np.ndarray,
) -> tuple[np.ndarray, int, float]:
    """As a 1:N search runs: each probe against all its partners in one `compare_many` call
    (the scores equal `compare`'s; the time includes packing the partners)."""
    by_probe: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, (p, q) in enumerate(pairs):
        if enrolled[p] is not None and enrolled[q] is not None:
            by_probe[p].append(index)
    run, cpu = 0, 0.0
    for p, indices in by_probe.items():
        references = [enrolled[pairs[i][1]] for i in indices]
        start = time.thread_time()
        batch = engine.compare_many(enrolled[p], references)
        cpu += time.thread_time() - start
        scores[indices] = batch
        run += len(indices)
        progress.advance(task, len(indices))
    progress.advance(task, len(pairs) - run)  # pairs with a failure to enrol: scored lowest
    return scores, run, cpu


def _score_pairs_gallery(
    engine: GalleryEngine,
    enrolled: dict[tuple[int, int], object | None],
    pairs: Sequence[tuple[tuple[int, int], tuple[int, int]]],
    progress: Any,
    task: Any,
    scores: np.ndarray,
) -> tuple[np.ndarray, int, float]:
    """As a 1:N search runs: every enrolled template is packed once (the gallery's load
    step, not timed), then each probe is scored against its partners in the packed gallery."""
    keys = [k for k, t in enrolled.items() if t is not None]
    row = {k: i for i, k in enumerate(keys)}
    packed = engine.pack([enrolled[k] for k in keys])
    by_probe: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, (p, q) in enumerate(pairs):
        if p in row and q in row:
            by_probe[p].append(index)
    run, cpu = 0, 0.0
    for p, indices in by_probe.items():
        select = np.array([row[pairs[i][1]] for i in indices], dtype=np.int64)
        start = time.thread_time()
        batch = engine.compare_packed(enrolled[p], packed, select)
        cpu += time.thread_time() - start
        scores[indices] = batch
        run += len(indices)
        progress.advance(task, len(indices))
    progress.advance(task, len(pairs) - run)  # pairs with a failure to enrol: scored lowest
    return scores, run, cpu


def evaluate_database(
    engine: VerificationEngine,
    samples: Sequence[Sample],
    prepared: dict[tuple[int, int], Any],
    *,
    templates: bool = False,
    progress: Any = None,
    label: str = "",
) -> DatabaseResult:
    """Run the FVC protocol of one database with one engine on already decoded inputs.

    `prepared` maps (finger, impression) to a grey image (or, with ``templates=True``, the
    record's `Minutiae`), or None when the file could not be read (a failure to enrol).
    """
    progress = progress or _NoProgress()
    genuine_pairs, impostor_pairs = protocol_pairs(samples)
    task = progress.add_task(f"{label} extract", total=len(samples))
    enrolled: dict[tuple[int, int], object | None] = {}
    extract_cpu = quality_cpu = 0.0
    quality_timed = 0
    for sample in samples:
        enrolled[sample.key], seconds, quality = _enrol(
            engine, sample, prepared[sample.key], templates
        )
        extract_cpu += seconds
        if quality is not None:
            quality_cpu += quality
            quality_timed += 1
        progress.advance(task)
    progress.update(task, visible=False)
    failures = sum(t is None for t in enrolled.values())
    task = progress.add_task(f"{label} compare", total=len(genuine_pairs) + len(impostor_pairs))
    gen, gen_run, gen_cpu = _score_pairs(engine, enrolled, genuine_pairs, progress, task)
    imp, imp_run, imp_cpu = _score_pairs(engine, enrolled, impostor_pairs, progress, task)
    progress.update(task, visible=False)
    runs = gen_run + imp_run
    return DatabaseResult(
        eer=eer(gen, imp),
        fnmr_at_fmr_1e_2=fnmr_at_fmr(gen, imp, 1e-2),
        fnmr_at_fmr_1e_3=fnmr_at_fmr(gen, imp, 1e-3),
        fte=failures / len(samples),
        genuine=len(genuine_pairs),
        impostor=len(impostor_pairs),
        extract_ms=1e3 * extract_cpu / len(samples),
        quality_ms=1e3 * quality_cpu / quality_timed if quality_timed else None,
        compare_us=1e6 * (gen_cpu + imp_cpu) / runs if runs else None,
        failures=failures,
        impostor_run=imp_run,
        impostor_cpu_s=imp_cpu,
    )


def _read_minutiae(path: Path) -> Any:
    from scomm.biometrics.minutiae_records import read_record  # written alongside; lazy

    record = read_record(path.read_bytes())
    if not record.views:
        raise FailureToEnrol("the record holds no finger view")
    return record.views[0].minutiae


def prepare_inputs(
    samples: Sequence[Sample], *, templates: bool = False, warn: Callable[[str], None] = print
) -> dict[tuple[int, int], Any]:
    """Decode each file once: grey image (or the record's minutiae); None if unreadable."""
    from scomm.biometrics.images import ImageDecodeError, decode_image

    out: dict[tuple[int, int], Any] = {}
    for sample in samples:
        try:
            if templates:
                out[sample.key] = _read_minutiae(sample.path)
            else:
                out[sample.key] = decode_image(sample.path.read_bytes())
        except ImportError:
            raise
        except (ImageDecodeError, OSError) as exc:
            warn(f"{sample.path}: unreadable, counted as a failure to enrol ({exc})")
            out[sample.key] = None
        except Exception as exc:  # any reader error on a record: that record failed to enrol
            if not templates:
                raise
            warn(f"{sample.path}: unreadable record, counted as a failure to enrol ({exc!r})")
            out[sample.key] = None
    return out


def run_benchmark(
    databases: dict[str, list[Sample]],
    engines: Sequence[VerificationEngine],
    *,
    templates: bool = False,
    console: Console | None = None,
    show_progress: bool = True,
) -> list[EngineReport]:
    """Every engine on every database (decoding each file once); one report per engine."""
    if templates:
        for engine in engines:
            if not isinstance(engine, MinutiaeEngine):
                raise BenchError(
                    f"engine {engine.name!r} cannot compare minutiae (no from_minutiae); "
                    "the --templates track needs one that can"
                )
    console = console or Console(stderr=True)
    reports = [EngineReport(engine.name) for engine in engines]
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        for name, samples in databases.items():
            protocol_pairs(samples)  # fail early, before any work
            prepared = prepare_inputs(
                samples, templates=templates, warn=lambda m: console.print(f"[yellow]{m}")
            )
            for engine, report in zip(engines, reports, strict=True):
                report.databases[name] = evaluate_database(
                    engine,
                    samples,
                    prepared,
                    templates=templates,
                    progress=progress,
                    label=f"{name} {engine.name}",
                )
    return reports


def _pct(value: float) -> str:
    return f"{100 * value:.2f}"


def results_table(reports: Sequence[EngineReport], title: str) -> Table:
    """A Rich table: one row per engine and database, then each engine's mean EER and
    impostor comparisons per second per core.  Error rates in percent."""
    table = Table(title=title, box=box.SIMPLE_HEAD, caption="error rates in %; CPU times")
    columns = (
        ("engine", "left"),
        ("DB", "left"),
        ("EER", "right"),
        ("FNMR@1%", "right"),
        ("FNMR@0.1%", "right"),
        ("FTE", "right"),
        ("gen", "right"),
        ("imp", "right"),
        ("extract ms", "right"),
        ("quality ms", "right"),
        ("compare µs", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for report in reports:
        for name, r in report.databases.items():
            table.add_row(
                report.engine,
                name,
                _pct(r.eer),
                _pct(r.fnmr_at_fmr_1e_2),
                _pct(r.fnmr_at_fmr_1e_3),
                _pct(r.fte),
                str(r.genuine),
                str(r.impostor),
                "-" if r.extract_ms is None else f"{r.extract_ms:.1f}",
                "-" if r.quality_ms is None else f"{r.quality_ms:.1f}",
                "-" if r.compare_us is None else f"{r.compare_us:.1f}",
            )
        rate = report.impostor_compares_per_s_per_core
        table.add_row(
            f"[bold]{report.engine}",
            "[bold]mean",
            f"[bold]{_pct(report.mean_eer)}",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "-" if rate is None else f"{rate:,.0f} imp/s",
            end_section=True,
        )
    return table
