"""The four safeguards the original program lacked (issue 6 item 4).

Each is on by default and can be switched off per scenario; with one off the flow
behaves as Secure Communities did. Services read them from `Settings.safeguards`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Safeguards:
    # (a) before an IAR says "removable", LESC checks the subject's records for a
    # naturalization, derived citizenship or adjustment after the last immigration
    # encounter, and answers "status unresolved, possible citizen" instead.
    status_currency: bool = True
    # (b) a disposition of dismissal or acquittal withdraws a pending detainer request
    # and notifies the jail.
    withdraw_on_dismissal: bool = True
    # (c) no detainer without a recorded officer decision.
    officer_decision_required: bool = True
    # (d) every biometric match carries its evidence (candidates, scores, minutiae) into the IAR.
    match_evidence: bool = True

    @classmethod
    def all_off(cls) -> Safeguards:
        """The original program: none of the four."""
        return cls(
            status_currency=False,
            withdraw_on_dismissal=False,
            officer_decision_required=False,
            match_evidence=False,
        )
