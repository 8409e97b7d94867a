"""Extraction done once per image in a process, and a finger set's images extracted side by side.

A booking's finger images reach the criminal repository and then the immigration
repository; both extract them with the same engine.  `MemoisedExtractor` remembers the
last templates it made (or the failure to enrol it found), keyed by the engine's identity
(`profiles.identity.profile_digest`: every setting, fitted array and model file of the
profile), the image's content (BLAKE2b of its pixels, shape and type), its resolution and
finger position.  Extraction is a pure function of those, so a remembered template is the
one extraction would give again: no run can observe the memo.  The memo is the process's
(`SHARED_MEMO`) unless one is given; it is bounded (least recently used dropped) and safe
to share between threads.

`extract_each` extracts a finger set (a booking's ten images) on a thread pool as wide as
the CPUs the process may use: every extractor scomm ships may run on several threads (the
skeleton's numba kernels and the correlation's FFTs release the GIL; LEADER's and minunet's
networks run in one-thread onnxruntime sessions that several threads may run at once, so a
booking's prints are extracted side by side; NBIS's MINDTCT runs under its own lock).
Results come back in the images' order, whatever ran first.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from scomm.biometrics.protocols import Extractor, FailureToEnrol, Template

# A booking is ten images; the repositories see it within a few bookings of each other.
MEMO_IMAGES = 512

_Key = tuple[str, bytes, int, int]


@dataclass(frozen=True)
class _Failure:
    message: str


class ExtractionMemo:
    """The last `capacity` extraction results, by (engine, image, ppi, finger)."""

    def __init__(self, capacity: int = MEMO_IMAGES) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self._results: OrderedDict[_Key, Template | _Failure] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._results)

    def get(self, key: _Key) -> Template | _Failure | None:
        with self._lock:
            found = self._results.get(key)
            if found is None:
                self.misses += 1
                return None
            self._results.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: _Key, result: Template | _Failure) -> None:
        with self._lock:
            self._results[key] = result
            self._results.move_to_end(key)
            while len(self._results) > self.capacity:
                self._results.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()


SHARED_MEMO = ExtractionMemo()


def image_digest(image: np.ndarray) -> bytes:
    """BLAKE2b of an image's pixels, shape and element type."""
    pixels = np.ascontiguousarray(image)
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{pixels.dtype.str}{pixels.shape}".encode())
    digest.update(pixels.tobytes())
    return digest.digest()


class MemoisedExtractor:
    """`inner`'s `extract`, each (image, ppi, finger) done once per memo for the engine
    `identity` (a digest of everything that makes the engine)."""

    def __init__(self, inner: Extractor, identity: str, memo: ExtractionMemo | None = None):
        if not identity:
            raise ValueError("a memoised extractor needs the engine's identity")
        self.inner = inner
        self.identity = identity
        self.memo = SHARED_MEMO if memo is None else memo

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        key = (self.identity, image_digest(image), int(ppi), int(finger))
        found = self.memo.get(key)
        if found is None:
            try:
                found = self.inner.extract(image, ppi, finger)
            except FailureToEnrol as error:
                found = _Failure(str(error))
            self.memo.put(key, found)
        if isinstance(found, _Failure):
            raise FailureToEnrol(found.message)
        return found


def engine_identity(extractor: object) -> str | None:
    """The engine identity of a memoised extractor; None for any other."""
    return extractor.identity if isinstance(extractor, MemoisedExtractor) else None


def usable_cpus() -> int:
    """The CPUs this process may run on (`taskset` narrows them)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


Extraction = Template | FailureToEnrol


def extract_each(
    extractor: Extractor,
    images: Sequence[tuple[np.ndarray, int, int]],
    workers: int | None = None,
) -> list[Extraction]:
    """`extractor.extract(image, ppi, finger)` of each (image, ppi, finger), in order: the
    template, or the `FailureToEnrol` it raised; on `workers` threads (default: the usable
    CPUs; in the caller's thread for an extractor that says `parallel = False`, one too
    cheap to gain from threads)."""

    def one(item: tuple[np.ndarray, int, int]) -> Extraction:
        try:
            return extractor.extract(*item)
        except FailureToEnrol as failure:
            return failure

    width = min(usable_cpus() if workers is None else workers, len(images))
    if width <= 1 or not getattr(extractor, "parallel", True):
        return [one(item) for item in images]
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="extract") as pool:
        return list(pool.map(one, images))
