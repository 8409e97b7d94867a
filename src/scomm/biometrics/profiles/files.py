"""Engine profiles on disk: `<name>.json` for the values, `<name>.pair-code-mean.npy` beside it.

The JSON holds every scalar (extractor settings, matcher parameters, shortlist, thresholds
by number of fingers, FPIR model) in full, so that a profile means the same whatever the
code's defaults become; floats are written as Python's shortest repr, which reads back to
the same float64.  Fitted arrays go in NumPy's `.npy` format (raw little-endian values, no
pickle), named and checksummed (SHA-256 of the file) in the JSON.  The profiles scomm ships
are package data in `scomm/biometrics/profiles/data/`, chosen by name (`load_profile`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from scomm.biometrics.index.calibration import Calibration
from scomm.biometrics.index.pair_code import PairCodeParams
from scomm.biometrics.match import ConsolidationParams, CylinderParams, LssrParams, MccParams
from scomm.biometrics.profiles.model import (
    EngineProfile,
    EngineProfileError,
    ExtractorSpec,
    PairCodeFit,
    UnknownEngine,
)

PROFILE_FORMAT = 1  # the layout of the JSON; a reader refuses a layout it does not know
SHIPPED = "data"  # the package folder holding the shipped profiles
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")

_D = TypeVar("_D")


def shipped_profiles() -> Traversable:
    return files("scomm.biometrics.profiles") / SHIPPED


def shipped_engines() -> tuple[str, ...]:
    """Names of the profiles that ship with scomm, sorted."""
    return tuple(
        sorted(
            p.name[: -len(".json")]
            for p in shipped_profiles().iterdir()
            if p.name.endswith(".json")
        )
    )


def load_profile(name: str) -> EngineProfile:
    """The shipped profile `name`; `UnknownEngine` (listing the shipped ones) when none."""
    if not _NAME.match(name):
        raise UnknownEngine(f"{name!r} is not an engine name (lower case, digits, '.' and '-')")
    folder = shipped_profiles()
    if not (folder / f"{name}.json").is_file():
        known = ", ".join(shipped_engines()) or "none"
        raise UnknownEngine(f"no engine profile named {name!r} (shipped: {known})")
    return _read(folder, name)


def resolve_profile(engine: str) -> EngineProfile:
    """An engine by name, or by the path of a profile file when `engine` ends in .json."""
    if engine.endswith(".json"):
        return read_profile(Path(engine))
    return load_profile(engine)


def read_profile(path: Path) -> EngineProfile:
    """The profile in `path` (a `<name>.json`; its arrays beside it)."""
    if path.suffix != ".json":
        raise EngineProfileError(f"{path}: an engine profile is a .json file")
    if not path.is_file():
        raise EngineProfileError(f"{path}: no such engine profile")
    return _read(path.parent, path.stem)


def write_profile(profile: EngineProfile, folder: Path) -> list[Path]:
    """Write `profile` into `folder` (created if needed); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    arrays: dict[str, bytes] = {}
    if profile.pair_code is not None:
        arrays[_mean_file(profile.name)] = _npy_bytes(profile.pair_code.mean)
    for file_name, data in arrays.items():
        (folder / file_name).write_bytes(data)
        written.append(folder / file_name)
    document = profile_document(profile, {k: _sha256(v) for k, v in arrays.items()})
    path = folder / f"{profile.name}.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    written.insert(0, path)
    return written


def profile_document(profile: EngineProfile, checksums: Mapping[str, str]) -> dict[str, Any]:
    """The JSON document of `profile` (`checksums`: SHA-256 of each array file by name)."""
    if not _NAME.match(profile.name):
        raise EngineProfileError(f"{profile.name!r} is not an engine name")
    pair_code: dict[str, Any] | None = None
    if profile.pair_code is not None:
        mean_file = _mean_file(profile.name)
        pair_code = {
            "params": dataclasses.asdict(profile.pair_code.params),
            "fitted_on": profile.pair_code.fitted_on,
            "mean": {"file": mean_file, "sha256": checksums[mean_file]},
        }
    params = profile.matcher_params
    return {
        "format": PROFILE_FORMAT,
        "name": profile.name,
        "version": profile.version,
        "description": profile.description,
        "produced_by": profile.produced_by,
        "extractor": {"kind": profile.extractor.kind, "settings": dict(profile.extractor.settings)},
        "matcher": {
            "kind": profile.matcher,
            "params": None if params is None else dataclasses.asdict(params),
        },
        "search": {"kind": profile.search, "shortlist": profile.shortlist, "pair_code": pair_code},
        "thresholds": {str(n): float(t) for n, t in sorted(profile.thresholds.items())},
        "fpir_model": {str(n): c.to_json() for n, c in sorted(profile.fpir_model.items())},
    }


def _mean_file(name: str) -> str:
    return f"{name}.pair-code-mean.npy"


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- reading ------------------------------------------------------------------------------


class _Reader:
    """Reads one profile document, naming the file and the field in every error."""

    def __init__(self, folder: Traversable, name: str) -> None:
        self.folder = folder
        self.where = f"engine profile {name}.json"

    def fail(self, field: str, why: str) -> EngineProfileError:
        return EngineProfileError(f"{self.where}: {field}: {why}")

    def table(self, data: object, field: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(field, f"expected an object, got {type(data).__name__}")
        return data

    def need(self, data: dict[str, Any], key: str, kind: type[_D], field: str = "") -> _D:
        path = f"{field}.{key}" if field else key
        if key not in data:
            raise self.fail(path, "missing")
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(path, f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    def dataclass(self, cls: type[_D], data: object, field: str) -> _D:
        """`cls` from exactly its fields (a profile says every value; no default fills in)."""
        table = self.table(data, field)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        if missing := names - set(table):
            raise self.fail(field, f"missing {', '.join(sorted(missing))}")
        if unknown := set(table) - names:
            raise self.fail(field, f"unknown {', '.join(sorted(unknown))}")
        try:
            return cls(**table)
        except (TypeError, ValueError) as error:
            raise self.fail(field, str(error)) from error

    def bytes_of(self, file_name: str, field: str) -> bytes:
        if "/" in file_name or "\\" in file_name or file_name.startswith("."):
            raise self.fail(field, f"{file_name!r} is not a file beside the profile")
        source = self.folder / file_name
        if not source.is_file():
            raise self.fail(field, f"{file_name} is missing")
        return source.read_bytes()


def _read(folder: Traversable, name: str) -> EngineProfile:
    reader = _Reader(folder, name)
    try:
        document = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EngineProfileError(f"{reader.where}: unreadable ({error})") from error
    doc = reader.table(document, "(document)")
    if (found := doc.get("format")) != PROFILE_FORMAT:
        raise reader.fail("format", f"{found!r}; this scomm reads format {PROFILE_FORMAT}")
    if (stated := reader.need(doc, "name", str)) != name:
        raise reader.fail("name", f"{stated!r} in a file named for {name!r}")
    extractor = reader.table(doc.get("extractor"), "extractor")
    settings = reader.table(extractor.get("settings", {}), "extractor.settings")
    for key, value in settings.items():
        if not isinstance(value, int | float | str | bool):
            raise reader.fail(f"extractor.settings.{key}", "expected a number, text or boolean")
    matcher = reader.table(doc.get("matcher"), "matcher")
    raw_params = matcher.get("params")
    search = reader.table(doc.get("search"), "search")
    thresholds = reader.table(doc.get("thresholds", {}), "thresholds")
    fpir = reader.table(doc.get("fpir_model", {}), "fpir_model")
    try:
        return EngineProfile(
            name=name,
            version=reader.need(doc, "version", int),
            description=reader.need(doc, "description", str),
            produced_by=reader.need(doc, "produced_by", str),
            extractor=ExtractorSpec(reader.need(extractor, "kind", str, "extractor"), settings),  # type: ignore[arg-type]
            matcher=reader.need(matcher, "kind", str, "matcher"),  # type: ignore[arg-type]
            matcher_params=None if raw_params is None else _mcc_params(reader, raw_params),
            search=reader.need(search, "kind", str, "search"),  # type: ignore[arg-type]
            pair_code=_pair_code(reader, search.get("pair_code")),
            shortlist=reader.need(search, "shortlist", int, "search"),
            thresholds={
                _count(reader, key, "thresholds"): reader.need(thresholds, key, float, "thresholds")
                for key in thresholds
            },
            fpir_model={
                _count(reader, key, "fpir_model"): reader.dataclass(
                    Calibration, value, f"fpir_model.{key}"
                )
                for key, value in fpir.items()
            },
        )
    except EngineProfileError as error:
        if str(error).startswith(reader.where):
            raise
        raise EngineProfileError(f"{reader.where}: {error}") from error


def _count(reader: _Reader, key: str, field: str) -> int:
    if not key.isdigit():
        raise reader.fail(f"{field}.{key}", "keys are numbers of fingers")
    return int(key)


def _mcc_params(reader: _Reader, data: object) -> MccParams:
    table = reader.table(data, "matcher.params")
    names = {f.name for f in dataclasses.fields(MccParams)}
    if set(table) != names:
        raise reader.fail("matcher.params", f"expected exactly {', '.join(sorted(names))}")
    return MccParams(
        cylinder=reader.dataclass(CylinderParams, table["cylinder"], "matcher.params.cylinder"),
        lssr=reader.dataclass(LssrParams, table["lssr"], "matcher.params.lssr"),
        consolidation=reader.dataclass(
            ConsolidationParams, table["consolidation"], "matcher.params.consolidation"
        ),
        ppi=reader.need(table, "ppi", int, "matcher.params"),
    )


def _pair_code(reader: _Reader, data: object) -> PairCodeFit | None:
    if data is None:
        return None
    table = reader.table(data, "search.pair_code")
    params = reader.dataclass(PairCodeParams, table.get("params"), "search.pair_code.params")
    mean_ref = reader.table(table.get("mean"), "search.pair_code.mean")
    file_name = reader.need(mean_ref, "file", str, "search.pair_code.mean")
    raw = reader.bytes_of(file_name, "search.pair_code.mean.file")
    if _sha256(raw) != reader.need(mean_ref, "sha256", str, "search.pair_code.mean"):
        raise reader.fail("search.pair_code.mean", f"{file_name} does not match its checksum")
    try:
        mean = np.load(io.BytesIO(raw), allow_pickle=False)
    except (OSError, ValueError) as error:
        raise reader.fail("search.pair_code.mean", f"{file_name}: {error}") from error
    return PairCodeFit(params, mean, reader.need(table, "fitted_on", str, "search.pair_code"))
