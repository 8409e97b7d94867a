"""The gallery's flat arrays: enrol, replace, delete, compact, snapshot round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.index.finger_arrays import (
    FingerArrays,
    SnapshotError,
    dequantise,
    quantise,
)
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch

WORDS = 2


def sets(seed: int, people: int, fingers: int, missing: tuple[int, ...] = ()) -> MinutiaeBatch:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(people * fingers):
        n = 0 if k in missing else int(rng.integers(5, 30))
        out.append(
            Minutiae(
                rng.uniform(0, 400, n),
                rng.uniform(0, 500, n),
                rng.uniform(0, 6.28, n),
                rng.integers(1, 3, n).astype(np.uint8),
                rng.integers(0, 101, n).astype(np.uint8),
                416,
                560,
            )
        )
    return MinutiaeBatch.from_minutiae(out)


def codes_for(batch: MinutiaeBatch, salt: int) -> np.ndarray:
    return (np.arange(len(batch) * WORDS, dtype=np.uint64) + np.uint64(salt)).reshape(-1, WORDS)


def test_quantise_round_trip_within_the_stored_precision() -> None:
    batch = sets(1, 2, 3)
    back = dequantise(quantise(batch), batch.offsets, 416, 560)
    assert np.abs(back.x - batch.x).max() <= 0.125 + 1e-6
    assert np.abs(back.y - batch.y).max() <= 0.125 + 1e-6
    turn = np.abs(np.angle(np.exp(1j * (back.angle.astype(float) - batch.angle))))
    assert turn.max() <= np.pi / 256 + 1e-6
    assert np.array_equal(back.kind, batch.kind)
    assert np.abs(back.quality.astype(int) - batch.quality).max() <= 1


def test_enrol_and_read_back_every_finger() -> None:
    arrays = FingerArrays(WORDS, capacity=1)
    batch = sets(2, 3, 10, missing=(4,))
    codes = codes_for(batch, 7)
    arrays.enrol_batch(["a", "b", "c"], batch, codes)
    assert len(arrays) == 3 and "b" in arrays and "z" not in arrays
    assert arrays.fingers_enrolled() == 29
    assert arrays.present[arrays.slot_of("a")] == 0b1111101111  # finger 5 had no minutiae
    assert arrays.finger("a", 5) is None
    stored = arrays.finger("b", 3)
    original = batch[12]  # identity 1, position 3
    assert stored is not None and len(stored) == len(original)
    assert np.allclose(stored.x, original.x, atol=0.13)
    assert np.array_equal(arrays.codes[arrays.slot_of("c")], codes[20:30])


def test_partial_positions_and_bad_input() -> None:
    arrays = FingerArrays(WORDS)
    batch = sets(3, 2, 2)
    arrays.enrol_batch(["p", "q"], batch, codes_for(batch, 0), positions=(2, 7))
    assert arrays.present[arrays.slot_of("q")] == (1 << 1) | (1 << 6)
    with pytest.raises(ValueError, match="need 4 sets"):
        arrays.enrol_batch(["x", "y"], batch.slice(0, 3), codes_for(batch, 0)[:3], (2, 7))
    with pytest.raises(ValueError, match="positions must be 1..10"):
        arrays.enrol_batch(["x", "y"], batch, codes_for(batch, 0), positions=(0, 7))
    empty = sets(4, 1, 2, missing=(0, 1))
    with pytest.raises(ValueError, match="no finger with minutiae"):
        arrays.enrol_batch(["e"], empty, codes_for(empty, 0), positions=(2, 7))
    assert "e" not in arrays and len(arrays) == 2
    with pytest.raises(KeyError, match="not enrolled"):
        arrays.delete("nobody")


def test_replace_delete_compact_and_snapshot(tmp_path: Path) -> None:
    arrays = FingerArrays(WORDS)
    first = sets(5, 3, 10)
    arrays.enrol_batch(["a", "b", "c"], first, codes_for(first, 0))
    again = sets(6, 1, 10)
    arrays.enrol_batch(["b"], again, codes_for(again, 100))  # an update
    arrays.delete("a")
    assert len(arrays) == 2 and "a" not in arrays
    assert arrays.present[arrays.slot_of("b")] != 0
    used_before = arrays.rows_used
    arrays.save(tmp_path / "snap", {"note": "x"})
    assert arrays.rows_used < used_before  # old rows of a and b dropped
    loaded, meta = FingerArrays.load(tmp_path / "snap")
    assert meta == {"note": "x"}
    assert len(loaded) == 2 and set(loaded.ids) - {""} == {"b", "c"}
    for who, source, row in (("b", again, 0), ("c", first, 2)):
        for position in (1, 6, 10):
            got = loaded.finger(who, position)
            want = source[row * 10 + position - 1]
            assert got is not None and np.allclose(got.x, want.x, atol=0.13)
    # a change after a memory-mapped load works on a private copy
    loaded.enrol_batch(["d"], again, codes_for(again, 5))
    assert "d" in loaded and arrays.slots == loaded.slots  # d took a's freed slot
    again_loaded, _ = FingerArrays.load(tmp_path / "snap")
    assert "d" not in again_loaded


def test_unreadable_snapshot_says_why(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="header.json"):
        FingerArrays.load(tmp_path)
    (tmp_path / "header.json").write_text('{"version": 99}')
    with pytest.raises(SnapshotError, match="version 99"):
        FingerArrays.load(tmp_path)
