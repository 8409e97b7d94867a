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

A live writer also holds an exclusive lock on its own file, `<log>.writers/<writer>.lock`,
for as long as its process lives. A writer killed before it closed leaves its id open in the
log but its lock free: the next writer to start finds it so and signs an "abandoned" line
for it (`writer` names the dead writer, `seq` the head found), so that the dead writer no
longer stands for whatever is appended after it. Before its first line a writer also checks
that the database's chain extends the log's last checkpoint (a log belongs to one database).

`verify_anchored` proves the chain extends every signed head: each line's signature is
valid for the public key; the heads never go back; the chain's entry at each signed `seq`
has exactly the signed hash (a rewrite, even rehashed, is caught); the chain reaches the last
signed head (truncation, emptying); entries appended while no writer was open (after the
last one closed or was abandoned) are forgeries. Entries appended while only writers later
found dead were open, after their last checkpoint, are an "unanchored gap" (named by range:
the dead writer's last appends cannot be told from forgeries); entries after an open
writer's last checkpoint are only "not yet anchored".
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
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
ABANDONED = "abandoned"  # signed by a later writer for one found dead (`writer` names it)
STATES = (OPEN, CLOSED, ABANDONED)
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
            raise CheckpointLogError(
                f"{where}: state {data['state']!r} is not open, closed or abandoned"
            )
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
            data = log_file.read()
    except FileNotFoundError as error:
        raise CheckpointLogError(f"no checkpoint log at {path}") from error
    except IsADirectoryError as error:
        raise CheckpointLogError(f"{path} is a folder, not a checkpoint log") from error
    except OSError as error:
        raise CheckpointLogError(f"checkpoint log {path}: {error.strerror}") from error
    return _parse_log(data, path)


def _parse_log(data: bytes, path: Path) -> list[Checkpoint]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CheckpointLogError(f"{path} is not a text file") from error
    return [
        Checkpoint.parse(line, f"{path} line {number}")
        for number, line in enumerate(text.split("\n"), 1)
        if line.strip()
    ]


def last_checkpoint(path: Path) -> Checkpoint | None:
    """The log's last checkpoint; None when there is no log yet or it holds none."""
    if not path.exists():
        return None
    lines = read_log(path)
    return lines[-1] if lines else None


def require_new_log(path: Path | None, database: str) -> None:
    """Refuse to start `database` afresh against a log that already signs a chain: its
    checkpoints would sign another chain's heads (each database needs its own log)."""
    last = last_checkpoint(path) if path is not None else None
    if last is not None and last.seq > 0:
        raise CheckpointLogError(
            f"checkpoint log {path} already signs a chain up to entry {last.seq}, and "
            f"{_shown(database)} is to be replaced by a new one: each database needs its own "
            "checkpoint log (set SCOMM_CHECKPOINT_LOG to a new file, or move the old log away)"
        )


def _shown(url: str) -> str:
    """A database URL as a message may name it: any password masked."""
    try:
        return f"database {make_url(url).render_as_string(hide_password=True)}"
    except ArgumentError:
        return "the database"


def writers_folder(log_path: Path) -> Path:
    """Where the live writers of `log_path` hold their locks: `<log>.writers/`."""
    return log_path.with_name(log_path.name + ".writers")


WRITER_ID = re.compile(r"[0-9a-f]{1,64}")


def open_writers(lines: Sequence[Checkpoint]) -> dict[str, int]:
    """The writers the log leaves open (neither closed nor abandoned), each with the seq of
    its last checkpoint, in the order they opened."""
    found: dict[str, int] = {}
    for checkpoint in lines:
        if checkpoint.state == OPEN:
            found[checkpoint.writer] = checkpoint.seq
        else:
            found.pop(checkpoint.writer, None)
    return found


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Anchor:
    """One writer's checkpoints: `begin` before its first append, `tick` after appending
    (a checkpoint once the head has moved `every` entries on), `close` when it stops.

    From `begin` to `close` the writer holds an exclusive lock on its own lock file (see the
    module's docstring); `report` gets the one warning line that `close` gives when the
    export hook failed (stderr by default)."""

    def __init__(
        self,
        db: Database,
        key: Ed25519PrivateKey,
        log_path: Path,
        every: int,
        hook: str | None = None,
        report: Callable[[str], None] = _to_stderr,
    ) -> None:
        self.db = db
        self.key = key
        self.log_path = log_path
        self.every = every
        self.hook = hook
        self.report = report
        self.writer = uuid.uuid4().hex[:12]
        self.last: Checkpoint | None = None
        self.failures: list[str] = []  # export hook failures, each also logged
        self._failed: list[str] = []  # the same, short, for the closing warning
        self.abandoned: list[Checkpoint] = []  # the dead writers this one signed off
        self._open = False
        self._lock: int | None = None  # the descriptor of this writer's locked file

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

    @property
    def lock_path(self) -> Path:
        return writers_folder(self.log_path) / f"{self.writer}.lock"

    def begin(self) -> Checkpoint:
        """An "open" checkpoint of the head as found: this writer appends from here. First,
        with the log locked: `CheckpointLogError` (and nothing written) if this database's
        chain does not extend the log's last checkpoint; an "abandoned" line for each writer
        the log leaves open whose process is gone."""
        self._hold_lock()
        try:
            checkpoint = self.checkpoint(OPEN)
        except BaseException:
            self._let_go()
            raise
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
        """The "closed" checkpoint of the head: this writer appends no more. Then its lock is
        let go, and a failing export hook is reported in one warning line (`report`)."""
        if not self._open:
            return None
        self._open = False
        try:
            return self.checkpoint(CLOSED)
        finally:
            self._let_go()
            if self.failures:
                self.report(self.failure_summary())

    def failure_summary(self) -> str:
        """One line naming every checkpoint the export hook failed for ("" if none)."""
        if not self._failed:
            return ""
        return (
            f"warning: the checkpoint export hook failed for {len(self._failed)} checkpoint(s) "
            f"of writer {self.writer} (each is kept in {self.log_path}: export it again): "
            + "; ".join(self._failed)
        )

    def checkpoint(self, state: str) -> Checkpoint:
        """Sign the committed head now and append it to the log (then export it). A writer's
        first line (`begin`, or a one-off checkpoint) first checks that the chain extends the
        log and signs off the dead writers."""
        first = self.last is None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        dead: dict[str, int | None] = {}
        try:
            with self.log_path.open("a+b") as out:
                fcntl.flock(out, fcntl.LOCK_EX)  # the head read under the lock: head order
                with self.db.sessions() as session:
                    seq, digest = head(session)
                    if first:
                        out.seek(0)
                        earlier = _parse_log(out.read(), self.log_path)
                        self._require_extends(session, earlier)
                        dead = self._dead_writers(earlier)
                lines = [
                    sign(self.key, seq=seq, entry_hash=digest, state=ABANDONED, writer=writer)
                    for writer in dead
                ]
                checkpoint = sign(
                    self.key, seq=seq, entry_hash=digest, state=state, writer=self.writer
                )
                lines.append(checkpoint)
                out.seek(0, os.SEEK_END)
                out.write("".join(line.line() + "\n" for line in lines).encode())
                out.flush()
                os.fsync(out.fileno())
                for writer, descriptor in dead.items():  # signed off: its lock file goes
                    if descriptor is not None:  # (held, and still under the log lock)
                        writers_folder(self.log_path).joinpath(f"{writer}.lock").unlink(
                            missing_ok=True
                        )
        finally:
            for descriptor in dead.values():
                if descriptor is not None:
                    os.close(descriptor)
        self.last = checkpoint
        self.abandoned.extend(lines[:-1])
        for line in lines:
            self._export(line)
        return checkpoint

    def _require_extends(self, session: Session, earlier: Sequence[Checkpoint]) -> None:
        """`CheckpointLogError` unless the chain has the log's last signed entry (one lookup)."""
        if not earlier or earlier[-1].seq == 0:
            return
        last = earlier[-1]
        found = session.get(AuditEntryRow, last.seq)
        if found is not None and found.entry_hash == last.entry_hash:
            return
        what = "has no such entry" if found is None else "has another entry there"
        raise CheckpointLogError(
            f"checkpoint log {self.log_path} does not sign {_shown(self.db.url)}: its last "
            f"checkpoint signs entry {last.seq} ({last.entry_hash[:16]}...), and this "
            f"database's chain {what}; each database needs its own checkpoint log (set "
            "SCOMM_CHECKPOINT_LOG to a new file for a new database; if this is the log's own "
            "database, its chain was cut or rewritten: run scomm audit verify --checkpoint)"
        )

    def _dead_writers(self, earlier: Sequence[Checkpoint]) -> dict[str, int | None]:
        """The writers `earlier` leaves open whose lock is free (their process is gone), each
        with the descriptor of its lock file, held locked until their lines are written
        (None: no lock file, a writer from before locks or its file removed)."""
        dead: dict[str, int | None] = {}
        folder = writers_folder(self.log_path)
        for writer in open_writers(earlier):
            if writer == self.writer:
                continue
            if not WRITER_ID.fullmatch(writer):
                dead[writer] = None  # no lock file can be named so
                continue
            try:
                descriptor = os.open(folder / f"{writer}.lock", os.O_RDWR)
            except FileNotFoundError:
                dead[writer] = None
                continue
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)  # held: that writer is alive
                continue
            dead[writer] = descriptor
        return dead

    def _hold_lock(self) -> None:
        """This writer's lock file, made and locked for as long as it writes."""
        folder = writers_folder(self.log_path)
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(descriptor)
            raise
        self._lock = descriptor

    def _let_go(self) -> None:
        """The lock file removed, then let go (a writer that never closed keeps it held until
        its process ends)."""
        if self._lock is None:
            return
        try:
            self.lock_path.unlink(missing_ok=True)
        finally:
            os.close(self._lock)
            self._lock = None

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
            self._failed.append(
                f"{checkpoint.state} checkpoint of entry {checkpoint.seq}: {problem}"
            )


# --- verifying -------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """Entries `first`..`last`, appended while the only writers open were writers later
    found dead, after their last checkpoint: a dead writer's last appends, or forgeries
    made after it died; no checkpoint can tell which."""

    first: int
    last: int
    writer: str  # the dead writer
    since: int  # the seq of its last checkpoint
    abandoned_at: int  # the seq its "abandoned" line signed

    def describe(self) -> str:
        single = self.first == self.last
        span = f"entry {self.first}" if single else f"entries {self.first}-{self.last}"
        return (
            f"unanchored gap: {span} (writer {self.writer} stopped without closing after its "
            f"checkpoint of entry {self.since}, and was found dead and signed off at entry "
            f"{self.abandoned_at}): its last appends cannot be told from forgeries"
        )


@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    entries: int  # the chain's length in the snapshot verified
    checkpoints: int  # lines compared with the chain
    last: Checkpoint | None = None  # the last checkpoint the chain was verified against
    unanchored: int = 0  # entries no checkpoint vouches for: gaps, pending and the tail
    first_bad_seq: int | None = None
    problem: str = ""
    key_id: str = ""
    writers_open: frozenset[str] = field(default_factory=frozenset)
    gaps: tuple[Gap, ...] = ()
    open_at: tuple[tuple[str, int], ...] = ()  # each open writer, its last checkpoint's seq
    tail: int = 0  # entries after the last signed checkpoint (some writer still open)

    @property
    def not_yet_anchored(self) -> int:
        """Entries appended while a writer still open was open, since its last checkpoint."""
        return self.unanchored - sum(gap.last - gap.first + 1 for gap in self.gaps)


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


@dataclass
class _Span:
    """Entries `first`..`last`, appended while `writers` were open; dropped once one of them
    signs again (it was alive through them), a gap once every one is signed off dead."""

    first: int
    last: int
    writers: set[str]


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
    writers: dict[str, int] = {}  # each open writer, the seq of its last checkpoint
    pending: list[_Span] = []  # appended while writers open, none of them signed since
    gaps: list[Gap] = []
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
            if seq != previous.seq and not writers:
                ended = "was signed off" if previous.state == ABANDONED else "closed"
                return failed(
                    previous.seq + 1,
                    f"entry {previous.seq + 1} was appended after the run {ended} at entry "
                    f"{previous.seq} (entries {previous.seq + 1}-{seq} were appended with no "
                    f"writer open: forged; signed over by checkpoint line {number})",
                    compared,
                )
            if seq != previous.seq:
                pending.append(_Span(previous.seq + 1, seq, set(writers)))
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
        pending = _account(checkpoint, writers, pending, gaps)
        previous = checkpoint
    assert previous is not None  # the first line was read before the snapshot began
    after_last = entries - previous.seq
    if after_last > 0 and not writers:
        ended = "was signed off" if previous.state == ABANDONED else "closed"
        return failed(
            previous.seq + 1,
            f"entry {previous.seq + 1} was appended after the run {ended} at entry "
            f"{previous.seq} ({after_last} entries after the last signed checkpoint, "
            "with no writer open): forged",
            compared,
        )
    merged = _merged(gaps)
    unanchored = (
        after_last
        + sum(span.last - span.first + 1 for span in pending)
        + sum(gap.last - gap.first + 1 for gap in merged)
    )
    return AnchorCheck(
        True,
        entries,
        compared,
        previous,
        unanchored,
        None,
        "",
        kid,
        frozenset(writers),
        tuple(merged),
        tuple(writers.items()),
        after_last,
    )


def _account(
    checkpoint: Checkpoint, writers: dict[str, int], pending: list[_Span], gaps: list[Gap]
) -> list[_Span]:
    """What `checkpoint` says of its writer: alive through what it was open for (a line of
    its own), or dead since its last checkpoint (an "abandoned" line); the spans still
    pending after it."""
    writer = checkpoint.writer
    if checkpoint.state != ABANDONED:
        if checkpoint.state == OPEN:
            writers[writer] = checkpoint.seq
        else:
            writers.pop(writer, None)
        return [span for span in pending if writer not in span.writers]
    if writer not in writers:
        return pending  # signed off twice, or never open: nothing it stood for
    since = writers.pop(writer)
    still: list[_Span] = []
    for span in pending:
        span.writers.discard(writer)
        if span.writers:
            still.append(span)
        else:
            gaps.append(Gap(span.first, span.last, writer, since, checkpoint.seq))
    return still


def _merged(gaps: Sequence[Gap]) -> list[Gap]:
    """Adjacent gaps of one dead writer as one."""
    merged: list[Gap] = []
    for gap in sorted(gaps, key=lambda g: g.first):
        if merged and merged[-1].writer == gap.writer and merged[-1].last + 1 == gap.first:
            merged[-1] = Gap(
                merged[-1].first, gap.last, gap.writer, merged[-1].since, gap.abandoned_at
            )
        else:
            merged.append(gap)
    return merged


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


def unanchored_line(check: AnchorCheck) -> str:
    """What no checkpoint vouches for, in one line ("" when nothing): every unanchored gap
    by range, and the entries not yet anchored with the writers still open. What
    `audit verify --strict` fails with."""
    parts = [gap.describe() for gap in check.gaps]
    waiting = check.not_yet_anchored
    if waiting:
        writers = ", ".join(
            f"{writer} (last checkpoint: entry {seq})" for writer, seq in check.open_at
        )
        parts.append(
            f"{waiting} entries after the last signed checkpoint are not yet anchored "
            f"(writers open: {writers or 'none'}; one that is no longer running is signed "
            "off as abandoned by the next writer to start)"
        )
    return "; ".join(parts)


def describe(check: AnchorCheck) -> str:
    """One line on what the chain was verified against, and what no checkpoint vouches for."""
    last = check.last
    if last is None:
        return check.problem
    line = (
        f"anchored: the chain extends checkpoint of entry {last.seq} ({last.state}, signed "
        f"{last.signed_at} by key {check.key_id})"
    )
    unanchored = unanchored_line(check)
    return f"{line}; {unanchored}" if unanchored else line


def published(check: AnchorCheck, public: Ed25519PublicKey) -> dict[str, Any]:
    """What a report publishes: the public key, the checkpoint the chain was verified
    against, and what no checkpoint vouches for."""
    return {
        "public_key": public_pem(public),
        "key_id": check.key_id,
        "checkpoint": asdict(check.last) if check.last is not None else None,
        "entries_not_yet_anchored": check.not_yet_anchored,
        "unanchored_gaps": [asdict(gap) for gap in check.gaps],
        "writers_open": dict(check.open_at),
    }
