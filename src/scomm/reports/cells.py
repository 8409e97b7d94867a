"""The cells a statistics release publishes, and the base counts each one sums.

Every published aggregate is a sum of base counts: how many times an atom (a fine-grained,
mutually exclusive kind of event, such as "an IDENT match that LESC put at level 1")
happened in one jurisdiction (ORI) in one calendar month. A published cell names a
measure (a sum of atoms), a place (the nation, a state or an ORI) and a period (a month,
a federal fiscal year or the whole release). Because the structure is explicit, anyone
can check that the tables add up, and the disclosure control can reason about which
suppressed cell the others give away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

US = "US"
CUMULATIVE = "cumulative"

BaseKey = tuple[str, str, str]  # atom, ORI, month "YYYY-MM"


@dataclass(frozen=True)
class Measure:
    """A published column: the sum of its atoms."""

    name: str
    title: str
    atoms: tuple[str, ...]
    group: str  # the table it appears in: "ice_monthly" or "never_published"


@dataclass(frozen=True)
class CellKey:
    measure: str
    geo: str  # "US", a state ("CA") or an ORI ("CA0010000")
    period: str  # a month ("2010-03"), a fiscal year ("FY2010") or "cumulative"


def fiscal_year(month: str) -> str:
    """The federal fiscal year of a month: FY2010 runs from October 2009 to September 2010."""
    year, mon = int(month[:4]), int(month[5:7])
    return f"FY{year + 1 if mon >= 10 else year}"


def months_between(first: str, last: str) -> tuple[str, ...]:
    """Every month from `first` to `last` ("YYYY-MM"), both included."""
    year, mon = int(first[:4]), int(first[5:7])
    out: list[str] = []
    while f"{year:04d}-{mon:02d}" <= last:
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return tuple(out)


@dataclass(frozen=True)
class Layout:
    """What a release publishes: every measure, in every place, over every period."""

    measures: tuple[Measure, ...]
    jurisdictions: Mapping[str, str]  # ORI -> its state
    months: tuple[str, ...]  # every month of the release window, in order

    def measure(self, name: str) -> Measure:
        for measure in self.measures:
            if measure.name == name:
                return measure
        raise KeyError(name)

    def states(self) -> list[str]:
        return sorted(set(self.jurisdictions.values()))

    def geos(self) -> list[str]:
        """The nation, then each state, then each ORI."""
        return [US, *self.states(), *sorted(self.jurisdictions)]

    def fiscal_years(self) -> list[str]:
        return sorted({fiscal_year(m) for m in self.months})

    def periods(self) -> list[str]:
        """Each month, then each fiscal year, then the whole release."""
        return [*self.months, *self.fiscal_years(), CUMULATIVE]

    def oris_of(self, geo: str) -> list[str]:
        if geo == US:
            return sorted(self.jurisdictions)
        if geo in self.jurisdictions:
            return [geo]
        return sorted(ori for ori, state in self.jurisdictions.items() if state == geo)

    def months_of(self, period: str) -> list[str]:
        if period == CUMULATIVE:
            return list(self.months)
        if period.startswith("FY"):
            return [m for m in self.months if fiscal_year(m) == period]
        return [period] if period in self.months else []

    def keys(self) -> Iterator[CellKey]:
        for measure in self.measures:
            for geo in self.geos():
                for period in self.periods():
                    yield CellKey(measure.name, geo, period)


def support(key: CellKey, layout: Layout) -> list[BaseKey]:
    """The base counts whose sum is the cell."""
    atoms = layout.measure(key.measure).atoms
    oris = layout.oris_of(key.geo)
    months = layout.months_of(key.period)
    return [(atom, ori, month) for atom in atoms for ori in oris for month in months]


def published_cells(base: Mapping[BaseKey, int], layout: Layout) -> dict[CellKey, int]:
    """Every cell of the release, exact (before any disclosure control). Base counts of
    atoms, ORIs or months outside the layout are not counted anywhere."""
    of_atom: dict[str, list[str]] = defaultdict(list)
    for measure in layout.measures:
        for atom in measure.atoms:
            of_atom[atom].append(measure.name)
    by_month: dict[tuple[str, str, str], int] = defaultdict(int)  # measure, ORI, month
    months = set(layout.months)
    for (atom, ori, month), count in base.items():
        if ori in layout.jurisdictions and month in months:
            for name in of_atom.get(atom, ()):
                by_month[name, ori, month] += count
    cells: dict[CellKey, int] = dict.fromkeys(layout.keys(), 0)
    for (name, ori, month), count in by_month.items():
        state = layout.jurisdictions[ori]
        for geo in (US, state, ori):
            for period in (month, fiscal_year(month), CUMULATIVE):
                cells[CellKey(name, geo, period)] += count
    return cells
