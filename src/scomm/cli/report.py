"""`scomm report`: the published statistics, recomputed from the audit log alone."""

from __future__ import annotations

import json

from rich.markup import escape
from rich.table import Table

from scomm.audit.chain import consistent_snapshot, verify
from scomm.cli.console import console
from scomm.cli.database import open_database
from scomm.cli.errors import CheckFailed
from scomm.cli.options import DatabaseUrl, JsonFile, check_file_target


def report(database: DatabaseUrl = None, json_out: JsonFile = None) -> None:
    """Recompute the published statistics from the audit log alone, once its chain verifies."""
    from scomm.reports.summary import summarise

    check_file_target(json_out, "--json")
    with open_database(database) as db, consistent_snapshot(db) as session:
        result = verify(session)  # the same snapshot the statistics are counted from
        if not result.ok:
            raise CheckFailed(
                f"refusing to publish: audit chain broken at entry {result.first_bad_seq}: "
                f"{result.problem}"
            )
        summary = summarise(session).as_dict()
    print_summary(summary)
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
