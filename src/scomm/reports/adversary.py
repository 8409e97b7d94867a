"""The adversary: how much of each suppressed cell can be worked out from everything published.

The adversary of a statistics release knows every published value, the additive structure
(every cell is the sum of its base counts, `scomm.reports.cells.support`), that every base
count is a whole number >= 0, and that every suppressed cell is >= 1 (zeros are shown, so a
suppressed cell is never 0). For each suppressed cell it solves two linear programmes, the
lowest and the highest value the cell can take under all of that (scipy.optimize.linprog,
HiGHS, sparse matrices). A cell is *recovered* when the two bounds, rounded inwards to whole
numbers, meet: then the release gives it away although it printed "1-10".

This is the linear-programming relaxation of the integer problem, the audit that statistical
agencies run (the "feasibility interval" of cell suppression, Cox 1980; Fischetti and
Salazar-González 1999). Bounds are rounded inwards (lowest up, highest down), so an
interval that holds only fractional points counts as recovered; an integer adversary can
in rare, non-network tables be stronger still than this relaxation.

Structure keeps it fast:
- atoms that always appear in the same measures are one variable (their sum);
- measures whose atoms do not overlap are independent problems (a *family*);
- base counts under a cell shown as 0 are 0 and leave the problem, and a shown cell with one
  unknown left fixes it (repeated until nothing more is fixed);
- one solved programme's optimum is a feasible point for every other cell: two feasible
  points in which a cell differs prove it is not recovered without solving for it. The
  interval reported for such a cell is the range seen at those points (inside the true one,
  `Bounds.exact` False) unless `exact_intervals` asks for both programmes for every cell.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

from scomm.reports.cells import CellKey, Layout

_EPS = 1e-6

Variable = tuple[int, str, str]  # atom group, ORI, month


@dataclass(frozen=True)
class Bounds:
    """The values a suppressed cell can take given the release: `low` to `high` (None:
    no upper bound). `exact` says both ends were solved for; otherwise they are values seen
    at feasible points, so the true interval is at least this wide."""

    low: int
    high: int | None
    exact: bool

    @property
    def pinned(self) -> bool:
        return self.high is not None and self.low >= self.high


@dataclass(frozen=True)
class Audit:
    """What the adversary learns about the suppressed cells of a release."""

    bounds: dict[CellKey, Bounds]
    recovered: list[CellKey]
    programmes: int = 0  # linear programmes solved
    families: int = 0  # independent problems
    variables: int = 0  # unknown base counts left after fixing what the release determines
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Family:
    """Measures that share atoms, and the variables their cells sum."""

    measures: tuple[str, ...]
    groups: dict[str, tuple[int, ...]]  # measure -> the atom groups it sums


def families(layout: Layout) -> list[Family]:
    """Split the release into independent problems: atoms in the same measures become one
    group; measures sharing a group belong to one family."""
    signature: dict[str, frozenset[str]] = defaultdict(frozenset)
    for measure in layout.measures:
        for atom in measure.atoms:
            signature[atom] = signature[atom] | {measure.name}
    group_of_signature: dict[frozenset[str], int] = {}
    for atom in sorted(signature):
        group_of_signature.setdefault(signature[atom], len(group_of_signature))
    groups_of_measure: dict[str, set[int]] = defaultdict(set)
    for sig, group in group_of_signature.items():
        for name in sig:
            groups_of_measure[name].add(group)
    # union-find over measures through shared groups
    parent = {m.name: m.name for m in layout.measures}

    def find(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for sig in group_of_signature:
        first, *rest = sorted(sig)
        for other in rest:
            parent[find(other)] = find(first)
    members: dict[str, list[str]] = defaultdict(list)
    for measure in layout.measures:
        members[find(measure.name)].append(measure.name)
    return [
        Family(tuple(names), {n: tuple(sorted(groups_of_measure[n])) for n in names})
        for names in members.values()
    ]


def recover(
    published: Mapping[CellKey, int | None],
    layout: Layout,
    *,
    exact_intervals: bool = False,
    measures: Iterable[str] | None = None,
) -> Audit:
    """Solve, from everything published, each suppressed cell's lowest and highest value.

    `published` maps every published cell to its value, None where suppressed (cells
    missing from it were not published and constrain nothing). `measures` limits the audit
    to the families of those measures (the others are not looked at).
    """
    wanted = set(measures) if measures is not None else None
    bounds: dict[CellKey, Bounds] = {}
    programmes = variables = count = 0
    by_measure: dict[str, list[tuple[CellKey, int | None]]] = defaultdict(list)
    for key, value in published.items():
        by_measure[key.measure].append((key, value))
    for family in families(layout):
        if wanted is not None and not wanted.intersection(family.measures):
            continue
        cells = [kv for name in family.measures for kv in by_measure.get(name, [])]
        if not any(v is None for _, v in cells):
            continue
        count += 1
        solved = _FamilyProblem(family, cells, layout).solve(exact_intervals)
        bounds.update(solved.bounds)
        programmes += solved.programmes
        variables += solved.variables
    recovered = sorted(
        (k for k, b in bounds.items() if b.pinned),
        key=lambda k: (k.measure, k.geo, k.period),
    )
    return Audit(bounds, recovered, programmes, count, variables)


@dataclass
class _Solved:
    bounds: dict[CellKey, Bounds]
    programmes: int
    variables: int


class _FamilyProblem:
    """One family's linear system: shown cells are equations, suppressed ones are >= 1."""

    def __init__(
        self, family: Family, cells: list[tuple[CellKey, int | None]], layout: Layout
    ) -> None:
        self.layout = layout
        self.family = family
        self.cells = cells
        self._oris: dict[str, list[str]] = {}
        self._months: dict[str, list[str]] = {}

    def _support(self, key: CellKey) -> list[Variable]:
        oris = self._oris.get(key.geo)
        if oris is None:
            oris = self._oris[key.geo] = self.layout.oris_of(key.geo)
        months = self._months.get(key.period)
        if months is None:
            months = self._months[key.period] = self.layout.months_of(key.period)
        groups = self.family.groups[key.measure]
        return [(g, o, m) for g in groups for o in oris for m in months]

    def solve(self, exact_intervals: bool) -> _Solved:
        supports = {key: self._support(key) for key, _ in self.cells}
        fixed: dict[Variable, float] = {}
        for key, value in self.cells:
            if value == 0:
                for var in supports[key]:
                    fixed[var] = 0.0
        self._propagate(supports, fixed)
        free = sorted(
            {v for key, _ in self.cells for v in supports[key] if v not in fixed},
        )
        index = {v: i for i, v in enumerate(free)}
        n = len(free)
        eq_rows: list[list[int]] = []
        eq_rhs: list[float] = []
        ub_rows: list[list[int]] = []
        ub_rhs: list[float] = []
        suppressed: list[CellKey] = []
        rows_of: dict[CellKey, list[int]] = {}
        constant: dict[CellKey, float] = {}
        for key, value in self.cells:
            cols = [index[v] for v in supports[key] if v in index]
            known = sum(fixed.get(v, 0.0) for v in supports[key])
            if value is None:
                suppressed.append(key)
                rows_of[key] = cols
                constant[key] = known
                if cols:
                    ub_rows.append(cols)
                    ub_rhs.append(known - 1.0)  # -(sum) <= known - 1, i.e. cell >= 1
            elif cols:
                eq_rows.append(cols)
                eq_rhs.append(value - known)
        a_eq = _matrix(eq_rows, n, 1.0)
        a_ub = _matrix(ub_rows, n, -1.0)
        seen_low: dict[CellKey, float] = {}
        seen_high: dict[CellKey, float] = {}
        solved_low: dict[CellKey, float] = {}
        solved_high: dict[CellKey, float | None] = {}
        programmes = 0

        def value_at(key: CellKey, x: np.ndarray) -> float:
            return constant[key] + float(x[rows_of[key]].sum())

        def observe(x: np.ndarray) -> None:
            for key in suppressed:
                v = value_at(key, x)
                seen_low[key] = min(seen_low.get(key, math.inf), v)
                seen_high[key] = max(seen_high.get(key, -math.inf), v)

        def certified(key: CellKey) -> bool:
            if solved_high.get(key, 0.0) is None:
                return True
            if key not in seen_low:
                return False
            return math.ceil(seen_low[key] - _EPS) < math.floor(seen_high[key] + _EPS)

        def optimise(key: CellKey, sign: float) -> tuple[float | None, np.ndarray | None]:
            nonlocal programmes
            programmes += 1
            c = np.zeros(n)
            c[rows_of[key]] = sign
            result = linprog(
                c,
                A_ub=a_ub,
                b_ub=ub_rhs or None,
                A_eq=a_eq,
                b_eq=eq_rhs or None,
                bounds=(0, None),
                method="highs",
            )
            if result.status == 3:  # unbounded: only possible when maximising
                return None, None
            if result.status != 0:  # infeasible data: nothing to learn from this cell
                return math.nan, None
            return constant[key] + sign * float(result.fun), np.asarray(result.x)

        rng = np.random.default_rng(0)
        open_keys = [k for k in suppressed if rows_of[k]]
        sign = 1.0
        while open_keys and not exact_intervals:
            # a batch programme: push the open cells up or down together with random
            # weights; its optimum is a new feasible point for every cell
            weights = np.zeros(n)
            for key in open_keys:
                weights[rows_of[key]] += rng.uniform(0.5, 1.5)
            x = self._optimum(weights * sign, a_ub, ub_rhs, a_eq, eq_rhs)
            programmes += 1
            sign = -sign
            if x is None:
                break
            observe(x)
            still = [k for k in open_keys if not certified(k)]
            if len(still) > 0.8 * len(open_keys) and sign > 0:
                open_keys = still
                break  # two rounds gained little: solve cell by cell
            open_keys = still
        for key in suppressed:
            if not rows_of[key]:
                solved_low[key] = solved_high[key] = constant[key]
                continue
            if certified(key) and not exact_intervals:
                continue
            if key not in solved_low:
                low, x = optimise(key, 1.0)
                if x is not None:
                    observe(x)
                solved_low[key] = low if low is not None else 0.0
            if certified(key) and not exact_intervals:
                continue
            high, x = optimise(key, -1.0)
            if x is not None:
                observe(x)
            solved_high[key] = high
        bounds: dict[CellKey, Bounds] = {}
        for key in suppressed:
            exact = key in solved_low and key in solved_high
            if exact:
                low_f, high_f = solved_low[key], solved_high[key]
            else:
                low_f = seen_low.get(key, 1.0)
                high_f = seen_high.get(key, 1.0)
            if low_f is not None and math.isnan(low_f):
                bounds[key] = Bounds(1, None, False)
                continue
            low_i = max(1, math.ceil(low_f - _EPS))
            high_i = None if high_f is None else math.floor(high_f + _EPS)
            bounds[key] = Bounds(low_i, high_i, exact)
        return _Solved(bounds, programmes, n)

    @staticmethod
    def _optimum(
        c: np.ndarray,
        a_ub: csr_matrix | None,
        b_ub: list[float],
        a_eq: csr_matrix | None,
        b_eq: list[float],
    ) -> np.ndarray | None:
        result = linprog(
            c,
            A_ub=a_ub,
            b_ub=b_ub or None,
            A_eq=a_eq,
            b_eq=b_eq or None,
            bounds=(0, None),
            method="highs",
        )
        return np.asarray(result.x) if result.status == 0 else None

    def _propagate(
        self, supports: dict[CellKey, list[Variable]], fixed: dict[Variable, float]
    ) -> None:
        """Fix every base count a shown cell determines: a shown cell with one unknown left."""
        cells_of: dict[Variable, list[int]] = defaultdict(list)
        shown = [(supports[k], float(v)) for k, v in self.cells if v is not None and v != 0]
        for i, (vars_, _) in enumerate(shown):
            for var in vars_:
                if var not in fixed:
                    cells_of[var].append(i)
        queue = list(range(len(shown)))
        while queue:
            i = queue.pop()
            vars_, value = shown[i]
            unknown = [v for v in vars_ if v not in fixed]
            if len(unknown) != 1:
                continue
            var = unknown[0]
            fixed[var] = value - sum(fixed[v] for v in vars_ if v != var)
            queue.extend(cells_of[var])


def _matrix(rows: list[list[int]], n: int, sign: float) -> csr_matrix | None:
    if not rows:
        return None
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((c for r in rows for c in r), dtype=np.int64, count=int(indptr[-1]))
    data = np.full(len(indices), sign)
    return csr_matrix((data, indices, indptr), shape=(len(rows), n))
