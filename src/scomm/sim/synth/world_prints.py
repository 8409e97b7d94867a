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

Public API:
    PRINTS_SEED, ENROLMENT_CAPTURE, booking_capture(index) -> int
    capture_images(finger_seed, capture, positions=1..10) -> tuple of FingerImage
    EnrolmentTemplates(extractor): templates(finger_seed) -> {FGP: Template}, many(seeds)
    parallel_map(fn, items) -> list, workers() -> int
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from scomm.biometrics.protocols import Extractor, FailureToEnrol, Template
from scomm.nist.tenprint import FingerImage
from scomm.sim.synth.impression_image import impression
from scomm.sim.synth.ridge_master import FINGERS, cached_master
from scomm.sim.synth.tenprint_card import rolled_impressions

__all__ = [
    "ENROLMENT_CAPTURE",
    "PRINTS_SEED",
    "EnrolmentTemplates",
    "booking_capture",
    "capture_images",
    "parallel_map",
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


class EnrolmentTemplates:
    """Enrolment templates (capture `ENROLMENT_CAPTURE`) of people, each extracted once
    with this object's extractor: `templates(finger_seed)`.

    The cache is this object's, nothing else's: whoever runs a world (the simulation driver,
    a test's fixture) makes one and passes it on, and it goes with them. Several threads
    may share one."""

    def __init__(self, extractor: Extractor, people: int = TEMPLATE_CACHE_PEOPLE) -> None:
        self.extractor = extractor
        self.people = people
        self.cache: OrderedDict[int, dict[int, Template]] = OrderedDict()
        self._lock = threading.Lock()

    def templates(self, finger_seed: int) -> dict[int, Template]:
        with self._lock:
            found = self.cache.get(finger_seed)
            if found is not None:
                self.cache.move_to_end(finger_seed)
                return dict(found)
        made = extract_all(self.extractor, capture_images(finger_seed, ENROLMENT_CAPTURE))
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
