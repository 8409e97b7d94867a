"""NCIC offense codes and the classifier from free-text arrest literals (AOL) to codes."""

from __future__ import annotations

from dataclasses import dataclass

# The IAQ's OFF field defaults to 0399 when no charge code is known (Nlets IAQ format).
UNKNOWN_OFFENSE_CODE = "0399"


@dataclass(frozen=True)
class Offense:
    """An NCIC Uniform Offense Code with its usual arrest literal."""

    ncic_code: str
    literal: str
    felony: bool


# A small first table; issue 6 brings the full NCIC table and a real classifier.
OFFENSES: tuple[Offense, ...] = (
    Offense("0399", "IMMIGRATION VIOLATION", False),
    Offense("0999", "HOMICIDE", True),
    Offense("1099", "KIDNAPPING", True),
    Offense("1199", "SEXUAL ASSAULT", True),
    Offense("1299", "ROBBERY", True),
    Offense("1313", "SIMPLE ASSAULT", False),
    Offense("1315", "AGGRAVATED ASSAULT", True),
    Offense("2299", "BURGLARY", True),
    Offense("2399", "LARCENY", False),
    Offense("2404", "THEFT OF VEHICLE", True),
    Offense("2599", "FORGERY", True),
    Offense("2699", "FRAUD", False),
    Offense("3562", "POSSESSION OF MARIJUANA", False),
    Offense("3530", "DISTRIBUTION OF COCAINE", True),
    Offense("5207", "CARRYING CONCEALED WEAPON", True),
    Offense("5311", "DISORDERLY CONDUCT", False),
    Offense("5404", "DRIVING UNDER INFLUENCE", False),
    Offense("5499", "TRAFFIC OFFENSE", False),
    Offense("7399", "PUBLIC ORDER OFFENSE", False),
)

_BY_LITERAL = {o.literal: o for o in OFFENSES}
_BY_CODE = {o.ncic_code: o for o in OFFENSES}


@dataclass(frozen=True)
class Classification:
    ncic_code: str
    confidence: float


def normalise_literal(literal: str) -> str:
    return " ".join(literal.upper().replace("-", " ").split())


def classify_literal(literal: str) -> Classification:
    """Map an arrest offense literal to an NCIC code; unknown literals become 0399."""
    offense = _BY_LITERAL.get(normalise_literal(literal))
    if offense is None:
        return Classification(UNKNOWN_OFFENSE_CODE, 0.0)
    return Classification(offense.ncic_code, 1.0)


def offense_for_code(ncic_code: str) -> Offense | None:
    return _BY_CODE.get(ncic_code)
