"""The fingers of a world's people: SFinGe-style rolled impressions, and templates made once.

Every person of a world has ten ridge masters (`ridge_master.person_masters`, identity =
the person's `finger_seed`, generator seed `PRINTS_SEED`); what the system sees of them are
rolled impressions (`tenprint_card.rolled_impressions`, 448 x 576 px at 500 ppi), one
capture number per occasion:

- capture `ENROLMENT_CAPTURE` (0) is the earlier capture the repositories hold: a person
  with a record is enrolled from its templates (the same capture in the FBI's and in
  IDENT's repository; they never compare with each other);
- booking number i of a world (its index in `World.bookings`) is capture i + 1, so every
  booking is a new capture, and a booking's images depend on nothing but the person and i
  (a resumed run makes exactly the images the first run would have made).

Growing a person's ten masters is most of the cost (about 0.45 s of one core; a capture of
cached masters about 0.2 s, extracting its ten templates 0.1 s), so enrolment templates
are extracted once per person by an `EnrolmentTemplates` that the simulation driver makes
for a run (and a test fixture for its tests), and work for several people runs on a thread
pool as wide as the CPUs this process may use: the numba kernels of the generator and of
the skeleton extractor release the GIL.  Every result is a pure function of its person and
capture, whatever ran in parallel.

The ridge masters themselves are memoised per process (`ridge_master.cached_master`, the
last 256 fingers): that is no state a run can see. The key is every input of a pure,
deterministic function (generator seed, identity, finger; default parameters), the arrays
are read-only, and a run that finds a finger there gets the very master it would have
grown, so no run's outcome depends on what ran before it in the process.

Enrolment templates may also be kept on disk between runs (`TemplateStore`, a folder
from `Settings.cache_dir`, SCOMM_CACHE_DIR): an entry is named by the person's finger seed
and capture and filed under an engine version (`TemplateStore.version`: the engine's
identity, a digest of its profile and model files, with `generator_digest`, a digest of
the print generator's code and numeric libraries), and it repeats its whole key inside,
so a changed engine or generator never reads an entry made by another.  An entry that
cannot be read is made again and rewritten.  Only templates that are minutiae are kept.

Public API:
    PRINTS_SEED, ENROLMENT_CAPTURE, booking_capture(index) -> int
    capture_images(finger_seed, capture, positions=1..10) -> tuple of FingerImage
    EnrolmentTemplates(extractor, store=None): templates(finger_seed) -> {FGP: Template},
        many(seeds)
    TemplateStore(folder, engine_identity), generator_digest()
    parallel_map(fn, items) -> list, workers() -> int
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from scomm.biometrics.index.gallery import MinutiaeTemplate, minutiae_of
from scomm.biometrics.memo import engine_identity
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.profiles.identity import extraction_code_digest, library_versions
from scomm.biometrics.protocols import Extractor, FailureToEnrol, Template
from scomm.nist.tenprint import FingerImage
from scomm.sim.synth.impression_image import impression
from scomm.sim.synth.ridge_master import FINGERS, cached_master
from scomm.sim.synth.tenprint_card import rolled_impressions

__all__ = [
    "ENROLMENT_CAPTURE",
    "PRINTS_SEED",
    "EnrolmentTemplates",
    "TemplateStore",
    "booking_capture",
    "capture_images",
    "generator_digest",
    "parallel_map",
    "template_store",
    "workers",
]

# The generator's seed for every world: a person's fingers are named by their finger_seed,
# which the world's own seed already drew (so two worlds share no one by accident).
PRINTS_SEED = 0
ENROLMENT_CAPTURE = 0
PPI = 500
LIVE_SCAN_ROLLED = 1  # 14.003 IMP
# Enrolment templates an `EnrolmentTemplates` keeps by default: a few kB a person, so a whole
# demo world stays in memory.
TEMPLATE_CACHE_PEOPLE = 20_000

T = TypeVar("T")
R = TypeVar("R")


def booking_capture(index: int) -> int:
    """The capture number of the world's booking number `index` (0-based)."""
    if index < 0:
        raise ValueError(f"booking index must be >= 0, got {index}")
    return ENROLMENT_CAPTURE + 1 + index


def capture_images(
    finger_seed: int, capture: int, positions: Sequence[int] = FINGERS
) -> tuple[FingerImage, ...]:
    """Capture number `capture` of the person's fingers `positions` (default all ten, FGP
    1-10): live-scan rolled impressions, uint8 448 x 576 at 500 ppi, the same images as
    `tenprint_card.rolled_impressions` gives (only the fingers asked for are drawn)."""
    if list(positions) == list(FINGERS):
        rolled = rolled_impressions(PRINTS_SEED, finger_seed, capture)
    else:
        rolled = tuple(
            impression(cached_master(PRINTS_SEED, finger_seed, f), capture, "rolled")
            for f in positions
        )
    return tuple(
        FingerImage(position, pixels, ppi=PPI, impression=LIVE_SCAN_ROLLED)
        for position, pixels in zip(positions, rolled, strict=True)
    )


def extract_all(extractor: Extractor, images: Iterable[FingerImage]) -> dict[int, Template]:
    """Templates of the images that enrol; a finger that fails to enrol is left out, as
    CJIS leaves it out of a search."""
    templates: dict[int, Template] = {}
    for image in images:
        try:
            templates[image.position] = extractor.extract(image.pixels, image.ppi, image.position)
        except FailureToEnrol:
            continue
    return templates


# The modules whose code draws a capture's pixels (and the numeric libraries they run on).
GENERATOR_MODULES = (
    "scomm.sim.synth.world_prints",
    "scomm.sim.synth.tenprint_card",
    "scomm.sim.synth.impression_image",
    "scomm.sim.synth.ridge_master",
    "scomm.sim.synth.ridge_kernels",
    "scomm.sim.synth.minutiae_kernels",
    "scomm.sim.synth.minutiae_params",
    "scomm.biometrics.extract_skeleton",  # smooth_image
)
GENERATOR_LIBRARIES = ("numpy", "numba", "scipy")


@cache
def generator_digest() -> str:
    """SHA-256 of the print generator: its modules' source, the seed every world's prints
    are drawn with, and the versions of the numeric libraries it runs on."""
    digest = hashlib.sha256(f"prints seed {PRINTS_SEED} ppi {PPI}\n".encode())
    for name in GENERATOR_MODULES:
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        source = Path(module.__file__ or "")
        digest.update(name.encode() + b"\n" + source.read_bytes() + b"\n")
    digest.update(library_versions(GENERATOR_LIBRARIES))
    return digest.hexdigest()


STORE_FORMAT = 1
_MINUTIA_FIELDS = ("x", "y", "angle", "kind", "quality")


class TemplateStore:
    """Templates of captures on disk, for one engine version (see the module's docstring):
    ``<folder>/enrolment-templates/<version>/<finger_seed>-<capture>.npz``."""

    def __init__(self, folder: Path, engine_identity: str) -> None:
        if not engine_identity:
            raise ValueError("a template store needs the engine's identity")
        self.version = hashlib.sha256(
            f"{engine_identity}\n{generator_digest()}\n{extraction_code_digest()}\n"
            f"{STORE_FORMAT}".encode()
        ).hexdigest()
        self.folder = folder / "enrolment-templates" / self.version[:32]

    def path(self, finger_seed: int, capture: int) -> Path:
        return self.folder / f"{finger_seed}-{capture}.npz"

    def load(self, finger_seed: int, capture: int) -> dict[int, Template] | None:
        """The stored templates, or None when there are none, they cannot be read or they
        are another key's."""
        path = self.path(finger_seed, capture)
        try:
            with np.load(path, allow_pickle=False) as data:
                if (
                    int(data["format"]) != STORE_FORMAT
                    or str(data["version"]) != self.version
                    or int(data["finger_seed"]) != finger_seed
                    or int(data["capture"]) != capture
                ):
                    return None
                positions = [int(p) for p in data["positions"]]
                offsets = [int(o) for o in data["offsets"]]
                sizes = data["sizes"]
                fields = {name: data[name] for name in _MINUTIA_FIELDS}
                if len(offsets) != len(positions) + 1 or sizes.shape != (len(positions), 3):
                    return None
                out: dict[int, Template] = {}
                for k, position in enumerate(positions):
                    a, b = offsets[k], offsets[k + 1]
                    width, height, ppi = (int(v) for v in sizes[k])
                    minutiae = Minutiae(
                        *(fields[name][a:b] for name in _MINUTIA_FIELDS), width, height, ppi
                    )
                    out[position] = MinutiaeTemplate(position, minutiae)
                return out
        except FileNotFoundError:
            return None
        except (OSError, KeyError, ValueError, TypeError, IndexError, EOFError,
                zipfile.BadZipFile):  # fmt: skip
            return None  # damaged: made again, and rewritten

    def save(self, finger_seed: int, capture: int, templates: dict[int, Template]) -> bool:
        """Keep `templates` (False, keeping nothing, when one is not minutiae or the folder
        cannot be written: a cache that cannot keep only costs time)."""
        try:
            sets = {p: minutiae_of(t) for p, t in sorted(templates.items())}
        except TypeError:
            return False
        positions = list(sets)
        offsets = np.cumsum([0, *(len(m) for m in sets.values())])
        arrays: dict[str, np.ndarray] = {
            "format": np.array(STORE_FORMAT),
            "version": np.array(self.version),
            "finger_seed": np.array(finger_seed),
            "capture": np.array(capture),
            "positions": np.array(positions, dtype=np.int64),
            "offsets": offsets.astype(np.int64),
            "sizes": np.array(
                [(m.width, m.height, m.ppi) for m in sets.values()], dtype=np.int64
            ).reshape(len(positions), 3),
        }
        for name in _MINUTIA_FIELDS:
            parts = [getattr(m, name) for m in sets.values()]
            dtype = np.float32 if name in ("x", "y", "angle") else np.uint8
            arrays[name] = np.concatenate(parts) if parts else np.zeros(0, dtype)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        path = self.path(finger_seed, capture)
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(buffer.getvalue())
            partial.replace(path)  # readers see the old entry or the new one, never half
        except OSError:
            if partial.parent.is_dir():
                partial.unlink(missing_ok=True)
            return False
        return True


def template_store(cache_dir: Path | None, extractor: Extractor) -> TemplateStore | None:
    """The store of `extractor`'s templates under `cache_dir` (`Settings.cache_dir`); None
    without a folder or for an extractor that does not say which engine it is (a system's
    extractor does: `biometrics.memo.MemoisedExtractor`)."""
    identity = engine_identity(extractor)
    if cache_dir is None or identity is None:
        return None
    return TemplateStore(cache_dir, identity)


class EnrolmentTemplates:
    """Enrolment templates (capture `ENROLMENT_CAPTURE`) of people, each extracted once
    with this object's extractor: `templates(finger_seed)`; with a `store`, read from it
    when it holds them and kept there when made.

    The in-memory cache is this object's, nothing else's: whoever runs a world (the
    simulation driver, a test's fixture) makes one and passes it on, and it goes with them.
    Several threads may share one."""

    def __init__(
        self,
        extractor: Extractor,
        people: int = TEMPLATE_CACHE_PEOPLE,
        store: TemplateStore | None = None,
    ) -> None:
        self.extractor = extractor
        self.people = people
        self.store = store
        self.cache: OrderedDict[int, dict[int, Template]] = OrderedDict()
        self._lock = threading.Lock()

    def templates(self, finger_seed: int) -> dict[int, Template]:
        with self._lock:
            found = self.cache.get(finger_seed)
            if found is not None:
                self.cache.move_to_end(finger_seed)
                return dict(found)
        made = self.store.load(finger_seed, ENROLMENT_CAPTURE) if self.store else None
        if made is None:
            made = extract_all(self.extractor, capture_images(finger_seed, ENROLMENT_CAPTURE))
            if self.store is not None:
                self.store.save(finger_seed, ENROLMENT_CAPTURE, made)
        with self._lock:
            self.cache[finger_seed] = made
            while len(self.cache) > self.people:
                self.cache.popitem(last=False)
        return dict(made)

    def many(self, finger_seeds: Sequence[int]) -> list[dict[int, Template]]:
        """`templates` of each person, in order; new ones made in parallel."""
        return parallel_map(self.templates, finger_seeds)


def workers() -> int:
    """How many threads the generator's work may use: the CPUs this process may run on
    (`taskset` narrows them), overridden by SCOMM_SYNTH_THREADS."""
    configured = os.environ.get("SCOMM_SYNTH_THREADS")
    if configured:
        return max(1, int(configured))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def parallel_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """[fn(x) for x in items], on `workers()` threads when there are several."""
    width = min(workers(), len(items))
    if width <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="synth") as pool:
        return list(pool.map(fn, items))
