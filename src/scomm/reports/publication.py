"""A whole release in one go, from one reading of the audit log: the statistics under
disclosure control, the FOIA case tables, the codebook, the manifest and the public pages.

`scomm stats`, `scomm foia export` and `scomm stats site` make the same parts one at a
time; `make demo` (`scomm demo`) makes them all with `publish`. Every part records the
same chain head, so a reader can tell they were built from the same log.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from scomm.reports.disclosure import Rule, protect
from scomm.reports.foia import FoiaRelease, case_rows, write_case_tables
from scomm.reports.kanon import DEFAULT_K
from scomm.reports.ledger import ChainHead, Ledger
from scomm.reports.manifest import write_manifest
from scomm.reports.release import StatisticsRelease, build_statistics
from scomm.reports.site import Site, write_site

WHATIF = "whatif.json"


@dataclass(frozen=True)
class Publication:
    folder: Path
    statistics: StatisticsRelease
    cases: FoiaRelease
    site: Site | None


def publish(
    ledger: Ledger,
    head: ChainHead,
    out: Path,
    name: str,
    *,
    rule: Rule | None = None,
    k: int = DEFAULT_K,
    whatif: Path | None = None,
    pages: bool = True,
) -> Publication:
    """Write the release `name` of `ledger` (whose chain the caller verified, ending at
    `head`) into `out`: statistics/, cases/, the codebook, a what-if comparison when one is
    given (copied as whatif.json), the manifest over all of it, then the pages in out/site
    (a view of the release, outside its manifest)."""
    out.mkdir(parents=True, exist_ok=True)
    chosen = rule or Rule()
    statistics = build_statistics(
        ledger,
        head,
        out,
        name,
        protect=partial(protect, rule=chosen),
        bound=chosen.bound,
    )
    cases = write_case_tables(out, name, case_rows(ledger), chain_head=head, k=k)
    if whatif is not None:
        shutil.copyfile(whatif, out / WHATIF)
        write_manifest(out, release=name, chain_head=head, rules={}, row_counts={})
    site = write_site(out, out / "site") if pages else None
    return Publication(out, statistics, cases, site)
