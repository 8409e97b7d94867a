"""A small statistics release folder for the public pages' tests (DESIGN17 §5): cells from
scomm.reports.cells.published_cells over a random base with small counts, counts of 1 to 10
suppressed (primary suppression only: a stand-in for scomm.reports.disclosure.protect, which
the pages do not depend on), jurisdictions, release.json, a manifest, a case table, a
codebook and a what-if comparison."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from pathlib import Path

from scomm.reports.cells import CellKey, Layout, Measure, months_between, published_cells

MEASURES = (
    Measure("submissions", "Fingerprint submissions", ("submitted",), "ice_monthly"),
    Measure("ident_matches", "IDENT matches", ("match_l1", "match_l2"), "ice_monthly"),
    Measure("ident_matches_l1", "IDENT matches, level 1", ("match_l1",), "ice_monthly"),
    Measure("detainers_lodged", "Detainers lodged", ("lodged",), "never_published"),
    Measure("citizens_matched", "US citizens matched", ("citizen",), "never_published"),
)
JURISDICTIONS = {
    "CA0010000": ("Alameda County <Sheriff>", "CA", "2009-10-27"),
    "CA0370000": ("San Diego County", "CA", "2009-05-26"),
    "TX0570000": ("Dallas County", "TX", "2009-03-10"),
    "TX2270000": ("Travis County", "TX", ""),
}
LAYOUT = Layout(MEASURES, {o: s for o, (_, s, _) in JURISDICTIONS.items()},
                months_between("2009-10", "2010-03"))  # fmt: skip
SCALE = {"submitted": 40, "match_l1": 4, "match_l2": 6, "lodged": 5, "citizen": 1}


def protected(seed: int = 17) -> dict[CellKey, int | None]:
    """Every cell of the layout over a random base, counts of 1 to 10 as None."""
    rng = random.Random(seed)
    base = {
        (atom, ori, month): rng.randint(0, 2 * scale)
        for atom, scale in SCALE.items()
        for ori in LAYOUT.jurisdictions
        for month in LAYOUT.months
    }
    return {k: None if 1 <= v <= 10 else v for k, v in published_cells(base, LAYOUT).items()}


def write_release(folder: Path, *, whatif: bool = True) -> dict[CellKey, int | None]:
    """Write the release into `folder`; returns its cells (None: suppressed)."""
    cells = protected()
    stats = folder / "statistics"
    stats.mkdir(parents=True)
    (stats / "cells.json").write_text(json.dumps([
        {"measure": k.measure, "geo": k.geo, "period": k.period, "value": v,
         "status": "suppressed" if v is None else "shown"}
        for k, v in cells.items()
    ]))  # fmt: skip
    with (stats / "jurisdictions.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ori", "name", "state", "activated"])  # as scomm stats writes it
        for ori, (name, state, activation) in JURISDICTIONS.items():
            writer.writerow([ori, name, state, activation])
    for group in ("ice_monthly", "never_published"):
        names = [m.name for m in MEASURES if m.group == group]
        (stats / f"{group}.csv").write_text(",".join(["geo", "period", *names]) + "\n")
    (stats / "release.json").write_text(json.dumps({
        "release": "test-release", "disclosure": "counts of 1 to 10 suppressed",
        "chain_head": {"seq": 42, "entry_hash": "ab" * 32},
        "window": {"first": "2009-10", "last": "2010-03"},
        "measures": [{"name": m.name, "title": m.title, "table": m.group} for m in MEASURES],
    }))  # fmt: skip
    (folder / "cases").mkdir()
    (folder / "cases" / "detainers.csv").write_text("person,month,state\np1,2009-10,CA\n")
    (folder / "codebook.md").write_text("# Codebook\n\n| field | type |\n| person | str |\n")
    (folder / "secret.key").write_text("never published")
    if whatif:
        (folder / "whatif.json").write_text(json.dumps({
            "scenario": "rollout-2008-2011", "scale": 0.01,
            "policies": ["safeguards-on", "safeguards-off"], "seeds": [1, 2, 3],
            "rows": [{"measure": "citizens_detained", "title": "US citizens detained",
                      "a": {"mean": 2.0, "low": 1.0, "high": 3.0},
                      "b": {"mean": 30.0, "low": 25.5, "high": 34.5},
                      "difference": {"mean": 28.0, "low": 23.0, "high": 33.0}},
                     {"measure": "removals", "title": "Removals (one seed: no interval)",
                      "a": {"mean": 5.0, "low": None, "high": None},
                      "b": {"mean": 7.0, "low": None, "high": None},
                      "difference": {"mean": 2.0, "low": None, "high": None}}],
        }))  # fmt: skip
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".key"]
    (folder / "manifest.json").write_text(json.dumps({
        "release": "test-release",
        "files": [{"path": p.relative_to(folder).as_posix(),
                   "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in files],
    }))  # fmt: skip
    return cells
