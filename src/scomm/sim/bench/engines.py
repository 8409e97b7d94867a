"""The engines the verification benchmark can run, behind one small interface.

An engine turns a grey 500 ppi image into a template (`extract`) and scores two templates
(`compare`, higher = more alike).  Engines that can also match minutiae read from an
interchange record (ISO/IEC 19794-2) implement `from_minutiae`, which the matcher-only
track (`scomm bench verify --templates`) uses.

The engines a run can choose from are an `EngineRegistry` that the caller builds
(`bench_engines()` gives the standard one; `with_engine` a copy with one more): "scomm" (the
default engine, `scomm.config.DEFAULT_ENGINE`: the profile the flow's repositories and
`scomm bench search` run, `scomm-mcc-v2`), "scomm-leader" and "scomm-fast" (scomm's engine
on LEADER or MINDTCT minutiae, from their shipped 1:1 profiles `scomm-leader-mcc-v1` and
`scomm-mindtct-mcc-v1`), "baseline" (scomm's correlation engine) and "nbis" (NIST's
mindtct + bozorth3 through nbis-py, the peer).  The default is "scomm" when the registry
has it, "baseline" otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import numpy as np

from scomm.biometrics import resample
from scomm.biometrics.extract_nbis import MindtctError, MindtctExtractor
from scomm.biometrics.profiles import LEADER_ENGINE, MINDTCT_ENGINE, MINUNET_ENGINE
from scomm.biometrics.protocols import FailureToEnrol
from scomm.config import DEFAULT_ENGINE

if TYPE_CHECKING:
    from scomm.biometrics.minutiae import Minutiae

BENCH_PPI = 500  # every image is resampled to this before extraction


@runtime_checkable
class VerificationEngine(Protocol):
    """What the benchmark needs of an engine."""

    name: str

    def extract(self, image: np.ndarray, ppi: int) -> object:
        """Template of a grey uint8 HxW image; raises `FailureToEnrol` when it cannot."""
        ...

    def compare(self, a: object, b: object) -> float:
        """Similarity of two templates of this engine; higher means more alike."""
        ...


@runtime_checkable
class MinutiaeEngine(VerificationEngine, Protocol):
    """An engine that can also compare minutiae read from an interchange record."""

    def from_minutiae(self, minutiae: Minutiae) -> object:
        """Template of already-extracted minutiae; raises `FailureToEnrol` when unusable."""
        ...


def to_500_ppi(image: np.ndarray, ppi: int) -> np.ndarray:
    """`image` (grey uint8) resampled from `ppi` to 500 ppi; unchanged when already 500."""
    return resample.to_500_ppi(image, ppi)


def resampler_name() -> str:
    return "scomm.biometrics.resample.to_500_ppi"


@runtime_checkable
class BatchEngine(VerificationEngine, Protocol):
    """An engine that scores one probe against many references at once, as a 1:N search
    does; the benchmark then measures impostor throughput on that path."""

    def compare_many(self, probe: object, references: Sequence[object]) -> np.ndarray:
        """`compare(probe, r)` for every r, in order."""
        ...


@runtime_checkable
class GalleryEngine(BatchEngine, Protocol):
    """A batch engine whose references can be packed once, as a 1:N gallery is at load
    time; the benchmark then times only the comparisons, not the packing."""

    def pack(self, references: Sequence[object]) -> object:
        """The references in the engine's search layout."""
        ...

    def compare_packed(self, probe: object, packed: object, select: np.ndarray) -> np.ndarray:
        """`compare(probe, references[i])` for each i in `select`, in that order."""
        ...


# --- engines ----------------------------------------------------------------------------


class BaselineEngine:
    """scomm's correlation engine (`scomm.biometrics.baseline`): score in [-1, 1]."""

    name = "baseline"

    def __init__(self) -> None:
        from scomm.biometrics.baseline import CorrelationExtractor, CorrelationMatcher

        self._extractor = CorrelationExtractor()
        self._matcher = CorrelationMatcher()

    def extract(self, image: np.ndarray, ppi: int) -> object:
        return self._extractor.extract(image, ppi, 0)

    def compare(self, a: object, b: object) -> float:
        return self._matcher.compare(a, b)  # type: ignore[arg-type]


# nbis-py's ISO 19794-2 reader (`load_iso_19794_2_2005`) does not read standard records:
# it gives no minutiae for them.  It reads what its own `to_iso_19794_2_2005` writes: the
# 2005 record header up to the y resolution (22 bytes), then a 4-byte finger view header
# (three zero bytes and the minutia count) instead of the standard 6 bytes (number of
# views, reserved, finger position, view/impression, quality, count), then the usual
# 6 bytes per minutia, and no extended-data length.  `_nbis_record` writes that layout.
_NBIS_VIEW_HEADER = bytes(3)


def _nbis_record(minutiae: Minutiae) -> bytes:
    """`minutiae` (at 500 ppi) in the record layout nbis-py's reader accepts (see above)."""
    n = len(minutiae)
    if n > 255:
        raise FailureToEnrol(f"{n} minutiae: more than a record holds (255)")
    x = np.clip(np.rint(minutiae.x), 0, 0x3FFF).astype(np.uint16)
    y = np.clip(np.rint(minutiae.y), 0, 0x3FFF).astype(np.uint16)
    angle = np.rint(minutiae.angle.astype(np.float64) * (256.0 / (2.0 * math.pi))).astype(int)
    body = bytearray()
    for k in range(n):
        kind = int(minutiae.kind[k]) & 0x3
        body += int((kind << 14) | int(x[k])).to_bytes(2, "big")
        body += int(y[k]).to_bytes(2, "big")
        body += bytes([int(angle[k]) % 256, min(int(minutiae.quality[k]), 100)])
    width = min(max(minutiae.width, 0), 0xFFFF)
    height = min(max(minutiae.height, 0), 0xFFFF)
    length = 22 + len(_NBIS_VIEW_HEADER) + 1 + len(body)
    header = (
        b"FMR\x00 20\x00"
        + length.to_bytes(4, "big")
        + bytes(2)  # capture equipment
        + width.to_bytes(2, "big")
        + height.to_bytes(2, "big")
        + bytes(4)  # x and y resolution: 0, as nbis-py writes them
    )
    return header + _NBIS_VIEW_HEADER + bytes([n]) + bytes(body)


class NbisEngine:
    """NIST NBIS: mindtct minutiae and the bozorth3 matcher (nbis-py), the peer baseline.

    Score: bozorth3's integer match score (0 and up; about 40 is NIST's usual threshold).
    An extraction error or an image with no minutiae is a failure to enrol.
    """

    name = "nbis"

    def __init__(self) -> None:
        import nbis

        self._nbis: Any = nbis
        self._mindtct = MindtctExtractor()  # its native extractor is made once, then reused
        self._extractor: Any = nbis.new_nbis_extractor(
            nbis.NbisExtractorSettings(
                min_quality=0.0,
                get_center=False,
                check_fingerprint=False,
                compute_nfiq2=False,
                ppi=None,  # 500, which is what `extract` hands it
            )
        )

    def _checked(self, template: Any, what: str) -> object:
        if len(template.get()) == 0:
            raise FailureToEnrol(f"nbis found no minutiae in the {what}")
        return template

    def extract(self, image: np.ndarray, ppi: int) -> object:
        try:
            features = self._mindtct.extract(to_500_ppi(image, ppi))
        except (MindtctError, ValueError) as exc:
            raise FailureToEnrol(f"nbis extraction failed: {exc!r}") from exc
        return self._checked(features.native, "image")

    def from_minutiae(self, minutiae: Minutiae) -> object:
        record = _nbis_record(minutiae.at_ppi(BENCH_PPI))
        try:
            template = self._extractor.load_iso_19794_2_2005(record)
        except self._nbis.NbisError as exc:
            raise FailureToEnrol(f"nbis could not read the minutiae: {exc!r}") from exc
        return self._checked(template, "record")

    def compare(self, a: object, b: object) -> float:
        return float(a.compare(b))  # type: ignore[attr-defined]


EngineFactory = Callable[[], VerificationEngine]
SCOMM_PROFILES = {
    "scomm": DEFAULT_ENGINE,
    "scomm-leader": LEADER_ENGINE,
    "scomm-fast": MINDTCT_ENGINE,
    "minunet": MINUNET_ENGINE,
}


def profile_engine(profile_name: str) -> VerificationEngine:
    """scomm's engine as its shipped profile `profile_name` describes it."""
    from scomm.biometrics.profiles import fingerprint_engine, load_profile

    # Its compare takes its own templates, not any object: the benchmark only ever hands an
    # engine back what that engine extracted.
    return cast(VerificationEngine, fingerprint_engine(load_profile(profile_name)))


def _scomm_engine() -> VerificationEngine:
    return profile_engine(SCOMM_PROFILES["scomm"])


def _scomm_leader_engine() -> VerificationEngine:
    return profile_engine(SCOMM_PROFILES["scomm-leader"])


def _scomm_fast_engine() -> VerificationEngine:
    return profile_engine(SCOMM_PROFILES["scomm-fast"])


def _minunet_engine() -> VerificationEngine:
    return profile_engine(SCOMM_PROFILES["minunet"])


class EngineRegistry:
    """The engines a benchmark run may choose from, by name; read-only once built."""

    def __init__(self, factories: Mapping[str, EngineFactory]) -> None:
        self._factories: Mapping[str, EngineFactory] = MappingProxyType(dict(factories))

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._factories))

    @property
    def default(self) -> str:
        """ "scomm" when present, else "baseline"."""
        return "scomm" if "scomm" in self._factories else "baseline"

    def create(self, name: str) -> VerificationEngine:
        """A new engine `name`; KeyError naming the known ones when there is none."""
        try:
            factory = self._factories[name]
        except KeyError:
            raise KeyError(f"unknown engine {name!r}; known: {', '.join(self.names)}") from None
        return factory()

    def with_engine(self, name: str, factory: EngineFactory) -> EngineRegistry:
        """A copy with `factory` as `name` (replacing any engine of that name)."""
        return EngineRegistry({**self._factories, name: factory})

    def without(self, name: str) -> EngineRegistry:
        return EngineRegistry({k: v for k, v in self._factories.items() if k != name})


def bench_engines() -> EngineRegistry:
    """The standard engines: scomm's default, its 1:1 variants (LEADER, MINDTCT, minunet),
    the correlation baseline, NBIS."""
    return EngineRegistry(
        {
            "scomm": _scomm_engine,
            "scomm-leader": _scomm_leader_engine,
            "scomm-fast": _scomm_fast_engine,
            "minunet": _minunet_engine,
            "baseline": BaselineEngine,
            "nbis": NbisEngine,
        }
    )
