"""`scomm audit verify | checkpoint | keygen | reconcile`: check the hash-chained audit log,
anchor it with signed checkpoints kept outside the database, and check the rows the flow
acts on against it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from scomm.audit.chain import Verification, verify_database
from scomm.audit.checkpoints import (
    CLOSED,
    Anchor,
    AnchorCheck,
    compare,
    describe,
    generate_keys,
    read_log,
    unanchored_line,
    verifying_key,
)
from scomm.audit.checkpoints import verify_anchored as verify_with_checkpoints
from scomm.audit.reconcile import reconcile_database
from scomm.cli.console import console
from scomm.cli.database import open_database
from scomm.cli.errors import BadInput, CheckFailed
from scomm.cli.options import DatabaseUrl
from scomm.config import load_settings

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

NO_KEY = (
    "no audit signing key configured: set SCOMM_AUDIT_KEY (and SCOMM_CHECKPOINT_LOG); "
    "`scomm audit keygen --out DIR` makes one"
)
NOT_ANCHORED = (
    "not anchored: no checkpoint log configured (SCOMM_CHECKPOINT_LOG); "
    "the rows were checked against the unanchored chain"
)


@audit_app.command("verify")
def audit_verify(
    database: DatabaseUrl = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            dir_okay=False,
            metavar="FILE",
            show_default=False,
            help="A checkpoint log: also prove the chain extends every head it signs.",
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            dir_okay=False,
            metavar="FILE",
            show_default=False,
            help="The checkpoints' public key (PEM); default: $SCOMM_AUDIT_PUBLIC_KEY, else "
            "the public half of $SCOMM_AUDIT_KEY.",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="With --checkpoint: fail if entries after the last one are unsigned."
        ),
    ] = False,
) -> None:
    """Check the audit chain; exit 1 naming the first bad entry if a row was changed or deleted.

    With --checkpoint, also exit 1 if the chain does not extend the signed checkpoints: an
    entry rewritten (even with every hash recomputed), the tail cut, the table emptied, or
    entries appended after the run's closing checkpoint."""
    if checkpoint is None:
        if public_key is not None or strict:
            raise BadInput("--public-key and --strict go with --checkpoint FILE")
        with open_database(database) as db:
            result = verify_database(db)  # one snapshot: a live flow's appends raise no alarm
        _require_intact(result.ok, result.first_bad_seq, result.problem)
        console.print(f"audit chain intact: {result.entries} entries")
        return
    key = verifying_key(load_settings(), public_key)
    with open_database(database) as db:
        chain, anchored = verify_with_checkpoints(db, checkpoint, key)
    _require_intact(chain.ok, chain.first_bad_seq, chain.problem)
    assert anchored is not None
    if not anchored.ok:
        where = f" at entry {anchored.first_bad_seq}" if anchored.first_bad_seq else ""
        raise CheckFailed(
            f"audit chain does not extend its signed checkpoints{where}: {anchored.problem}"
        )
    if strict and anchored.unanchored:
        raise CheckFailed(unanchored_line(anchored))
    console.print(f"audit chain intact: {chain.entries} entries")
    console.print(escape(describe(anchored)))


def _require_intact(ok: bool, seq: int | None, problem: str) -> None:
    if not ok:
        raise CheckFailed(f"audit chain broken at entry {seq}: {problem}")


@audit_app.command("checkpoint")
def audit_checkpoint(database: DatabaseUrl = None) -> None:
    """Sign the chain's current head now and append it to the checkpoint log."""
    settings = load_settings()
    if settings.audit_key is None:
        raise BadInput(NO_KEY)
    with open_database(database) as db:
        anchor = Anchor.from_settings(settings, db)
        assert anchor is not None
        signed = anchor.checkpoint(CLOSED)
    console.print(
        f"signed the head, entry {signed.seq} ({signed.entry_hash[:16]}...), "
        f"into {escape(str(anchor.log_path))}"
    )
    if anchor.failures:
        raise CheckFailed(anchor.failures[0])


@audit_app.command("keygen")
def audit_keygen(
    out: Annotated[
        Path,
        typer.Option("--out", file_okay=False, metavar="DIR", help="Folder for the new key pair."),
    ],
) -> None:
    """Make an Ed25519 key pair for signing checkpoints (never overwrites a key).

    Keep the private key outside the database's reach; publish the public key."""
    private, public = generate_keys(out)
    console.print(f"private key {escape(str(private))} (mode 0600): set SCOMM_AUDIT_KEY to it")
    console.print(f"public key {escape(str(public))}: publish it with every release and report")


@audit_app.command("reconcile")
def audit_reconcile(database: DatabaseUrl = None) -> None:
    """Rebuild switch settings, cases and detainers from the audit log alone and name every
    row that disagrees with it, one line each (table, key, field); exit 1 if any does.

    The chain is verified first, in the same snapshot: a broken chain is no ground to
    rebuild from. Every column of the three tables is rebuilt; in a log written before its
    entries carried the case and detainer details (FBI number, IDENT id, level, rule set,
    removability, the detainer's record and hold deadline, the jail's receipt of a
    notification request) those fields are unknown: they are counted as unchecked, never
    as agreeing. The outbox and processed_messages are checked against the message entries
    (payload digest, due moment, parties, deliveries, dead letters). Officer decisions,
    bookings and the other tables are not reconciled.

    With a checkpoint log configured ($SCOMM_CHECKPOINT_LOG; the key as for `scomm report`),
    the chain must also extend its signed checkpoints (in the same snapshot), or nothing is
    rebuilt from it; without one, the output says the chain it used is not anchored."""
    settings = load_settings()
    log_path = settings.checkpoint_log
    anchored: list[AnchorCheck] = []
    vouch = None
    if log_path is not None:
        key = verifying_key(settings)
        before = read_log(log_path)  # before the snapshot begins

        def vouch(session: Session, chain: Verification) -> None:
            check = compare(session, chain.entries, before, read_log(log_path), key)
            if not check.ok:
                where = f" at entry {check.first_bad_seq}" if check.first_bad_seq else ""
                raise CheckFailed(
                    f"refusing to reconcile: audit chain does not extend its signed "
                    f"checkpoints{where}: {check.problem}"
                )
            anchored.append(check)

    with open_database(database) as db:
        verification, result = reconcile_database(db, vouch=vouch)
    if result is None:
        raise CheckFailed(
            f"audit chain broken at entry {verification.first_bad_seq}: "
            f"{verification.problem} (reconcile rebuilds only from an intact chain)"
        )
    console.print(escape(describe(anchored[0])) if anchored else NOT_ANCHORED, soft_wrap=True)
    for disagreement in result.disagreements:
        console.print(escape(disagreement.describe()), soft_wrap=True)
    checked = ", ".join(f"{n} {table}" for table, n in result.rows.items())
    if result.unchecked:
        fields = ", ".join(f"{tag} ({n})" for tag, n in sorted(result.unchecked.items()))
        console.print(
            "unchecked, not recorded by older audit entries "
            f"(the first: entry {result.first_unrecorded}): {escape(fields)}",
            soft_wrap=True,
        )
    if not result.ok:
        raise CheckFailed(
            f"{len(result.disagreements)} disagreement(s) with the audit log "
            f"({checked} rows read, {result.entries} entries)"
        )
    console.print(f"all rows agree with the audit log: {checked} ({result.entries} entries)")
