"""How a synthetic person came to their status: the path that scenarios weigh and the
population draws."""

from __future__ import annotations

from enum import StrEnum


class CitizenshipPath(StrEnum):
    NATIVE_CITIZEN = "native_citizen"
    NATURALIZED = "naturalized"
    DERIVED_CITIZEN = "derived_citizen"
    PERMANENT_RESIDENT = "permanent_resident"
    VISA_HOLDER = "visa_holder"
    OVERSTAY = "overstay"
    ENTERED_WITHOUT_INSPECTION = "entered_without_inspection"
    PREVIOUSLY_REMOVED = "previously_removed"

    @property
    def is_citizen(self) -> bool:
        return self in (
            CitizenshipPath.NATIVE_CITIZEN,
            CitizenshipPath.NATURALIZED,
            CitizenshipPath.DERIVED_CITIZEN,
        )
