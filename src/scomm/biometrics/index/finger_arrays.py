"""FingerArrays: a gallery's fingers in flat numpy arrays, and their snapshot on disk.

One slot per identity, ten finger positions per slot (ANSI/NIST FGP 1-10 at index 0-9):
- codes     uint64 slots x 10 x words   first-stage pair codes (`pair_code`)
- present   uint16 slots               bit f set when finger f+1 is enrolled; 0 = free slot
- starts    int64  slots x 10          first row of the finger's minutiae
- counts    uint16 slots x 10          its number of minutiae
- minutiae  MINUTIA_DTYPE rows         x, y in quarter pixels (500 ppi), angle in 256ths
                                       of a turn, kind (2 bits) and quality (6 bits): the
                                       6 bytes of `compact_minutiae`
- ids       identity id of each slot ('' when free)

Minutiae rows are appended; an update or a delete leaves the old rows unused until
`compact()` (which `save` runs) drops them.  `save` writes one .npy file per array and a
JSON header into a folder; `load(..., mmap=True)` maps them read-only, so a million
identities open in about the time it takes to read the ids, and the pages come in on first
use.  The first change after such a load copies the arrays into memory.  `save` seals the
folder last: `content.sha256` holds the snapshot's content hash (`snapshot_sha256`: every
other file of the folder, the header included, names included), which whoever keeps the
snapshot can record elsewhere and check on load.  `read` is the load for such a check: it
reads every file into memory once, hashes those bytes and builds the arrays from them, so
the hash is the hash of exactly what is used, and a file changed afterwards changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from scomm.biometrics.errors import BiometricsError
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch

FINGERS = 10
MINUTIA_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("angle", "u1"), ("kq", "u1")])
SNAPSHOT_VERSION = 1
SNAPSHOT_HEADER = "header.json"
SNAPSHOT_SEAL = "content.sha256"  # the snapshot's content hash: the one file it leaves out
_ARRAYS = ("codes", "present", "starts", "counts", "minutiae")
_ANGLE_STEP = 2 * math.pi / 256


class SnapshotError(BiometricsError, ValueError):
    """A snapshot folder that cannot be read back (`content_sha256`: the content hash of the
    bytes read, where they were read before the fault was found)."""

    content_sha256: str | None = None


def _snapshot_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file of the snapshot but its seal: (relative `/`-separated path, path), sorted."""
    return sorted(
        (path.relative_to(folder).as_posix(), path)
        for path in folder.rglob("*")
        if path.is_file() and path.relative_to(folder).as_posix() != SNAPSHOT_SEAL
    )


def _combined(digests: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, content in digests:
        encoded = name.encode()
        digest.update(len(encoded).to_bytes(8, "big") + encoded + content)
    return digest.hexdigest()


def snapshot_sha256(folder: Path) -> str:
    """The content hash of a snapshot folder: sha256 over every file in it but its seal (the
    arrays, and the header with the coder, the image size and the caller's meta), in sorted
    order of their paths (relative, `/`-separated), each as its path's length and
    path, then the sha256 of its bytes; a changed byte, a renamed, added or removed file all
    change it.  One pass over the files at hashlib's speed (no per-identity work)."""
    digests = []
    for name, path in _snapshot_files(folder):
        with path.open("rb") as file:
            digests.append((name, hashlib.file_digest(file, "sha256").digest()))
    return _combined(digests)


def read_snapshot(folder: Path) -> tuple[dict[str, bytes], str]:
    """Every file of the snapshot but its seal, read into memory once, by relative path, and
    the content hash (`snapshot_sha256`) of exactly those bytes."""
    files = {name: path.read_bytes() for name, path in _snapshot_files(folder)}
    return files, _combined((name, hashlib.sha256(data).digest()) for name, data in files.items())


def quantise(batch: MinutiaeBatch) -> np.ndarray:
    """The batch's minutiae rows in the stored 6-byte form (coordinates clipped to 0..16383.75)."""
    rows = np.empty(len(batch.x), dtype=MINUTIA_DTYPE)
    rows["x"] = np.clip(np.rint(batch.x * np.float32(4)), 0, 65535)
    rows["y"] = np.clip(np.rint(batch.y * np.float32(4)), 0, 65535)
    turns = np.rint(batch.angle * np.float32(256 / (2 * math.pi))).astype(np.int32)
    rows["angle"] = turns & 0xFF
    quality = (batch.quality.astype(np.uint16) * 63 + 50) // 100  # rounded, as 6 bits
    rows["kq"] = ((batch.kind & 0x3) << 6) | quality.astype(np.uint8)
    return rows


def dequantise(rows: np.ndarray, offsets: np.ndarray, width: int, height: int) -> MinutiaeBatch:
    """Stored rows back to a 500 ppi batch (the inverse of `quantise` up to its rounding)."""
    return MinutiaeBatch(
        offsets,
        rows["x"].astype(np.float32) / 4,
        rows["y"].astype(np.float32) / 4,
        rows["angle"].astype(np.float32) * np.float32(_ANGLE_STEP),
        rows["kq"] >> 6,
        np.rint((rows["kq"] & 0x3F).astype(np.float64) * 100 / 63).astype(np.uint8),
        width,
        height,
        500,
    )


class FingerArrays:
    """The fingers of up to `len(self)` identities; see the module docstring for the layout.

    `version` changes with every change of the contents (enrol, delete, compact)."""

    version: int = 0

    def __init__(
        self,
        words: int,
        capacity: int = 1024,
        width: int = 800,
        height: int = 800,
        minutiae_per_finger: int = 4,
    ):
        self.words = words
        self.width = width
        self.height = height
        capacity = max(1, capacity)
        self.codes = np.zeros((capacity, FINGERS, words), dtype=np.uint64)
        self.present = np.zeros(capacity, dtype=np.uint16)
        self.starts = np.zeros((capacity, FINGERS), dtype=np.int64)
        self.counts = np.zeros((capacity, FINGERS), dtype=np.uint16)
        self.minutiae = np.zeros(
            max(1, capacity * FINGERS * minutiae_per_finger), dtype=MINUTIA_DTYPE
        )
        self.ids: list[str] = []
        self.rows_used = 0
        self._slot: dict[str, int] = {}
        self._free: list[int] = []
        self._read_only = False

    # --- size and lookup -----------------------------------------------------------------

    @property
    def slots(self) -> int:
        """Slots in use or freed (the scan length)."""
        return len(self.ids)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, identity_id: object) -> bool:
        return identity_id in self._slot

    def slot_of(self, identity_id: str) -> int:
        try:
            return self._slot[identity_id]
        except KeyError:
            raise KeyError(f"identity {identity_id!r} is not enrolled") from None

    def identity_at(self, slot: int) -> str:
        return self.ids[slot]

    def nbytes(self, with_ids: bool = True) -> int:
        """Bytes a search keeps in memory: the arrays' used part and, with `with_ids`, the
        identity ids as Python holds them (the strings, the slot list and the lookup dict)."""
        n = self.slots
        per_slot = (
            self.codes[:1].nbytes + self.present[:1].nbytes + self.starts[:1].nbytes
        ) + self.counts[:1].nbytes
        total = n * per_slot + self.rows_used * MINUTIA_DTYPE.itemsize
        if with_ids:
            total += sys.getsizeof(self.ids) + sys.getsizeof(self._slot)
            total += sum(sys.getsizeof(i) for i in self.ids)
        return int(total)

    def fingers_enrolled(self) -> int:
        return int(np.unpackbits(self.present[: self.slots].view(np.uint8)).sum())

    # --- changes ---------------------------------------------------------------------------

    def enrol_batch(
        self,
        identity_ids: Sequence[str],
        batch: MinutiaeBatch,
        codes: np.ndarray,
        positions: Sequence[int] = tuple(range(1, FINGERS + 1)),
    ) -> None:
        """Enrol identities whose fingers are rows of `batch` and `codes`, identity-major:
        row i * len(positions) + k is finger `positions[k]` of identity i.  A finger with no
        minutiae is treated as absent.  An id already enrolled is replaced."""
        nf = len(positions)
        if len(batch) != len(identity_ids) * nf or len(codes) != len(batch):
            raise ValueError(
                f"{len(identity_ids)} identities x {nf} fingers need {len(identity_ids) * nf} "
                f"sets and codes, got {len(batch)} and {len(codes)}"
            )
        if batch.ppi != 500:
            raise ValueError(f"gallery minutiae are 500 ppi, batch is {batch.ppi} ppi")
        columns = np.array([p - 1 for p in positions], dtype=np.int64)
        if np.any(columns < 0) or np.any(columns >= FINGERS):
            raise ValueError(f"finger positions must be 1..{FINGERS}, got {list(positions)}")
        self._writable()
        for identity_id in identity_ids:
            if identity_id in self._slot:
                self.delete(identity_id)
        n = len(identity_ids)
        slots = self._take_slots(n)
        counts = batch.counts().reshape(n, nf)
        if np.any(counts > 0xFFFF):
            raise ValueError("a finger with more than 65,535 minutiae")
        rows = quantise(batch)
        self._reserve_rows(len(rows))
        base = self.rows_used
        self.minutiae[base : base + len(rows)] = rows
        self.rows_used += len(rows)
        starts = batch.offsets[:-1].reshape(n, nf) + base
        self.codes[slots[:, None], columns[None, :]] = codes.reshape(n, nf, self.words)
        self.starts[slots[:, None], columns[None, :]] = starts
        self.counts[slots[:, None], columns[None, :]] = counts
        bits = (counts > 0).astype(np.uint16) << columns[None, :].astype(np.uint16)
        present = np.bitwise_or.reduce(bits, axis=1).astype(np.uint16)
        if np.any(present == 0):
            bad = identity_ids[int(np.argmax(present == 0))]
            self._release(slots)
            raise ValueError(f"identity {bad!r} has no finger with minutiae")
        self.present[slots] = present
        for slot, identity_id in zip(slots.tolist(), identity_ids, strict=True):
            self.ids[slot] = identity_id
            self._slot[identity_id] = slot

    def delete(self, identity_id: str) -> None:
        slot = self.slot_of(identity_id)
        self._writable()
        del self._slot[identity_id]
        self.present[slot] = 0
        self.counts[slot] = 0
        self.codes[slot] = 0
        self.ids[slot] = ""
        self._free.append(slot)

    def fingers_of(self, slots: np.ndarray) -> tuple[MinutiaeBatch, np.ndarray]:
        """(batch of len(slots) x 10 sets, slot-major, empty where absent; their present masks)."""
        slots = np.asarray(slots, dtype=np.int64)
        counts = self.counts[slots].astype(np.int64).reshape(-1)
        starts = self.starts[slots].reshape(-1)
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        rows = np.arange(int(offsets[-1]), dtype=np.int64) + np.repeat(
            starts - offsets[:-1], counts
        )
        batch = dequantise(self.minutiae[rows], offsets, self.width, self.height)
        return batch, self.present[slots]

    def fingers_at(self, slots: np.ndarray, columns: np.ndarray) -> MinutiaeBatch:
        """Set i is finger column columns[i] (position - 1) of slot slots[i] (empty if absent)."""
        slots = np.asarray(slots, dtype=np.int64)
        columns = np.asarray(columns, dtype=np.int64)
        counts = self.counts[slots, columns].astype(np.int64)
        starts = self.starts[slots, columns]
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        rows = np.arange(int(offsets[-1]), dtype=np.int64) + np.repeat(
            starts - offsets[:-1], counts
        )
        return dequantise(self.minutiae[rows], offsets, self.width, self.height)

    def finger(self, identity_id: str, position: int) -> Minutiae | None:
        slot = self.slot_of(identity_id)
        if not (int(self.present[slot]) >> (position - 1)) & 1:
            return None
        batch, _ = self.fingers_of(np.array([slot]))
        return batch[position - 1]

    def compact(self) -> None:
        """Drop minutiae rows no enrolled finger uses, and trailing free slots."""
        self._writable()
        used = self.slots
        mask = self.counts[:used].astype(np.int64)
        order = np.flatnonzero(mask.reshape(-1) > 0)
        counts = mask.reshape(-1)[order]
        starts = self.starts[:used].reshape(-1)[order]
        offsets = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        rows = np.arange(int(offsets[-1]), dtype=np.int64) + np.repeat(
            starts - offsets[:-1], counts
        )
        self.minutiae = np.concatenate(
            [self.minutiae[rows], np.zeros(max(1, len(rows) // 8), MINUTIA_DTYPE)]
        )
        self.rows_used = len(rows)
        flat = self.starts[:used].reshape(-1)
        flat[order] = offsets[:-1]
        self.starts[:used] = flat.reshape(used, FINGERS)

    # --- snapshot --------------------------------------------------------------------------

    def save(self, folder: Path, meta: dict[str, Any] | None = None) -> str:
        """Write the arrays (compacted) and `meta` into `folder`, replacing what was there;
        returns the snapshot's content hash (`snapshot_sha256`), which its seal records."""
        self.compact()
        folder.mkdir(parents=True, exist_ok=True)
        n = self.slots
        arrays = {
            "codes": self.codes[:n],
            "present": self.present[:n],
            "starts": self.starts[:n],
            "counts": self.counts[:n],
            "minutiae": self.minutiae[: self.rows_used],
        }
        for name, array in arrays.items():
            np.save(folder / f"{name}.npy", np.ascontiguousarray(array))
        np.save(folder / "ids.npy", np.array(self.ids, dtype=np.str_))
        header = {
            "version": SNAPSHOT_VERSION,
            "words": self.words,
            "width": self.width,
            "height": self.height,
            "slots": n,
            "identities": len(self),
            "meta": meta or {},
        }
        (folder / SNAPSHOT_HEADER).write_text(json.dumps(header, indent=2))
        content_sha256 = snapshot_sha256(folder)
        (folder / SNAPSHOT_SEAL).write_text(content_sha256 + "\n")
        return content_sha256

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> tuple[FingerArrays, dict[str, Any]]:
        """(arrays, meta) of a snapshot written by `save` (nothing checks its content hash:
        `read` is the load for a snapshot whose hash is checked)."""
        mode: Literal["r"] | None = "r" if mmap else None
        return cls._build(
            folder,
            lambda: (folder / SNAPSHOT_HEADER).read_text(),
            lambda name: np.load(folder / f"{name}.npy", mmap_mode=mode),
            mmap,
        )

    @classmethod
    def read(cls, folder: Path) -> tuple[FingerArrays, dict[str, Any], str]:
        """(arrays, meta, content hash) of a snapshot written by `save`: every file read into
        memory once, the hash computed over those bytes (`snapshot_sha256`'s), the arrays
        built from them (in memory, no file mapped), so the hash says what is used.  A
        `SnapshotError` raised after the files were read carries their hash."""
        try:
            files, content = read_snapshot(folder)
        except OSError as error:
            raise SnapshotError(f"{folder}: {error}") from error

        def take(name: str) -> bytes:
            try:
                return files.pop(name)  # each file's bytes dropped once built from
            except KeyError:
                raise SnapshotError(f"{folder}: no {name}") from None

        try:
            arrays, meta = cls._build(
                folder,
                lambda: take(SNAPSHOT_HEADER).decode(),
                lambda name: np.load(io.BytesIO(take(f"{name}.npy")), allow_pickle=False),
                False,
            )
        except SnapshotError as error:
            error.content_sha256 = content
            raise
        return arrays, meta, content

    @classmethod
    def _build(
        cls,
        folder: Path,
        header_text: Callable[[], str],
        array: Callable[[str], np.ndarray],
        read_only: bool,
    ) -> tuple[FingerArrays, dict[str, Any]]:
        try:
            header = json.loads(header_text())
        except (OSError, ValueError) as error:
            raise SnapshotError(f"{folder}: no readable header.json ({error})") from error
        if not isinstance(header, dict) or header.get("version") != SNAPSHOT_VERSION:
            version = header.get("version") if isinstance(header, dict) else None
            raise SnapshotError(f"{folder}: snapshot version {version!r}")
        try:
            self = cls(int(header["words"]), 1, int(header["width"]), int(header["height"]))
            for name in _ARRAYS:
                setattr(self, name, array(name))
            ids = array("ids")
            n = int(header["slots"])
            meta = dict(header["meta"])
        except (OSError, ValueError, LookupError, TypeError) as error:
            raise SnapshotError(f"{folder}: {error}") from error
        if any(len(getattr(self, name)) != n for name in ("codes", "present", "starts", "counts")):
            raise SnapshotError(f"{folder}: arrays disagree with the header's {n} slots")
        self.ids = ids.tolist()
        self.rows_used = len(self.minutiae)
        self._slot = {identity_id: slot for slot, identity_id in enumerate(self.ids) if identity_id}
        self._free = [slot for slot, identity_id in enumerate(self.ids) if not identity_id]
        self._read_only = read_only
        return self, meta

    # --- internals -------------------------------------------------------------------------

    def _writable(self) -> None:
        self.version += 1  # every change goes through here: `version` names the contents
        if self._read_only:
            for name in _ARRAYS:
                setattr(self, name, np.array(getattr(self, name)))
            self._read_only = False

    def _take_slots(self, n: int) -> np.ndarray:
        reused = [self._free.pop() for _ in range(min(n, len(self._free)))]
        fresh = n - len(reused)
        first = self.slots
        self._grow_slots(first + fresh)
        self.ids.extend([""] * fresh)
        return np.array(reused + list(range(first, first + fresh)), dtype=np.int64)

    def _release(self, slots: np.ndarray) -> None:
        for slot in slots.tolist():
            self.present[slot] = 0
            self.counts[slot] = 0
            self.ids[slot] = ""
            self._free.append(slot)

    def _grow_slots(self, needed: int) -> None:
        capacity = len(self.present)
        if needed <= capacity:
            return
        new = max(needed, capacity * 2)
        for name in ("codes", "present", "starts", "counts"):
            old = getattr(self, name)
            grown = np.zeros((new, *old.shape[1:]), dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)

    def _reserve_rows(self, extra: int) -> None:
        needed = self.rows_used + extra
        if needed <= len(self.minutiae):
            return
        grown = np.zeros(max(needed, len(self.minutiae) * 2), dtype=MINUTIA_DTYPE)
        grown[: self.rows_used] = self.minutiae[: self.rows_used]
        self.minutiae = grown


def identity_ids(prefix: str, numbers: Iterable[int]) -> list[str]:
    """Ids like 'S0000042' for synthetic galleries."""
    return [f"{prefix}{n:07d}" for n in numbers]
