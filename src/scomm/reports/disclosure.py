"""Disclosure control for every published aggregate: suppression, rounding, or noise.

`protect(cells, layout, rule)` turns the exact cells of a release into what may be
published, in the manner of the public agencies' small-count rules (SERVICE.md §3):

1. *Primary suppression*: a count of 1 to `rule.threshold` (10) is suppressed; 0 is shown
   (a structural zero tells nothing about a person); larger counts are shown.
2. *Complementary suppression*, so that no suppressed cell can be worked out from the
   others. Two stages:
   - the margin rule (cheap, always run): every additive equation of the release (a
     nation is its states, a state its ORIs, a fiscal year its months, the whole release
     its fiscal years, a measure the measures that split its atoms, e.g. matches = level 1
     + level 2 + level 3 + unleveled) that holds a suppressed cell holds at least two, and
     the suppressed cells' known total does not pin them: it exceeds the sum of their
     *floors* (each hidden cell is >= 1, and a hidden total is >= its parts' values and
     floors: zeros are shown, so a year over four non-zero hidden months is >= 4). The
     same for containments (IDENT matches >= level 1 + level 2 + level 3 when the
     unleveled are no measure; citizens matched >= citizens detained). Each violation
     suppresses one more cell of that equation: the one that mends the most violated
     equations at once, then the smallest, then the finest. This defeats every attack
     through one equation at a time; attacks that chain several equations (a cell that
     joins two hidden rectangles of a table) are left to the exact audit;
   - the exact audit (`rule.audit == "exact"`, the default): `adversary.recover` solves
     each suppressed cell's feasible interval from everything published (all equations
     together, every base count >= 0, every suppressed cell >= 1); each recovered cell
     gets one more complementary cell from its equations, the margin rule runs again,
     and the audit repeats until it recovers nothing. After `protect` returns with the
     exact audit, no suppressed cell is recovered by the linear-programming adversary
     (`Protected.audit` holds every interval; `Protected.audit.recovered` is empty unless
     no cell was left to suppress, which callers should treat as a refusal). With
     `audit="margins"` only the margin guarantee holds (use it where the exact audit is
     too slow, and audit separately with `adversary.recover`).
3. Optional *rounding* (`rounding="drb"`), applied after suppression to the shown cells
   only (`drb_round`). Rounding removes information, so the suppression guarantee still
   holds; rounded margins need not add up to their rounded parts.
4. Optional *differential privacy* (`dp=DpSettings(...)`, `noisy_release`): instead of
   suppression, discrete Gaussian noise on every base count (OpenDP) and published cells
   as sums of the noisy base counts. Needs the base counts (`protect(..., base=base)`).

Suppression chooses complementary cells only among cells > 0 (a suppressed cell is
always >= 1: the adversary is told so, and a suppressed zero would tell a lie).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from scomm.reports.adversary import Audit, recover
from scomm.reports.cells import US, BaseKey, CellKey, Layout, fiscal_year, published_cells

SUPPRESSED = "(S)"  # how a suppressed cell is shown (never a number; see scomm.reports.site)


@dataclass(frozen=True)
class DpSettings:
    """A differentially private release: discrete Gaussian noise of standard deviation
    `scale` on every base count (atom, ORI, month), including the zeros.

    `cells_per_person` bounds how many base counts one person can add to in a release
    (a person booked several times, each booking adding to several atoms, touches up to
    bookings x atoms base cells); `per_cell` bounds how much one person adds to one base
    count. The L2 sensitivity is per_cell * sqrt(cells_per_person); a release enforces
    the bounds on the base counts it is given (`measures.bounded_base_counts`: a person's
    events beyond them are left out), so the privacy loss holds for everyone. `delta` is
    the delta at which epsilon is reported.
    """

    scale: float = 5.0
    cells_per_person: int = 12
    per_cell: int = 1
    delta: float = 1e-10
    nonnegative: bool = False


@dataclass(frozen=True)
class Rule:
    """How a release is protected. `audit`: "exact" (the linear-programming adversary,
    iterated until it recovers nothing) or "margins" (the margin rule only)."""

    threshold: int = 10
    rounding: Literal["drb"] | None = None
    dp: DpSettings | None = None
    complementary: bool = True
    audit: Literal["exact", "margins"] = "exact"

    @property
    def bound(self) -> tuple[int, int] | None:
        """The contribution bound a release under this rule enforces before its noise
        (`build_statistics`' `bound`): (cells per person, per cell); None without DP."""
        return (self.dp.cells_per_person, self.dp.per_cell) if self.dp is not None else None

    def describe(self) -> str:
        """The rule in words, for the manifest."""
        if self.dp is not None:
            return (
                "differential privacy: discrete Gaussian noise (OpenDP) of scale "
                f"{self.dp.scale:g} on every base count (atom x ORI x month, zeros "
                "included); published cells are sums of noisy base counts, so tables add "
                f"up; each person's contribution bounded to at most "
                f"{self.dp.cells_per_person} base counts, at most {self.dp.per_cell} each "
                "(their further events left out); no count is exact"
                + ("; negative cells shown as 0" if self.dp.nonnegative else "")
            )
        text = (
            f"counts of 1 to {self.threshold} suppressed (shown as '{SUPPRESSED}' on the "
            "pages, empty in CSV, null in JSON and Parquet), 0 shown"
        )
        if self.complementary:
            text += (
                "; complementary suppression so that no suppressed cell can be derived "
                "from the other published cells"
                + (
                    " (linear-programming audit of the whole release: every suppressed "
                    "cell has a feasible interval of at least two whole numbers)"
                    if self.audit == "exact"
                    else " (each additive equation holds no single and no pinned suppressed cell)"
                )
            )
        if self.rounding == "drb":
            text += (
                "; shown counts rounded in the Census DRB manner (<15; 15-99 to 10; "
                "100-999 to 50; 1,000-9,999 to 100; 10,000-99,999 to 500; "
                "100,000-999,999 to 1,000; then 4 significant digits); rounded totals "
                "need not equal the sum of their rounded parts"
            )
        return text


@dataclass(frozen=True)
class PrivacyLoss:
    """The privacy loss of a noisy release: rho of zero-concentrated DP, and the
    (epsilon, delta) it implies, for a person within the stated contribution bounds."""

    rho: float
    epsilon: float
    delta: float
    sensitivity: float  # L2
    invariants: tuple[str, ...]


@dataclass(frozen=True)
class Protected:
    """What a release may publish.

    `values`: the cell's published number, None where nothing is published (suppressed,
    or rounded to "<15"); `status`: "shown", "suppressed", "rounded" or "noisy";
    `display`: the text to print ("(S)" for suppressed, "<15", "1,250").
    """

    values: dict[CellKey, int | None]
    primary: set[CellKey]
    complementary: set[CellKey]
    rule: str
    status: dict[CellKey, str] = field(default_factory=dict)
    display: dict[CellKey, str] = field(default_factory=dict)
    audit: Audit | None = None
    privacy: PrivacyLoss | None = None
    rounds: int = 0  # rounds of the exact audit


def drb_round(n: int) -> int | None:
    """A count rounded in the manner of the Census Bureau's Disclosure Review Board: 0 stays
    0; 1 to 14 give None (shown as "<15"); 15-99 to the nearest 10; 100-999 to the nearest
    50; 1,000-9,999 to the nearest 100; 10,000-99,999 to the nearest 500;
    100,000-999,999 to the nearest 1,000; from 1,000,000 four significant digits. Halves
    round up (25 -> 30)."""
    if n < 0:
        raise ValueError("a count is never negative")
    if n == 0:
        return 0
    if n < 15:
        return None
    if n < 100:
        step = 10
    elif n < 1_000:
        step = 50
    elif n < 10_000:
        step = 100
    elif n < 100_000:
        step = 500
    elif n < 1_000_000:
        step = 1_000
    else:
        step = 10 ** (len(str(n)) - 4)
    return (n + step // 2) // step * step


def drb_display(n: int) -> str:
    rounded = drb_round(n)
    return "<15" if rounded is None else f"{rounded:,}"


# --- the additive equations of a release -------------------------------------------------

Equation = tuple[CellKey, tuple[CellKey, ...]]  # total, parts


def measure_splits(layout: Layout) -> list[tuple[str, tuple[str, ...]]]:
    """Each way a measure is the sum of other measures (their atoms split its atoms
    exactly), e.g. ("ident_matches", ("..._l1", "..._l2", "..._l3", "..._unleveled"))."""
    atoms = {m.name: frozenset(m.atoms) for m in layout.measures}
    splits: list[tuple[str, tuple[str, ...]]] = []
    for whole in layout.measures:
        inside = [n for n, a in atoms.items() if n != whole.name and a and a <= atoms[whole.name]]
        found: list[tuple[str, ...]] = []
        _cover(atoms, inside, atoms[whole.name], 0, [], found)
        splits.extend((whole.name, parts) for parts in found)
    return splits


def _cover(
    atoms: Mapping[str, frozenset[str]],
    inside: list[str],
    left: frozenset[str],
    start: int,
    chosen: list[str],
    found: list[tuple[str, ...]],
) -> None:
    """Exact covers of `left` by disjoint measures of `inside` (at most 8)."""
    if len(found) >= 8:
        return
    if not left:
        found.append(tuple(chosen))
        return
    for i in range(start, len(inside)):
        part = atoms[inside[i]]
        if part <= left:
            _cover(atoms, inside, left - part, i + 1, [*chosen, inside[i]], found)


def measure_packings(layout: Layout) -> list[tuple[str, tuple[str, ...]]]:
    """Each measure with disjoint measures inside it that do not fill it (the rest of its
    atoms is published nowhere on its own), e.g. citizens matched >= citizens detained, or
    IDENT matches >= level 1 + level 2 + level 3 when the unleveled are no measure."""
    atoms = {m.name: frozenset(m.atoms) for m in layout.measures}
    packings: set[tuple[str, tuple[str, ...]]] = set()
    for whole in layout.measures:
        inside = sorted(
            (n for n, a in atoms.items() if n != whole.name and a and a < atoms[whole.name]),
            key=lambda n: (-len(atoms[n]), n),
        )
        for first in inside:
            chosen, used = [first], set(atoms[first])
            for other in inside:
                if other != first and not atoms[other] & used:
                    chosen.append(other)
                    used |= atoms[other]
            if used != atoms[whole.name]:
                packings.add((whole.name, tuple(sorted(chosen))))
    return sorted(packings)


def inequalities(layout: Layout) -> list[Equation]:
    """Every total >= sum of parts among the published cells (from `measure_packings`)."""
    geos, periods = layout.geos(), layout.periods()
    return [
        (CellKey(whole, geo, period), tuple(CellKey(p, geo, period) for p in parts))
        for whole, parts in measure_packings(layout)
        for geo in geos
        for period in periods
    ]


def equations(layout: Layout) -> list[Equation]:
    """Every additive equation among the published cells that the margin rule checks."""
    states = layout.states()
    oris_of_state = {s: layout.oris_of(s) for s in states}
    fys = layout.fiscal_years()
    months_of_fy = {fy: [m for m in layout.months if fiscal_year(m) == fy] for fy in fys}
    periods = layout.periods()
    geos = layout.geos()
    out: list[Equation] = []
    for measure in layout.measures:
        name = measure.name
        for period in periods:
            out.append((CellKey(name, US, period), tuple(CellKey(name, s, period) for s in states)))
            for state in states:
                out.append(
                    (
                        CellKey(name, state, period),
                        tuple(CellKey(name, o, period) for o in oris_of_state[state]),
                    )
                )
        for geo in geos:
            out.append(
                (CellKey(name, geo, "cumulative"), tuple(CellKey(name, geo, fy) for fy in fys))
            )
            for fy in fys:
                out.append(
                    (CellKey(name, geo, fy), tuple(CellKey(name, geo, m) for m in months_of_fy[fy]))
                )
    for whole, parts in measure_splits(layout):
        for geo in geos:
            for period in periods:
                out.append(
                    (CellKey(whole, geo, period), tuple(CellKey(p, geo, period) for p in parts))
                )
    return out


# --- suppression ---------------------------------------------------------------------------


def _level(key: CellKey) -> int:
    """Coarser cells are worth more to readers: 0 for an ORI-month, up to 5 for the nation's
    whole release."""
    geo = 0 if key.geo != US and len(key.geo) > 2 else (1 if key.geo != US else 2)
    period = 0 if key.period[:2].isdigit() else (1 if key.period.startswith("FY") else 2)
    return geo + period


class _Suppressor:
    def __init__(self, cells: Mapping[CellKey, int], layout: Layout, threshold: int) -> None:
        self.cells = cells
        self.layout = layout
        self.suppressed: set[CellKey] = {k for k, v in cells.items() if 1 <= v <= threshold}
        self.primary = set(self.suppressed)
        self.equations = [(total, parts) for total, parts in equations(layout) if total in cells]
        self.first_inequality = len(self.equations)
        self.low: dict[CellKey, int] = {}
        self.equations += [(t, parts) for t, parts in inequalities(layout) if t in cells]
        self.of_cell: dict[CellKey, list[int]] = defaultdict(list)
        for i, (total, parts) in enumerate(self.equations):
            self.of_cell[total].append(i)
            for part in parts:
                self.of_cell[part].append(i)

    def violated(self, i: int) -> bool:
        """Does equation i give a suppressed cell away on its own?"""
        total, parts = self.equations[i]
        hidden_parts = [p for p in parts if p in self.suppressed]
        if i >= self.first_inequality:  # total >= parts: only a shown total can pin them
            if total in self.suppressed or not hidden_parts:
                return False
            slack = self.cells[total] - sum(
                self.cells[p] for p in parts if p not in self.suppressed
            )
            return slack <= self._floor(hidden_parts)
        total_hidden = total in self.suppressed
        count = len(hidden_parts) + total_hidden
        if count == 0:
            return False
        if count == 1:
            return True
        if total_hidden:
            return False
        known = self.cells[total] - sum(self.cells[p] for p in parts if p not in self.suppressed)
        # each is at least its floor: a known total equal to the floors' sum pins them all
        return known <= self._floor(hidden_parts)

    def _floor(self, hidden: list[CellKey]) -> int:
        return sum(self.low.get(c, 1) for c in hidden)

    def floors(self) -> None:
        """The least value the adversary can prove for each suppressed cell from below:
        at least 1, and at least the sum of its parts' values or floors (zeros are shown,
        so a total over four non-zero hidden months is >= 4). Repeated to a fixpoint."""
        low = dict.fromkeys(self.suppressed, 1)
        changed = True
        while changed:
            changed = False
            for total, parts in self.equations:
                if total not in low:
                    continue
                floor = sum(low[p] if p in low else self.cells[p] for p in parts)
                if floor > low[total]:
                    low[total] = floor
                    changed = True
        self.low = low

    def candidates(self, i: int) -> list[CellKey]:
        total, parts = self.equations[i]
        return [c for c in (total, *parts) if c not in self.suppressed and self.cells[c] > 0]

    def choose(self, options: Iterable[CellKey]) -> CellKey | None:
        best: tuple[int, int, int, str, str, str] | None = None
        chosen: CellKey | None = None
        for cell in options:
            mends = sum(1 for j in self.of_cell[cell] if self.violated(j))
            score = (-mends, self.cells[cell], _level(cell), cell.measure, cell.geo, cell.period)
            if best is None or score < best:
                best, chosen = score, cell
        return chosen

    def margins(self) -> set[CellKey]:
        """Apply the margin rule until every equation holds; return the cells added. The
        floors are worked out again after each pass until a pass adds nothing."""
        added: set[CellKey] = set()
        while True:
            self.floors()
            more = self._margins_pass()
            added |= more
            if not more:
                return added

    def _margins_pass(self) -> set[CellKey]:
        added: set[CellKey] = set()
        queue = sorted({j for c in self.suppressed for j in self.of_cell[c]}, reverse=True)
        pending = set(queue)
        while queue:
            i = queue.pop()
            pending.discard(i)
            while self.violated(i):
                cell = self.choose(self.candidates(i))
                if cell is None:
                    break
                self.suppressed.add(cell)
                added.add(cell)
                for j in self.of_cell[cell]:
                    if j not in pending:
                        pending.add(j)
                        queue.append(j)
        return added

    def mend(self, recovered: Iterable[CellKey]) -> set[CellKey]:
        """One more suppressed cell in an equation of each recovered cell (failing that,
        a cell of a measure sharing atoms with it, same place and period)."""
        added: set[CellKey] = set()
        atoms = {m.name: set(m.atoms) for m in self.layout.measures}
        for cell in recovered:
            options = self._nearest_candidates(cell)
            if not options:
                options = [
                    key
                    for name, own in atoms.items()
                    if name != cell.measure and own & atoms[cell.measure]
                    for key in (CellKey(name, cell.geo, cell.period),)
                    if key not in self.suppressed and self.cells.get(key, 0) > 0
                ]
            choice = self.choose(options)
            if choice is not None:
                self.suppressed.add(choice)
                added.add(choice)
        return added

    def _nearest_candidates(self, cell: CellKey, depth: int = 4) -> list[CellKey]:
        """Shown non-zero cells of the recovered cell's equations; where all are hidden
        or zero, those of the equations of the hidden ones, and so on."""
        frontier, seen = {cell}, {cell}
        for _ in range(depth):
            options: list[CellKey] = []
            following: set[CellKey] = set()
            for member in frontier:
                for j in self.of_cell[member]:
                    total, parts = self.equations[j]
                    options.extend(self.candidates(j))
                    following.update(c for c in (total, *parts) if c in self.suppressed)
            if options:
                return options
            frontier = following - seen
            seen |= frontier
            if not frontier:
                break
        return []

    def published(self) -> dict[CellKey, int | None]:
        return {k: (None if k in self.suppressed else v) for k, v in self.cells.items()}


def protect(
    cells: Mapping[CellKey, int],
    layout: Layout,
    rule: Rule | None = None,
    *,
    base: Mapping[BaseKey, int] | None = None,
) -> Protected:
    """What the release may publish under `rule` (see the module's docstring for the
    guarantees). With `rule.dp`, `base` (the base counts the cells sum) is required."""
    rule = rule or Rule()
    if rule.dp is not None:
        if base is None:
            raise ValueError("a differentially private release needs the base counts")
        return noisy_release(base, layout, rule.dp, rule=rule)
    suppressor = _Suppressor(cells, layout, rule.threshold)
    audit: Audit | None = None
    rounds = 0
    if rule.complementary:
        suppressor.margins()
        if rule.audit == "exact":
            measures: set[str] | None = None
            while True:
                rounds += 1
                found = recover(suppressor.published(), layout, measures=measures)
                audit = found if audit is None else _merge(audit, found)
                if not found.recovered:
                    break
                before = set(suppressor.suppressed)
                suppressor.mend(found.recovered)
                suppressor.margins()
                changed = suppressor.suppressed - before
                if not changed:  # nothing left to suppress: report, do not loop
                    break
                measures = {c.measure for c in changed}
    published = suppressor.published()
    status = {k: ("suppressed" if v is None else "shown") for k, v in published.items()}
    display = {k: (SUPPRESSED if v is None else f"{v:,}") for k, v in published.items()}
    if rule.rounding == "drb":
        for key, value in published.items():
            if value is not None:
                published[key] = drb_round(value)
                status[key] = "rounded"
                display[key] = drb_display(value)
    return Protected(
        values=published,
        primary=suppressor.primary,
        complementary=suppressor.suppressed - suppressor.primary,
        rule=rule.describe(),
        status=status,
        display=display,
        audit=audit,
        rounds=rounds,
    )


def _merge(old: Audit, new: Audit) -> Audit:
    """A re-audit of some families replaces their bounds and keeps the others."""
    measures = {k.measure for k in new.bounds}
    bounds = {k: b for k, b in old.bounds.items() if k.measure not in measures}
    bounds.update(new.bounds)
    recovered = sorted(
        (k for k, b in bounds.items() if b.pinned), key=lambda k: (k.measure, k.geo, k.period)
    )
    return Audit(
        bounds,
        recovered,
        old.programmes + new.programmes,
        max(old.families, new.families),
        new.variables,
    )


# --- differential privacy ----------------------------------------------------------------

INVARIANTS = (
    "the list of jurisdictions, their states and activation dates are public and exact",
    "the months of the release window and the measures published are public",
    "every published cell is the sum of its noisy base counts, so tables add up exactly",
    "no count is exact: every base count, zeros included, carries independent noise",
)


def privacy_loss(settings: DpSettings) -> PrivacyLoss:
    """rho (zCDP) and (epsilon, delta) of the discrete Gaussian release, from OpenDP.

    The Gaussian's loss is homogeneous: noise of scale s at L2 sensitivity D costs what
    scale s / D costs at sensitivity 1, which OpenDP's map answers exactly."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    sensitivity = settings.per_cell * math.sqrt(settings.cells_per_person)
    unit = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=int, nan=False)),
        dp.l2_distance(T=int),
        scale=settings.scale / sensitivity,
    )
    rho = float(unit.map(1))  # type: ignore[no-untyped-call]
    profile = dp.c.make_zCDP_to_approxDP(unit).map(1)  # type: ignore[no-untyped-call]
    epsilon = float(profile.epsilon(settings.delta))
    return PrivacyLoss(rho, epsilon, settings.delta, sensitivity, INVARIANTS)


def noisy_base(
    base: Mapping[BaseKey, int], layout: Layout, settings: DpSettings
) -> dict[BaseKey, int]:
    """Every base count of the layout (atom x ORI x month, zeros included) plus discrete
    Gaussian noise of `settings.scale` (OpenDP's sampler; not seedable)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    atoms = sorted({a for m in layout.measures for a in m.atoms})
    keys = [(a, o, m) for a in atoms for o in sorted(layout.jurisdictions) for m in layout.months]
    mechanism = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=int, nan=False), size=len(keys)),
        dp.l2_distance(T=int),
        scale=settings.scale,
    )
    noisy = mechanism([int(base.get(k, 0)) for k in keys])
    return dict(zip(keys, (int(v) for v in noisy), strict=True))


def noisy_release(
    base: Mapping[BaseKey, int],
    layout: Layout,
    settings: DpSettings,
    *,
    rule: Rule | None = None,
) -> Protected:
    """A differentially private release: every cell the sum of its noisy base counts.

    Nothing is suppressed. Cells may be negative where the truth is small: they are
    published as computed, so every table adds up, unless `settings.nonnegative` shows
    negative cells as 0 (post-processing: the privacy loss is unchanged, but then a total
    need not equal the sum of its parts)."""
    noisy = noisy_base(base, layout, settings)
    values: dict[CellKey, int | None] = {
        key: max(total, 0) if settings.nonnegative else total
        for key, total in published_cells(noisy, layout).items()
    }
    return Protected(
        values=values,
        primary=set(),
        complementary=set(),
        rule=(rule or Rule(dp=settings)).describe(),
        status=dict.fromkeys(values, "noisy"),
        display={k: f"{v:,}" for k, v in values.items() if v is not None},
        privacy=privacy_loss(settings),
    )
