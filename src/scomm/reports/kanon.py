"""k-anonymity of a case-level table by generalisation: every count one can compute from
the table is 0 or at least k.

The rule (Sweeney's k-anonymity, applied to the full record): two rows are in the same
equivalence class when every published column but the identifier columns (the pseudonymous
person identifier) holds the same value, a withheld value (None) included. When every class
holds the rows of at least k people (k different identifiers; a row without one is a person
of its own), any count one can take from the table alone (rows, or people, grouped by any
set of columns, filtered by any values) is a sum over whole classes, so it is 0 or at least
k. (k rows are not enough: eleven rows of four people would tell a count of four people.)

The method is generalisation along each column's hierarchy (Samarati and Sweeney: month ->
fiscal year -> withheld; state -> area -> withheld; category -> withheld), applied locally
(only to the rows of classes smaller than k), in three stages:

1. rare categories: in each categorical column, a value held by fewer than k rows is withheld;
2. greedy steps: while some classes are smaller than k, one step (a column, or columns
   withheld together) is withheld in all their rows: the step that leaves the fewest rows
   in small classes, of steps as good the first in the table's order of preference (the
   month before the state, categories after them, the area and the fiscal year last). A
   coarser column goes only after its finer one (the fiscal year after the month, the
   area after the state), so a row keeps the fiscal year of a withheld month and the area
   of a withheld state;
3. the last class: rows whose every column got withheld hold nothing but their
   identifiers; when they are fewer than k people, people of the largest classes (all
   their rows there; keeping those at least k) or, if need be, whole classes join them.
   A table of fewer than k people is published empty.

Generalising only merges classes, so a class at least k never drops below it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Value = str | int | bool | None
Row = dict[str, Value]

DEFAULT_K = 11  # CMS's small-cell rule: counts of 1 to 10 are not published


@dataclass(frozen=True)
class Generalisation:
    """How one table is generalised: `steps` in order, each a group of columns withheld
    together for the rows still in small classes."""

    k: int
    steps: tuple[tuple[str, ...], ...]
    categorical: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    # (column, the finer column that must be withheld first): ("fiscal_year", "month")
    requires: tuple[tuple[str, str], ...] = ()

    def describe(self) -> dict[str, object]:
        """The rule as the manifest states it."""
        return {
            "rule": "full-record k-anonymity by local generalisation",
            "k": self.k,
            "rare_categories_withheld": list(self.categorical),
            "steps_by_preference": [list(step) for step in self.steps],
            "withheld_only_after": {name: finer for name, finer in self.requires},
            "identifier_columns_excluded": list(self.identifiers),
            "guarantee": (
                f"every class holds the rows of at least {self.k} people, so every count "
                f"computable from this table alone (rows, or people, grouped by any columns "
                f"but the identifiers) is 0 or at least {self.k}"
            ),
        }


@dataclass
class Anonymised:
    rows: list[Row]
    # how many values each column had withheld by the rule (not those missing before it)
    withheld: Counter[str] = field(default_factory=Counter)
    rows_dropped: int = 0  # only where the whole table had fewer than k rows


def class_key(row: Row, quasi: Sequence[str]) -> tuple[Value, ...]:
    return tuple(row[name] for name in quasi)


def person_of(row: Row, identifiers: Sequence[str]) -> object:
    """Who a row is about: its identifiers' values; a row without any is a person of its
    own (and, without identifier columns, every row is)."""
    values = tuple(row[name] for name in identifiers)
    return values if any(v is not None for v in values) else ("row", id(row))


def class_sizes(
    rows: Iterable[Row], quasi: Sequence[str], identifiers: Sequence[str] = ()
) -> Counter[tuple[Value, ...]]:
    """How many people each class holds: its rows, counting a person's rows once (a class
    of eleven rows of three people tells a count of three people)."""
    people: dict[tuple[Value, ...], set[object]] = {}
    for row in rows:
        people.setdefault(class_key(row, quasi), set()).add(person_of(row, identifiers))
    return Counter({key: len(members) for key, members in people.items()})


def is_k_anonymous(
    rows: Sequence[Row], quasi: Sequence[str], k: int, identifiers: Sequence[str] = ()
) -> bool:
    return all(size >= k for size in class_sizes(rows, quasi, identifiers).values())


def k_anonymise(rows: Iterable[Row], columns: Sequence[str], rule: Generalisation) -> Anonymised:
    """The rows generalised so that every full-record class over `columns` (less the
    identifier columns) holds the rows of at least `rule.k` people; a table of fewer
    people is published empty. The input rows are not changed."""
    out = [dict(row) for row in rows]
    ids = [name for name in columns if name in rule.identifiers]
    quasi = [name for name in columns if name not in rule.identifiers]
    result = Anonymised(out)
    if not out:
        return result
    if len({person_of(row, ids) for row in out}) < rule.k:  # fewer than k people
        result.rows, result.rows_dropped = [], len(out)
        return result
    _withhold_rare(out, rule, result.withheld)
    while True:
        sizes = class_sizes(out, quasi, ids)
        small = [row for row in out if sizes[class_key(row, quasi)] < rule.k]
        if not small:
            return result
        step = _best_step(small, sizes, quasi, rule)
        if step is None:
            break
        for row in small:
            _withhold(row, _applicable(row, step, rule), result.withheld)
    _complete_last_class(out, quasi, rule.k, result.withheld, ids)
    return result


def _applicable(row: Row, step: tuple[str, ...], rule: Generalisation) -> list[str]:
    """The columns of `step` this row may lose now: a column whose coarser form is another
    column (the fiscal year of the month, the area of the state) goes only after it."""
    needs = dict(rule.requires)
    return [
        name
        for name in step
        if row[name] is not None and (needs.get(name) is None or row[needs[name]] is None)
    ]


def _best_step(
    small: list[Row],
    sizes: Counter[tuple[Value, ...]],
    quasi: Sequence[str],
    rule: Generalisation,
) -> tuple[str, ...] | None:
    """The step that leaves the fewest rows in classes smaller than k when applied to the
    small classes' rows; of steps as good, the first on the ladder. None when no step
    changes any of those rows."""
    kept = Counter({key: size for key, size in sizes.items() if size >= rule.k})
    best: tuple[int, int] | None = None
    chosen: tuple[str, ...] | None = None
    covered = {name for step in rule.steps for name in step}
    # a column no step names goes last, so that every small class can be dissolved
    steps = (*rule.steps, *((name,) for name in quasi if name not in covered))
    for position, step in enumerate(steps):
        moved: Counter[tuple[Value, ...]] = Counter()
        changes = 0
        for row in small:
            names = _applicable(row, step, rule)
            changes += len(names)
            moved[tuple(None if name in names else row[name] for name in quasi)] += 1
        if changes == 0:
            continue
        left = sum(n for key, n in moved.items() if kept.get(key, 0) + n < rule.k)
        if best is None or (left, position) < best:
            best, chosen = (left, position), step
    return chosen


def _withhold(row: Row, names: Iterable[str], withheld: Counter[str]) -> None:
    for name in names:
        if row[name] is not None:
            row[name] = None
            withheld[name] += 1


def _withhold_rare(rows: list[Row], rule: Generalisation, withheld: Counter[str]) -> None:
    for name in rule.categorical:
        counts = Counter(row[name] for row in rows if row[name] is not None)
        rare = {value for value, count in counts.items() if count < rule.k}
        for row in rows:
            if row[name] in rare:
                _withhold(row, (name,), withheld)


def _complete_last_class(
    rows: list[Row],
    quasi: Sequence[str],
    k: int,
    withheld: Counter[str],
    identifiers: Sequence[str] = (),
) -> None:
    """After the whole ladder, only the class that holds nothing can be small: fill it
    from the classes with people to spare (all of a person's rows in the class move
    together), the largest first, else with whole classes, the smallest first."""
    empty: tuple[Value, ...] = tuple(None for _ in quasi)
    by_class: dict[tuple[Value, ...], list[Row]] = {}
    for row in rows:
        by_class.setdefault(class_key(row, quasi), []).append(row)
    if empty not in by_class:
        return
    have = {person_of(row, identifiers) for row in by_class[empty]}
    if len(have) >= k:
        return
    people: dict[tuple[Value, ...], dict[object, list[Row]]] = {}
    for key, members in by_class.items():
        if key != empty:
            for row in members:
                people.setdefault(key, {}).setdefault(person_of(row, identifiers), []).append(row)
    others = sorted(people, key=lambda key: -len(people[key]))
    for key in others:
        spare = len(people[key]) - k
        for person in list(people[key]):
            if len(have) >= k:
                return
            if spare <= 0:
                break
            if person in have:
                continue
            for row in people[key].pop(person):
                _withhold(row, quasi, withheld)
            have.add(person)
            spare -= 1
    if len(have) >= k:
        return
    # not enough to spare: whole classes join, the smallest first
    for key in reversed(others):
        for person, members in people[key].items():
            for row in members:
                _withhold(row, quasi, withheld)
            have.add(person)
        people[key] = {}
        if len(have) >= k:
            return
