"""`scomm serve` extracts in child processes (`scomm.api.extraction`): the same templates as
the process's own engine, the memo kept, and a dead child met by extracting here instead.
The first test spawns one child (about 2-4 s: the child imports the engine)."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from api_world import ridges

from scomm.api.extraction import ChildExtractor, extraction_apart
from scomm.biometrics.memo import ExtractionMemo, MemoisedExtractor
from scomm.biometrics.profiles import BASELINE_ENGINE, build_engine, load_profile
from scomm.biometrics.protocols import Template
from scomm.config import Settings
from scomm.domain.clock import SystemClock
from scomm.system import System


class Counting:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        self.calls += 1
        return self.inner.extract(image, ppi, finger)  # type: ignore[no-any-return]


def _image() -> np.ndarray:
    return np.kron(ridges(3, size=128), np.ones((2, 2), dtype=np.uint8))


def test_a_child_makes_the_templates_the_process_would() -> None:
    local = Counting(build_engine(load_profile(BASELINE_ENGINE)).extractor)
    child = ChildExtractor(BASELINE_ENGINE, local, workers=1)
    memoised = MemoisedExtractor(child, "child-test", memo=ExtractionMemo())
    try:
        child.start()  # the child loads its engine while this process goes on
        made = memoised.extract(_image(), 500, 2)
        again = memoised.extract(_image(), 500, 2)  # the memo, in this process
    finally:
        child.close()
    assert made.to_bytes() == local.inner.extract(_image(), 500, 2).to_bytes()
    assert again is made and local.calls == 0  # none of it extracted here
    assert child.replaced == 0


class Broken:
    """A pool whose child died: every call fails as `ProcessPoolExecutor`'s then do."""

    def __init__(self) -> None:
        self.shut = False

    def submit(self, *_: Any) -> Future[Template]:
        failed: Future[Template] = Future()
        failed.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        return failed

    def shutdown(self, **_: Any) -> None:
        self.shut = True


def test_a_dead_child_is_replaced_and_its_call_extracted_here() -> None:
    local = Counting(build_engine(load_profile(BASELINE_ENGINE)).extractor)
    child = ChildExtractor(BASELINE_ENGINE, local, workers=1)
    broken = Broken()
    child._pool = broken  # type: ignore[assignment]
    made = child.extract(_image(), 500, 2)
    assert local.calls == 1 and broken.shut and child.replaced == 1
    assert child._pool is None  # the next call starts a fresh pool
    assert made.to_bytes() == local.inner.extract(_image(), 500, 2).to_bytes()


def test_the_system_extracts_apart_from_then_on(database_url: str) -> None:
    system = System(Settings(database_url=database_url, engine=BASELINE_ENGINE), SystemClock())
    try:
        memoised = system.ctx.extractor
        assert isinstance(memoised, MemoisedExtractor)
        own = memoised.inner
        child = extraction_apart(system, nice=10, workers=1)
        assert memoised.inner is child and child.local is own
        assert (child.engine, child.nice, child._pool) == (BASELINE_ENGINE, 10, None)
        child.close()
    finally:
        system.close()
    plain = SimpleNamespace(ctx=SimpleNamespace(extractor=Counting(None)))
    with pytest.raises(TypeError):  # not a memoised extractor: nothing to keep the memo of
        extraction_apart(plain)  # type: ignore[arg-type]
