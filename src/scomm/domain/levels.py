"""Priority levels. First rule set: the 2008-2010 offense-type levels (DOMAIN.md §2.1).

The NCIC family table is DOMAIN.md's [I] suggestion; issue 6 makes rule sets versioned data.
"""

from __future__ import annotations

from collections.abc import Iterable

from scomm.domain.offenses import offense_for_code

RULE_SET_2009 = "2009-offense-type"

_LEVEL1_FAMILIES = {"01", "09", "10", "11", "12", "36", "38", "52"}
_LEVEL2_FAMILIES = {"22", "23", "24", "25", "26", "27", "28"}


def offense_level(ncic_code: str) -> int:
    family = ncic_code[:2]
    if family in _LEVEL1_FAMILIES:
        return 1
    if family == "13":  # assault: aggravated is level 1, simple is "other"
        offense = offense_for_code(ncic_code)
        return 1 if offense is not None and offense.felony else 3
    if family == "35":  # drugs: major (felony) level 1, minor level 2
        offense = offense_for_code(ncic_code)
        return 1 if offense is not None and offense.felony else 2
    if family in _LEVEL2_FAMILIES:
        return 2
    return 3


def level_2009(ncic_codes: Iterable[str]) -> int:
    """The most serious level among charges and convictions (1 is most serious)."""
    return min((offense_level(code) for code in ncic_codes), default=3)
