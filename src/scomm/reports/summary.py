"""Statistics computed only from the audit record, so anyone holding the log can regenerate them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from scomm.bus.memory import MemoryEntry, database_entries


@dataclass
class Summary:
    messages: Counter[str] = field(default_factory=Counter)
    hops: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    final_states: Counter[str] = field(default_factory=Counter)
    levels: Counter[str] = field(default_factory=Counter)
    per_jurisdiction: dict[str, Counter[str]] = field(default_factory=dict)
    # by calendar month of scenario time (YYYY-MM) and by the level LESC determined
    per_month: dict[str, Counter[str]] = field(default_factory=dict)
    per_level: dict[str, Counter[str]] = field(default_factory=dict)
    removability: Counter[str] = field(default_factory=Counter)
    # removals by month of removal (YYYY-MM) and by the level the removal entry names (the
    # conviction-based rule set: level_0 is "non-criminal"), as ICE's statistics counted them
    removals: dict[str, Counter[str]] = field(default_factory=dict)
    audit_entries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": dict(sorted(self.messages.items())),
            "outcomes": dict(sorted(self.outcomes.items())),
            "decisions": dict(sorted(self.decisions.items())),
            "final_states": dict(sorted(self.final_states.items())),
            "levels": dict(sorted(self.levels.items())),
            "hops": dict(sorted(self.hops.items())),
            "per_jurisdiction": _nested(self.per_jurisdiction),
            "per_month": _nested(self.per_month),
            "per_level": _nested(self.per_level),
            "removability": dict(sorted(self.removability.items())),
            "removals": _nested(self.removals),
            "audit_entries": self.audit_entries,
        }


def _nested(table: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    return {key: dict(sorted(c.items())) for key, c in sorted(table.items())}


def summarise(session: Session, batch: int = 5000) -> Summary:
    """One pass over the audit log. `messages` counts transactions by type (a message that
    an actor forwards unchanged counts once); `hops` counts every delivery leg. Each
    message, outcome and decision is also counted in its month, its booking's jurisdiction
    and (once LESC has determined one) its case's level."""
    return summarise_entries(database_entries(session, batch))


def summarise_entries(entries: Iterable[MemoryEntry]) -> Summary:
    """`summarise` of audit entries however read: from a database (`database_entries`)
    or from a memory run's store."""
    summary = Summary()
    seen: set[tuple[str, str]] = set()
    state_of: dict[str, str] = {}
    ori_of: dict[str, str] = {}
    level_of: dict[str, str] = {}
    per_ori: dict[str, Counter[str]] = defaultdict(Counter)
    per_month: dict[str, Counter[str]] = defaultdict(Counter)
    per_level: dict[str, Counter[str]] = defaultdict(Counter)

    def count(name: str, case_id: str, month: str) -> None:
        per_month[month][name] += 1
        if case_id in ori_of:
            per_ori[ori_of[case_id]][name] += 1
        if case_id in level_of:
            per_level[level_of[case_id]][name] += 1

    for row in entries:
        summary.audit_entries += 1
        payload = row.payload
        month = row.recorded_at.strftime("%Y-%m")
        match row.kind:
            case "message":
                summary.hops[f"{row.name} {row.actor}->{payload['recipient']}"] += 1
                if (row.name, row.case_id) not in seen:
                    seen.add((row.name, row.case_id))
                    summary.messages[row.name] += 1
                    count(row.name, row.case_id, month)
            case "booking":
                ori_of[row.case_id] = payload["ori"]
                state_of[row.case_id] = "booked"
                count("BOOKED", row.case_id, month)
            case "outcome":
                summary.outcomes[row.name] += 1
                count(row.name, row.case_id, month)
            case "decision":
                summary.decisions[row.name] += 1
                if row.name == "IAR_DETERMINATION":
                    level_of[row.case_id] = f"level_{payload.get('level')}"
                    summary.levels[level_of[row.case_id]] += 1
                    summary.removability[str(payload.get("removability"))] += 1
                count(row.name, row.case_id, month)
            case "case_state":
                state_of[row.case_id] = row.name
                if row.name == "removed":
                    removed = summary.removals.setdefault(month, Counter())
                    removed[f"level_{payload.get('level')}"] += 1
    summary.final_states.update(state_of.values())
    summary.per_jurisdiction = dict(per_ori)
    summary.per_month = dict(per_month)
    summary.per_level = dict(per_level)
    return summary
