"""`scomm report`: the published statistics, recomputed from the audit log alone."""

from __future__ import annotations

import json

from rich.markup import escape
from rich.table import Table

from scomm.audit.checkpoints import (
    compare,
    describe,
    public_pem,
    published,
    read_log,
    verifying_key,
)
from scomm.cli.console import console
from scomm.cli.database import verified_snapshot
from scomm.cli.errors import CheckFailed
from scomm.cli.options import DatabaseUrl, JsonFile, check_file_target
from scomm.config import load_settings

NOT_ANCHORED = (
    "not anchored: no checkpoint log configured (SCOMM_CHECKPOINT_LOG); "
    "the counts rest on the unanchored chain"
)


def report(database: DatabaseUrl = None, json_out: JsonFile = None) -> None:
    """Recompute the published statistics from the audit log alone, once its chain verifies.

    With a checkpoint log configured ($SCOMM_CHECKPOINT_LOG), the chain must also extend its
    signed checkpoints; the public key and the checkpoint verified against are published.
    Without one, the report says it is not anchored (and its JSON has "anchor": null)."""
    from scomm.reports.summary import summarise

    check_file_target(json_out, "--json")
    settings = load_settings()
    log_path = settings.checkpoint_log
    key = verifying_key(settings) if log_path is not None else None
    before = read_log(log_path) if log_path is not None else None  # before the snapshot
    anchored = None
    with verified_snapshot(database) as (session, result):
        if log_path is not None and before is not None and key is not None:
            anchored = compare(session, result.entries, before, read_log(log_path), key)
            if not anchored.ok:
                where = f" at entry {anchored.first_bad_seq}" if anchored.first_bad_seq else ""
                raise CheckFailed(
                    f"refusing to publish: audit chain does not extend its signed checkpoints"
                    f"{where}: {anchored.problem}"
                )
        summary = summarise(session).as_dict()
    # null: published from the chain alone, which whoever writes the database can rewrite
    summary["anchor"] = (
        published(anchored, key) if anchored is not None and key is not None else None
    )
    print_summary(summary)
    if anchored is not None and key is not None:
        console.print(escape(describe(anchored)))
        console.print(f"public key (key id {anchored.key_id}):")
        console.print(escape(public_pem(key).strip()))
    else:
        console.print(NOT_ANCHORED)
    if json_out is not None:
        json_out.write_text(json.dumps(summary, indent=2) + "\n")


def print_summary(summary: dict[str, object]) -> None:
    """The counts of messages, outcomes and ground truth as one table."""
    table = Table(title="scomm summary")
    table.add_column("section")
    table.add_column("name")
    table.add_column("count", justify="right")
    for section in ("messages", "outcomes", "ground_truth"):
        values = summary.get(section) or {}
        assert isinstance(values, dict)
        for name, count in values.items():
            table.add_row(section, escape(str(name)), str(count))
    console.print(table)
