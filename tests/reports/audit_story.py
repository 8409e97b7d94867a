"""A hand-made audit log of six bookings in two jurisdictions (the statistics tests read it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scomm.bus.memory import MemoryEntry

T0 = datetime(2010, 3, 30, 12, 0)
CA, TX = "CA0010000", "TX0030000"


class Log:
    """Entries in chain order, as a flow records them."""

    def __init__(self) -> None:
        self.entries: list[MemoryEntry] = []

    def add(
        self, at: datetime, kind: str, name: str, actor: str, case: str, **payload: Any
    ) -> None:
        seq = len(self.entries) + 1
        self.entries.append(MemoryEntry(seq, at, kind, name, actor, case, payload))

    def switch(self, at: datetime, ori: str, switch: str, owner: str, on: bool, since: str) -> None:
        self.add(
            at,
            "switch",
            f"SWITCH_{switch}",
            owner,
            "",
            ori=ori,
            enabled=on,
            effective_from=since,
            effective_to=None,
            reason="test",
            setting_id=len(self.entries) + 1,
        )

    def booking(self, at: datetime, case: str, ori: str, *charges: str) -> None:
        self.add(at, "booking", "BOOKED", "lea", case, ori=ori, tcn=f"T-{case}", charges=charges)

    def state(self, at: datetime, case: str, to: str, actor: str = "cjis", **more: Any) -> None:
        self.add(at, "case_state", to, actor, case, to=to, why="test", **more)

    def custody(self, at: datetime, case: str, to: str, **more: Any) -> None:
        self.add(at, "custody", to, "lea", case, to=to, why="test", **more)

    def outcome(self, at: datetime, case: str, name: str, **more: Any) -> None:
        self.add(at, "outcome", name, "lea", case, **more)

    def message(self, at: datetime, case: str, name: str, actor: str, **body: Any) -> None:
        self.add(at, "message", name, actor, case, recipient="x", body=body)

    def matched(
        self,
        at: datetime,
        case: str,
        level: int | None,
        citizen: str = "",
        unresolved: bool = False,
    ) -> None:
        """CJIS forwarded the prints at `at`; IDENT matched; LESC answered."""
        self.message(at, case, "SRE", "cjis", identified=True)
        self.message(at, case, "IDENT_SEARCH", "cjis")
        self.state(
            at + timedelta(minutes=10), case, "ident_match", noted={"ident_id": "ID-" + case}
        )
        self.add(
            at + timedelta(minutes=10),
            "decision",
            "IAR_DETERMINATION",
            "lesc",
            case,
            level=level,
            rule_set="2009-offense-type",
            removability="status_unresolved" if unresolved else "removable",
            recorded_status="visa_overstay",
            citizenship_record=citizen,
        )

    def lodged(self, at: datetime, case: str) -> None:
        detainer = {"detainer_id": "det-" + case, "form": "I-247", "lodged_at": at.isoformat()}
        self.state(at - timedelta(hours=4), case, "detainer_lodged", "ero", detainer=detainer)


def story() -> Log:
    """Six bookings in two jurisdictions, and their switches."""
    log = Log()
    log.switch(T0 - timedelta(days=400), CA, "B", "federal", True, "2009-05-26T00:00:00")
    log.switch(T0 - timedelta(days=400), TX, "B", "federal", True, "2010-01-05T00:00:00")
    log.switch(T0, TX, "C", "jurisdiction", False, "2010-11-02T00:00:00")
    log.switch(T0, CA, "B", "state", True, "2008-01-01T00:00:00")  # not the state's switch
    # a: level 1, detainer honoured, a hold kept past its deadline, transferred, removed
    log.booking(T0, "a", CA, "ROBBERY")
    log.matched(T0, "a", 1, citizen="naturalization", unresolved=True)
    log.lodged(T0 + timedelta(days=1), "a")
    log.outcome(T0 + timedelta(days=1), "a", "hold_honored", detainer_id="det-a")
    deadline = T0 + timedelta(days=5)
    log.custody(T0 + timedelta(days=3), "a", "held_on_detainer", detainer_id="det-a",
                hold_deadline=deadline.isoformat())  # fmt: skip
    log.custody(deadline + timedelta(hours=2), "a", "transferred_to_ice")
    log.outcome(deadline + timedelta(hours=2), "a", "transferred", detainer_id="det-a")
    log.outcome(
        T0 + timedelta(days=20), "a", "disposition_dismissed", decided_at="2010-04-19T00:00:00"
    )
    log.state(T0 + timedelta(days=40), "a", "removed", "ero", level=0, rule_set="r", track="t")
    # b: not activated yet (no IDENT search), an arrest literal nobody can classify
    log.booking(T0, "b", TX, "WALKING A LLAMA")
    log.message(T0, "b", "SRE", "cjis", identified=False)
    log.add(T0, "decision", "AOL_UNCLASSIFIED", "cjis", "b", literals=["WALKING A LLAMA"])
    log.state(T0, "b", "not_forwarded")
    # c: matched, no determination; a detainer ICE withdrew before the jail answered it
    log.booking(T0, "c", TX, "THEFT")
    log.matched(T0 + timedelta(days=2), "c", None)
    log.entries.pop()  # LESC never answered
    log.lodged(T0 + timedelta(days=3), "c")
    log.add(T0 + timedelta(days=3), "safeguard", "WITHDRAW_ON_DISMISSAL", "ero", "c",
            detainer_id="det-c")  # fmt: skip
    log.outcome(T0 + timedelta(days=3), "c", "hold_declined", detainer_id="det-c")
    # d: level 3, declined; e: no match
    log.booking(T0, "d", CA, "THEFT")
    log.matched(T0, "d", 3)
    log.lodged(T0 + timedelta(days=1), "d")
    log.outcome(T0 + timedelta(days=1), "d", "hold_declined", detainer_id="det-d")
    log.booking(T0, "e", CA, "THEFT")
    log.message(T0, "e", "IDENT_SEARCH", "cjis")
    log.state(T0, "e", "ident_no_match")
    # f: level 2, honoured; the hold expires at its deadline in May, the release comes
    # after midnight (counted as expired in May, kept past its legal end in June)
    log.booking(T0, "f", CA, "THEFT")
    log.matched(T0, "f", 2)
    log.lodged(T0 + timedelta(days=1), "f")
    log.outcome(T0 + timedelta(days=1), "f", "hold_honored", detainer_id="det-f")
    deadline, late = datetime(2010, 5, 31, 23, 30), datetime(2010, 6, 1, 0, 10)
    log.custody(deadline - timedelta(days=2), "f", "held_on_detainer", detainer_id="det-f",
                hold_deadline=deadline.isoformat())  # fmt: skip
    log.outcome(late, "f", "hold_expired", detainer_id="det-f")
    log.custody(late, "f", "released")
    return log
