"""Statistics computed only from the audit record, so anyone holding the log can regenerate them."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from scomm.audit.chain import entries


@dataclass
class Summary:
    messages: Counter[str] = field(default_factory=Counter)
    hops: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    final_states: Counter[str] = field(default_factory=Counter)
    levels: Counter[str] = field(default_factory=Counter)
    per_jurisdiction: dict[str, Counter[str]] = field(default_factory=dict)
    audit_entries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": dict(sorted(self.messages.items())),
            "outcomes": dict(sorted(self.outcomes.items())),
            "decisions": dict(sorted(self.decisions.items())),
            "final_states": dict(sorted(self.final_states.items())),
            "levels": dict(sorted(self.levels.items())),
            "hops": dict(sorted(self.hops.items())),
            "per_jurisdiction": {
                ori: dict(sorted(c.items())) for ori, c in sorted(self.per_jurisdiction.items())
            },
            "audit_entries": self.audit_entries,
        }


def summarise(session: Session, batch: int = 5000) -> Summary:
    """One pass over the audit log. `messages` counts transactions by type (a message that
    an actor forwards unchanged counts once); `hops` counts every delivery leg."""
    summary = Summary()
    seen: set[tuple[str, str]] = set()
    state_of: dict[str, str] = {}
    ori_of: dict[str, str] = {}
    per_ori: dict[str, Counter[str]] = defaultdict(Counter)
    for row in entries(session, batch):
        summary.audit_entries += 1
        payload = json.loads(row.payload)
        match row.kind:
            case "message":
                summary.hops[f"{row.name} {row.actor}->{payload['recipient']}"] += 1
                if (row.name, row.case_id) not in seen:
                    seen.add((row.name, row.case_id))
                    summary.messages[row.name] += 1
                    if row.case_id in ori_of:
                        per_ori[ori_of[row.case_id]][row.name] += 1
            case "booking":
                ori_of[row.case_id] = payload["ori"]
                state_of[row.case_id] = "booked"
            case "outcome":
                summary.outcomes[row.name] += 1
                if row.case_id in ori_of:
                    per_ori[ori_of[row.case_id]][row.name] += 1
            case "decision":
                summary.decisions[row.name] += 1
                if row.name == "IAR_DETERMINATION":
                    summary.levels[f"level_{payload['level']}"] += 1
            case "case_state":
                state_of[row.case_id] = row.name
    summary.final_states.update(state_of.values())
    summary.per_jurisdiction = dict(per_ori)
    return summary
