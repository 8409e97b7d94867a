"""The minutiae an engine profile's extractor finds in FVC-style databases, cached on disk.

The profile job (`engine_profiles.real_print_profile`) calibrates thresholds and fits the
pair coder on these; extraction with an accurate extractor costs about a second a print,
so each print's result is kept in a file of its own under the cache folder:
``<cache>/<kind>-<digest>/<database>/<finger>_<impression>.npz``.  The digest covers the
extractor's kind, its settings and its model files (`extractor_digest`) and the extraction
code and its libraries (`extraction_code_digest`), and each file records the SHA-256 of the
image it came from and the resolution it was read at, so that a changed extractor, code,
image or resolution is extracted again; a file that cannot be read is extracted again too.

Extraction is the flow's: the image decoded, resampled to 500 ppi (the database's
MANIFEST.csv gives each image's ppi), the usable-area check, minutiae, the comparable-
minutiae floor (`FingerprintEngine.extract`); a failure to enrol is recorded as such.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scomm.biometrics.images import decode_image
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.profiles import EngineProfile, fingerprint_engine
from scomm.biometrics.profiles.identity import extraction_code_digest, extractor_digest
from scomm.biometrics.protocols import FailureToEnrol
from scomm.sim.bench.verify import Sample, find_databases

CACHE_FORMAT = 2  # 2: the image's declared ppi is part of an entry's key


@dataclass(frozen=True, eq=False)
class Impression:
    """One impression of an FVC database and what the extractor made of it."""

    database: str
    finger: int
    impression: int
    minutiae: Minutiae | None  # None: failed to enrol
    failure: str = ""


Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    del stage, done, total


def cache_folder(cache: Path, profile: EngineProfile) -> Path:
    """The folder of `profile`'s extractor's results under `cache`."""
    key = hashlib.sha256(
        f"{extractor_digest(profile.extractor)}\n{extraction_code_digest()}".encode()
    ).hexdigest()
    return cache / f"{profile.extractor.kind}-{key[:16]}"


def _entry_path(folder: Path, sample: Sample) -> Path:
    return folder / sample.database / f"{sample.finger}_{sample.impression}.npz"


def _save(path: Path, image_sha256: str, source_ppi: int, found: Impression) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    m = found.minutiae
    arrays: dict[str, np.ndarray] = {
        "format": np.array(CACHE_FORMAT),
        "image_sha256": np.array(image_sha256),
        "source_ppi": np.array(source_ppi),
        "failure": np.array(found.failure),
        "enrolled": np.array(m is not None),
    }
    if m is not None:
        arrays |= {
            "x": m.x,
            "y": m.y,
            "angle": m.angle,
            "kind": m.kind,
            "quality": m.quality,
            "size": np.array([m.width, m.height, m.ppi]),
        }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    partial = path.with_suffix(".part")
    partial.write_bytes(buffer.getvalue())
    partial.replace(path)  # a reader never sees half a file


def _load(path: Path, sample: Sample, image_sha256: str) -> Impression | None:
    """The cached result, or None when there is none, it is unreadable or it is stale."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if (
                int(data["format"]) != CACHE_FORMAT
                or str(data["image_sha256"]) != image_sha256
                or int(data["source_ppi"]) != sample.ppi
            ):
                return None
            failure = str(data["failure"])
            if not bool(data["enrolled"]):
                return Impression(sample.database, sample.finger, sample.impression, None, failure)
            width, height, ppi = (int(v) for v in data["size"])
            minutiae = Minutiae(
                data["x"], data["y"], data["angle"], data["kind"], data["quality"],
                width, height, ppi,
            )  # fmt: skip
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile):
        return None
    return Impression(sample.database, sample.finger, sample.impression, minutiae, failure)


def fvc_minutiae(
    data: Path,
    profile: EngineProfile,
    cache: Path | None,
    databases: Sequence[str] | None = None,
    progress: Progress = _quiet,
) -> dict[str, list[Impression]]:
    """{database: impressions in finger, impression order} of `databases` under `data`
    (all when None), through `profile`'s extractor, cached under `cache` (none: no cache)."""
    found = find_databases(data, only=databases)
    engine = fingerprint_engine(profile)
    folder = cache_folder(cache, profile) if cache is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "extractor.json").write_text(
            json.dumps(
                {"kind": profile.extractor.kind, "settings": dict(profile.extractor.settings),
                 "digest": extractor_digest(profile.extractor)},
                indent=2, sort_keys=True,
            ) + "\n",
            encoding="utf-8",
        )  # fmt: skip
    total = sum(len(samples) for samples in found.values())
    done = 0
    out: dict[str, list[Impression]] = {}
    for database, samples in found.items():
        rows: list[Impression] = []
        for sample in samples:
            raw = sample.path.read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            entry = _entry_path(folder, sample) if folder is not None else None
            cached = _load(entry, sample, digest) if entry is not None and entry.is_file() else None
            if cached is None:
                try:
                    template = engine.extract(decode_image(raw), sample.ppi, 0)
                    cached = Impression(
                        database, sample.finger, sample.impression, template.minutiae
                    )
                except FailureToEnrol as error:
                    cached = Impression(database, sample.finger, sample.impression, None,
                                        str(error) or "failed to enrol")  # fmt: skip
                if entry is not None:
                    _save(entry, digest, sample.ppi, cached)
            rows.append(cached)
            done += 1
            progress("extract", done, total)
        out[database] = rows
    return out
