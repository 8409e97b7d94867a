"""Signed checkpoints of the audit chain's head, kept outside the database.

The chain's hashes have no key: whoever can write the database can rewrite an entry and
recompute every hash after it, cut the tail, or empty the table, and the chain still
verifies. A checkpoint anchors it: the head's `seq` and `entry_hash`, signed with an Ed25519
key that lives outside the database, appended as one JSON line to a log file outside it
(and, through an optional hook command, to an external transparency log).

    {"entry_hash": ..., "key_id": ..., "seq": 1200, "signature": ..., "signed_at": ...,
     "state": "open", "writer": "3f9c0a1b2c4d"}

`signature` is base64 of the Ed25519 signature over the canonical JSON of the other fields;
`key_id` is the first 16 hex digits of the SHA-256 of the raw public key. Each process that
appends to the chain is a `writer` (a random id): it signs an "open" checkpoint of the head
before its first append, one every `checkpoint_every` entries, and a "closed" one when it
stops (`Anchor`). Lines are appended under a file lock, each signing the head read under the
lock, so the log's order is the chain's.

`verify_anchored` proves the chain extends every signed head: each line's signature is
valid for the public key; the heads never go back; the chain's entry at each signed `seq`
has exactly the signed hash (a rewrite, even rehashed, is caught); the chain reaches the last
signed head (truncation, emptying); entries appended while no writer was open (after the
last one closed) are forgeries; entries after an open checkpoint are only "not yet anchored".
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from scomm.audit.chain import (
    GENESIS_HASH,
    Verification,
    canonical_json,
    consistent_snapshot,
    verify,
)
from scomm.audit.errors import AuditError, CheckpointLogError, KeyFileError
from scomm.config import Settings
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, AuditHeadRow

log = logging.getLogger(__name__)

OPEN = "open"
CLOSED = "closed"
STATES = (OPEN, CLOSED)
PRIVATE_KEY_FILE = "audit-signing-key.pem"
PUBLIC_KEY_FILE = "audit-signing-key.pub.pem"
HOOK_TIMEOUT_S = 60


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    entry_hash: str
    signed_at: str
    key_id: str
    state: str
    writer: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        """What the signature covers: the canonical JSON of every other field."""
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return canonical_json(fields).encode()

    def line(self) -> str:
        return canonical_json(asdict(self))

    @classmethod
    def parse(cls, text: str, where: str) -> Checkpoint:
        """A log line; `CheckpointLogError` naming `where` if it is no checkpoint."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise CheckpointLogError(f"{where} is not JSON ({error})") from error
        if not isinstance(data, dict) or set(data) != set(cls.__dataclass_fields__):
            fields = ", ".join(sorted(cls.__dataclass_fields__))
            raise CheckpointLogError(f"{where} is not a checkpoint (fields {fields})")
        if not (isinstance(data["seq"], int) and not isinstance(data["seq"], bool)):
            raise CheckpointLogError(f"{where}: seq is not a whole number")
        if data["seq"] < 0 or any(
            not isinstance(data[k], str) for k in cls.__dataclass_fields__ if k != "seq"
        ):
            raise CheckpointLogError(f"{where}: a field has the wrong type")
        if data["state"] not in STATES:
            raise CheckpointLogError(f"{where}: state {data['state']!r} is not open or closed")
        return cls(**data)


# --- keys ------------------------------------------------------------------------------


def generate_keys(folder: Path) -> tuple[Path, Path]:
    """A new key pair in `folder`: the private key (PEM, mode 0600) and the public key (PEM).
    Refuses to overwrite either: a replaced key would orphan every checkpoint it signed."""
    private = folder / PRIVATE_KEY_FILE
    public = folder / PUBLIC_KEY_FILE
    for path in (private, public):
        if path.exists():
            raise KeyFileError(f"{path} exists: refusing to overwrite a key")
    if folder.exists() and not folder.is_dir():
        raise KeyFileError(f"{folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(private, pem, 0o600)
    _write_new(public, public_pem(key.public_key()).encode(), 0o644)
    return private, public


def _write_new(path: Path, data: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(descriptor, mode)  # whatever the umask
        os.write(descriptor, data)
    finally:
        os.close(descriptor)


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise KeyFileError(f"no {what} at {path}") from error
    except OSError as error:
        raise KeyFileError(f"{what} {path}: {error.strerror}") from error


def load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read_key_file(path, "audit signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise KeyFileError(f"{path} is not an unencrypted PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = _read_key_file(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise KeyFileError(f"{path} is not a PEM public key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} is not an Ed25519 public key")
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def verifying_key(settings: Settings, public_key: Path | None = None) -> Ed25519PublicKey:
    """The public key to verify with: `public_key`, else the configured public key, else the
    configured signing key's public half."""
    if public_key is not None:
        return load_public_key(public_key)
    if settings.audit_public_key is not None:
        return load_public_key(settings.audit_public_key)
    if settings.audit_key is not None:
        return load_private_key(settings.audit_key).public_key()
    raise KeyFileError(
        "no public key: pass --public-key, or set SCOMM_AUDIT_PUBLIC_KEY or SCOMM_AUDIT_KEY"
    )


# --- signing ---------------------------------------------------------------------------


def sign(
    key: Ed25519PrivateKey,
    *,
    seq: int,
    entry_hash: str,
    state: str,
    writer: str,
    signed_at: datetime | None = None,
) -> Checkpoint:
    moment = (signed_at or datetime.now(UTC)).astimezone(UTC)
    unsigned = Checkpoint(
        seq=seq,
        entry_hash=entry_hash,
        signed_at=moment.isoformat(timespec="microseconds"),
        key_id=key_id(key.public_key()),
        state=state,
        writer=writer,
    )
    signature = key.sign(unsigned.signed_bytes())
    return Checkpoint(**{**asdict(unsigned), "signature": base64.b64encode(signature).decode()})


def signature_valid(key: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        key.verify(signature, checkpoint.signed_bytes())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def head(session: Session) -> tuple[int, str]:
    """The chain's head as its row records it: (0, genesis) for an empty chain."""
    row = session.get(AuditHeadRow, 1)
    return (row.seq, row.entry_hash) if row is not None else (0, GENESIS_HASH)


def read_log(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the log, in order; `CheckpointLogError` for a missing file or a
    line that is no checkpoint (naming the line)."""
    try:
        with path.open("rb") as log_file:
            fcntl.flock(log_file, fcntl.LOCK_SH)  # no line half-written by a writer
            text = log_file.read().decode("utf-8")
    except FileNotFoundError as error:
        raise CheckpointLogError(f"no checkpoint log at {path}") from error
    except IsADirectoryError as error:
        raise CheckpointLogError(f"{path} is a folder, not a checkpoint log") from error
    except UnicodeDecodeError as error:
        raise CheckpointLogError(f"{path} is not a text file") from error
    except OSError as error:
        raise CheckpointLogError(f"checkpoint log {path}: {error.strerror}") from error
    return [
        Checkpoint.parse(line, f"{path} line {number}")
        for number, line in enumerate(text.split("\n"), 1)
        if line.strip()
    ]


class Anchor:
    """One writer's checkpoints: `begin` before its first append, `tick` after appending
    (a checkpoint once the head has moved `every` entries on), `close` when it stops."""

    def __init__(
        self,
        db: Database,
        key: Ed25519PrivateKey,
        log_path: Path,
        every: int,
        hook: str | None = None,
    ) -> None:
        self.db = db
        self.key = key
        self.log_path = log_path
        self.every = every
        self.hook = hook
        self.writer = uuid.uuid4().hex[:12]
        self.last: Checkpoint | None = None
        self.failures: list[str] = []  # export hook failures, each also logged
        self._open = False

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> Anchor | None:
        """The anchor `settings` configure, None without a signing key."""
        if settings.audit_key is None:
            return None
        if settings.checkpoint_log is None:
            raise AuditError(
                "SCOMM_AUDIT_KEY is set but SCOMM_CHECKPOINT_LOG is not: "
                "signed checkpoints need a log file outside the database"
            )
        return cls(
            db,
            load_private_key(settings.audit_key),
            settings.checkpoint_log,
            settings.checkpoint_every,
            settings.checkpoint_hook,
        )

    def begin(self) -> Checkpoint:
        """An "open" checkpoint of the head as found: this writer appends from here."""
        checkpoint = self.checkpoint(OPEN)
        self._open = True
        return checkpoint

    def tick(self) -> Checkpoint | None:
        """A checkpoint if the head moved at least `every` entries since this writer's last."""
        if not self._open or self.last is None:
            return None
        with self.db.sessions() as session:
            seq, _ = head(session)
        if seq - self.last.seq < self.every:
            return None
        return self.checkpoint(OPEN)

    def close(self) -> Checkpoint | None:
        """The "closed" checkpoint of the head: this writer appends no more."""
        if not self._open:
            return None
        self._open = False
        return self.checkpoint(CLOSED)

    def checkpoint(self, state: str) -> Checkpoint:
        """Sign the committed head now and append it to the log (then export it)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)  # the head read under the lock: lines in head order
            with self.db.sessions() as session:
                seq, digest = head(session)
            checkpoint = sign(self.key, seq=seq, entry_hash=digest, state=state, writer=self.writer)
            out.write(checkpoint.line() + "\n")
            out.flush()
            os.fsync(out.fileno())
        self.last = checkpoint
        self._export(checkpoint)
        return checkpoint

    def _export(self, checkpoint: Checkpoint) -> None:
        """Run the hook with the line on stdin; a failure is logged and kept in `failures`."""
        if not self.hook:
            return
        problem = ""
        try:
            done = subprocess.run(  # noqa: S602 (the operator's own configured command)
                self.hook,
                shell=True,
                input=checkpoint.line() + "\n",
                text=True,
                capture_output=True,
                timeout=HOOK_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            problem = f"no answer in {HOOK_TIMEOUT_S} s"
        except OSError as error:
            problem = error.strerror or str(error)
        else:
            if done.returncode != 0:
                said = (done.stderr or "").strip().splitlines()
                problem = f"exit {done.returncode}" + (f": {said[-1]}" if said else "")
        if problem:
            message = (
                f"checkpoint export hook failed for entry {checkpoint.seq} ({problem}); "
                f"the checkpoint is kept in {self.log_path}"
            )
            log.error(message)
            self.failures.append(message)


# --- verifying -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    entries: int  # the chain's length in the snapshot verified
    checkpoints: int  # lines compared with the chain
    last: Checkpoint | None = None  # the last checkpoint the chain was verified against
    unanchored: int = 0  # entries after an open last checkpoint
    first_bad_seq: int | None = None
    problem: str = ""
    key_id: str = ""
    writers_open: frozenset[str] = field(default_factory=frozenset)


def _hashes_at(session: Session, seqs: Sequence[int], batch: int = 500) -> dict[int, str]:
    found = {0: GENESIS_HASH}
    wanted = sorted({s for s in seqs if s > 0})
    for start in range(0, len(wanted), batch):
        chunk = wanted[start : start + batch]
        rows = session.execute(
            select(AuditEntryRow.seq, AuditEntryRow.entry_hash).where(AuditEntryRow.seq.in_(chunk))
        )
        found.update({seq: digest for seq, digest in rows})
    return found


def compare(
    session: Session,
    entries: int,
    before: Sequence[Checkpoint],
    after: Sequence[Checkpoint],
    public: Ed25519PublicKey,
) -> AnchorCheck:
    """The chain of `entries` entries (verified on its own, in `session`'s snapshot) against
    the checkpoint log read `before` that snapshot began and `after` it. Every line read
    before signed a head committed before the snapshot; lines that came after it may sign
    heads the snapshot cannot see, and are compared only up to the first of those."""
    kid = key_id(public)

    def failed(seq: int | None, problem: str, compared: int) -> AnchorCheck:
        return AnchorCheck(False, entries, compared, None, 0, seq, problem, kid)

    if list(after[: len(before)]) != list(before):
        return failed(None, "the checkpoint log was rewritten while it was being read", 0)
    lines = list(after)
    if not before:
        raise CheckpointLogError("the checkpoint log holds no checkpoint")
    for number, checkpoint in enumerate(lines, 1):
        if checkpoint.key_id != kid:
            return failed(
                None,
                f"checkpoint line {number} (entry {checkpoint.seq}) names key "
                f"{checkpoint.key_id}, not the public key's {kid}",
                0,
            )
        if not signature_valid(public, checkpoint):
            return failed(
                None,
                f"checkpoint line {number} (entry {checkpoint.seq}) has a bad signature: "
                "it was altered or signed by another key",
                0,
            )
    hashes = _hashes_at(session, [c.seq for c in lines if c.seq <= entries])
    writers: set[str] = set()
    previous: Checkpoint | None = None
    matched = 0  # the last seq whose signed hash the chain has
    compared = 0
    for number, checkpoint in enumerate(lines, 1):
        seq = checkpoint.seq
        if number > len(before) and seq > entries:
            break  # signed after the snapshot began: a head this snapshot cannot see yet
        if previous is not None:
            if seq < previous.seq:
                return failed(
                    seq,
                    f"checkpoint line {number} goes back from entry {previous.seq} to entry {seq}",
                    compared,
                )
            if not writers and seq != previous.seq:
                return failed(
                    previous.seq + 1,
                    f"entry {previous.seq + 1} was appended after the run closed at entry "
                    f"{previous.seq} (entries {previous.seq + 1}-{seq} were appended with no "
                    f"writer open: forged; signed over by checkpoint line {number})",
                    compared,
                )
        if seq > entries:
            return failed(
                entries + 1,
                f"entry {entries + 1} is missing: the chain ends at entry {entries} but "
                f"checkpoint line {number} signed entry {seq} (truncated or emptied)",
                compared,
            )
        if hashes.get(seq) != checkpoint.entry_hash:
            return failed(
                seq,
                f"entry {seq} is not the entry checkpoint line {number} signed (its hash "
                f"differs): an entry from {matched + 1} to {seq} was rewritten",
                compared,
            )
        matched = seq
        compared = number
        if checkpoint.state == OPEN:
            writers.add(checkpoint.writer)
        else:
            writers.discard(checkpoint.writer)
        previous = checkpoint
    assert previous is not None  # the first line was read before the snapshot began
    after_last = entries - previous.seq
    if after_last > 0 and not writers:
        return failed(
            previous.seq + 1,
            f"entry {previous.seq + 1} was appended after the run closed at entry "
            f"{previous.seq} ({after_last} entries after the last signed checkpoint, "
            "which is closed): forged",
            compared,
        )
    return AnchorCheck(
        True, entries, compared, previous, after_last, None, "", kid, frozenset(writers)
    )


def verify_anchored(
    db: Database, log_path: Path, public: Ed25519PublicKey, batch: int = 5000
) -> tuple[Verification, AnchorCheck | None]:
    """The plain chain walk, then the comparison with the checkpoint log, in one consistent
    snapshot; the comparison is None when the walk already failed."""
    before = read_log(log_path)
    with consistent_snapshot(db) as session:
        chain = verify(session, batch)
        if not chain.ok:
            return chain, None
        return chain, compare(session, chain.entries, before, read_log(log_path), public)


def describe(check: AnchorCheck) -> str:
    """One line on what the chain was verified against."""
    last = check.last
    if last is None:
        return check.problem
    line = (
        f"anchored: the chain extends checkpoint of entry {last.seq} ({last.state}, signed "
        f"{last.signed_at} by key {check.key_id})"
    )
    if check.unanchored:
        line += (
            f"; {check.unanchored} entries after the last signed checkpoint are not yet anchored"
        )
    return line


def published(check: AnchorCheck, public: Ed25519PublicKey) -> dict[str, Any]:
    """What a report publishes: the public key and the checkpoint the chain was verified
    against."""
    return {
        "public_key": public_pem(public),
        "key_id": check.key_id,
        "checkpoint": asdict(check.last) if check.last is not None else None,
        "entries_not_yet_anchored": check.unanchored,
    }
