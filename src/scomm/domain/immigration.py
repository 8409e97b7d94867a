"""Immigration status as an immigration repository records it, and what LESC makes of it."""

from __future__ import annotations

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
