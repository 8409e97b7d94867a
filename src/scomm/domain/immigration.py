"""Immigration status as an immigration repository records it, and what LESC makes of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RecordedStatus(StrEnum):
    """The status on the subject's latest immigration record (it may be stale)."""

    LAWFUL_PERMANENT_RESIDENT = "lawful_permanent_resident"
    NONIMMIGRANT_VISA = "nonimmigrant_visa"
    VISA_OVERSTAY = "visa_overstay"
    ENTERED_WITHOUT_INSPECTION = "entered_without_inspection"
    PREVIOUSLY_REMOVED = "previously_removed"
    NATURALIZED_CITIZEN = "naturalized_citizen"


class Removability(StrEnum):
    """LESC's determination in the IAR."""

    REMOVABLE = "removable"
    NOT_REMOVABLE = "not_removable"
    UNDETERMINED = "undetermined"
    # Safeguard (a): the records show a naturalization, derived citizenship or adjustment
    # after the last immigration encounter: "status unresolved, possible citizen".
    STATUS_UNRESOLVED = "status_unresolved"


def removability(status: RecordedStatus, level: int | None) -> Removability:
    """A first rule: out-of-status records are removable; a permanent resident only with a
    level-1 (serious) charge or conviction; citizens never."""
    if status is RecordedStatus.NATURALIZED_CITIZEN:
        return Removability.NOT_REMOVABLE
    if status in (
        RecordedStatus.VISA_OVERSTAY,
        RecordedStatus.ENTERED_WITHOUT_INSPECTION,
        RecordedStatus.PREVIOUSLY_REMOVED,
    ):
        return Removability.REMOVABLE
    if status is RecordedStatus.LAWFUL_PERMANENT_RESIDENT and level == 1:
        return Removability.REMOVABLE
    if status is RecordedStatus.NONIMMIGRANT_VISA and level in (1, 2):
        return Removability.REMOVABLE
    return Removability.NOT_REMOVABLE


DETERMINATION_TEXT: dict[Removability, str] = {
    Removability.REMOVABLE: "subject appears removable",
    Removability.NOT_REMOVABLE: "subject not removable on the record",
    Removability.UNDETERMINED: "status undetermined",
    Removability.STATUS_UNRESOLVED: "status unresolved, possible citizen",
}


class BenefitKind(StrEnum):
    """A status change granted by USCIS that an IDENT record may not show."""

    NATURALIZATION = "naturalization"  # N-400 granted, certificate of naturalization
    DERIVED_CITIZENSHIP = "derived_citizenship"  # N-600 certificate of citizenship
    ADJUSTMENT_OF_STATUS = "adjustment_of_status"  # I-485 approved: now a permanent resident


@dataclass(frozen=True)
class BenefitRecord:
    """A USCIS benefit record, keyed by A-number, as a records check finds it."""

    a_number: str
    kind: BenefitKind
    granted_at: datetime
    receipt: str = ""


def status_change_since(
    last_encounter: datetime | None, records: Iterable[BenefitRecord]
) -> BenefitRecord | None:
    """The first benefit granted after the last immigration encounter (any one when no
    encounter is known): the sign that the IDENT status is stale."""
    later = [r for r in records if last_encounter is None or r.granted_at > last_encounter]
    return min(later, key=lambda r: r.granted_at, default=None)
