"""A statistics release: the ledger's base counts summed into every published cell, put
through disclosure control (`scomm.reports.disclosure`), and written as files
(`DIR/statistics/`), with the release's manifest (`scomm.reports.manifest`).

    ledger -> base counts -> layout -> published cells -> protect -> files

`cells.json` holds every cell of every table with its status; `ice_monthly` and
`never_published` (CSV and Parquet) are views of the same cells, one row per place and
period and one column per measure, a suppressed cell empty (null); `jurisdictions.csv` is
the roster with activation dates; `release.json` names the release, the chain head it was
built from, when, and the window. The disclosure control is a parameter (`protect(cells,
layout, base=...)`, by default `scomm.reports.disclosure.protect` under its default rule); a
release whose suppressed cells it could not protect is refused before anything is written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy.orm import Session

from scomm.bus.memory import MemoryEntry
from scomm.reports.cells import CUMULATIVE, US, CellKey, Layout, published_cells
from scomm.reports.disclosure import Protected
from scomm.reports.disclosure import protect as protect_cells
from scomm.reports.errors import PublicationRefused
from scomm.reports.ledger import ChainHead, Ledger, chain_head, recorded_head
from scomm.reports.manifest import head_dict, write_manifest
from scomm.reports.measures import (
    GROUPS,
    base_counts,
    bounded_base_counts,
    jurisdiction_table,
    layout_of,
)

STATISTICS = "statistics"


# protect(cells, layout, base=base counts) -> what to publish: `scomm.reports.disclosure.protect`
# (with functools.partial for its rule); `base` is for a noisy (DP) release
Protector = Callable[..., Protected]


@dataclass(frozen=True)
class StatisticsRelease:
    name: str
    created: datetime
    head: ChainHead
    layout: Layout
    cells: dict[CellKey, int]  # exact: never written
    published: Mapping[CellKey, int | None]
    rule: Any
    files: list[Path]
    privacy: dict[str, Any] | None = None  # a noisy release's privacy loss and invariants

    def nation_cumulative(self) -> list[tuple[str, str, int | None]]:
        """(measure, title, published value) for the nation over the whole release."""
        return [
            (m.name, m.title, self.published.get(CellKey(m.name, US, CUMULATIVE)))
            for m in self.layout.measures
        ]


def build_statistics(
    ledger: Ledger,
    head: ChainHead,
    out: Path,
    name: str,
    protect: Protector = protect_cells,
    created: datetime | None = None,
    bound: tuple[int, int] | None = None,
) -> StatisticsRelease:
    """Count, protect and write the statistics of `ledger` into `out/statistics/`.

    `bound` (cells per person, count per cell), for a noisy release: the protector gets
    the base counts with each person's contribution bounded so
    (`measures.bounded_base_counts`), which the privacy loss it states assumes."""
    base = base_counts(ledger)
    layout = layout_of(ledger, base)
    cells = published_cells(base, layout)
    given = base if bound is None else bounded_base_counts(ledger, *bound)
    protected = protect(cells, layout, base=given)
    audit = getattr(protected, "audit", None)  # the adversary's verdict, where it ran
    if audit is not None and audit.recovered:
        raise PublicationRefused(
            f"refusing to publish {name}: disclosure control left "
            f"{len(audit.recovered)} suppressed cells that the published ones give "
            "away (nothing was written)"
        )
    values = protected.values
    # "shown", "suppressed", "rounded" or "noisy" where the protector says (disclosure's
    # `Protected.status`); else a value is shown and None is suppressed
    statuses: Mapping[CellKey, str] = getattr(protected, "status", None) or {}
    when = created or datetime.now(UTC).replace(microsecond=0)
    folder = out / STATISTICS
    folder.mkdir(parents=True, exist_ok=True)
    files = [_write_cells(folder / "cells.json", layout, values, statuses)]
    for group in GROUPS:
        files += _write_table(folder, group, layout, values)
    files.append(_write_jurisdictions(folder / "jurisdictions.csv", ledger))
    loss = getattr(protected, "privacy", None)
    privacy = (
        {
            "rho_zcdp": loss.rho,
            "epsilon": loss.epsilon,
            "delta": loss.delta,
            "l2_sensitivity": loss.sensitivity,
            "invariants": list(loss.invariants),
        }
        if loss is not None
        else None
    )
    release = StatisticsRelease(
        name, when, head, layout, cells, values, protected.rule, files, privacy
    )
    files.append(_write_release(folder / "release.json", release))
    write_manifest(
        out,
        release=name,
        chain_head=head,
        rules={STATISTICS: protected.rule}
        | ({f"{STATISTICS}_privacy": privacy} if privacy is not None else {}),
        row_counts={
            # a row per place and period (`table_rows`)
            f"{STATISTICS}/{group}": len(layout.geos()) * len(layout.periods())
            for group in GROUPS
        },
    )
    return release


def statistics_of_entries(
    entries: Iterable[MemoryEntry],
    out: Path,
    name: str,
    protect: Protector = protect_cells,
    names: Mapping[str, str] | None = None,
    bound: tuple[int, int] | None = None,
) -> StatisticsRelease:
    """A release from a memory run's audit entries (the chain head recomputed from them)."""
    kept = list(entries)
    return build_statistics(
        Ledger.of_entries(kept, names), chain_head(kept), out, name, protect=protect, bound=bound
    )


def statistics_of_session(
    session: Session,
    out: Path,
    name: str,
    protect: Protector = protect_cells,
    bound: tuple[int, int] | None = None,
) -> StatisticsRelease:
    """A release from a database's audit log, with the head its chain records. The caller
    verifies the chain first, in the same snapshot (`scomm stats` does)."""
    return build_statistics(
        Ledger.read(session), recorded_head(session), out, name, protect=protect, bound=bound
    )


# -- the files --


def _status(key: CellKey, value: int | None, statuses: Mapping[CellKey, str]) -> str:
    if key in statuses:
        return statuses[key]
    return "suppressed" if value is None else "shown"


def _write_cells(
    path: Path,
    layout: Layout,
    values: Mapping[CellKey, int | None],
    statuses: Mapping[CellKey, str],
) -> Path:
    rows = [
        {
            "measure": key.measure,
            "geo": key.geo,
            "period": key.period,
            "value": values.get(key),
            "status": _status(key, values.get(key), statuses),
        }
        for key in layout.keys()
    ]
    lines = ",\n".join(json.dumps(row, separators=(",", ":")) for row in rows)
    path.write_text(f"[\n{lines}\n]\n")
    return path


def geo_level(geo: str, layout: Layout) -> str:
    if geo == US:
        return "nation"
    return "jurisdiction" if geo in layout.jurisdictions else "state"


def period_kind(period: str) -> str:
    if period == CUMULATIVE:
        return CUMULATIVE
    return "fiscal_year" if period.startswith("FY") else "month"


def table_rows(
    group: str, layout: Layout, values: Mapping[CellKey, int | None]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The table of one group: a row per place and period, a column per measure."""
    measures = [m.name for m in layout.measures if m.group == group]
    columns = ["geo", "geo_level", "period", "period_kind", *measures]
    rows = []
    for geo in layout.geos():
        for period in layout.periods():
            row: dict[str, Any] = {
                "geo": geo,
                "geo_level": geo_level(geo, layout),
                "period": period,
                "period_kind": period_kind(period),
            }
            for measure in measures:
                row[measure] = values.get(CellKey(measure, geo, period))
            rows.append(row)
    return columns, rows


def _write_table(
    folder: Path, group: str, layout: Layout, values: Mapping[CellKey, int | None]
) -> list[Path]:
    columns, rows = table_rows(group, layout, values)
    csv_path = folder / f"{group}.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    schema = pa.schema(
        [pa.field(c, pa.string()) for c in columns[:4]]
        + [pa.field(c, pa.int64()) for c in columns[4:]]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    parquet_path = folder / f"{group}.parquet"
    pq.write_table(table, parquet_path)
    return [csv_path, parquet_path]


def _write_jurisdictions(path: Path, ledger: Ledger) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["ori", "name", "state", "activated"])
        writer.writeheader()
        writer.writerows(jurisdiction_table(ledger))
    return path


def _write_release(path: Path, release: StatisticsRelease) -> Path:
    months = release.layout.months
    described = {
        "release": release.name,
        "created": release.created.isoformat(),
        "chain_head": head_dict(release.head),
        "window": {"first": months[0] if months else None, "last": months[-1] if months else None},
        "disclosure": release.rule if isinstance(release.rule, str) else str(release.rule),
        "suppressed": "empty in CSV, null in JSON and Parquet",
        "privacy": release.privacy,
        "measures": [
            {"name": m.name, "title": m.title, "table": m.group, "atoms": list(m.atoms)}
            for m in release.layout.measures
        ],
        "files": [str(p.relative_to(path.parent)) for p in release.files],
    }
    path.write_text(json.dumps(described, indent=2) + "\n")
    return path
