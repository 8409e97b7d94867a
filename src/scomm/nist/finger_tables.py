"""The ANSI/NIST-ITL 1-2011 finger position (FGP) and impression type (IMP) code tables.

Which codes a record type accepts, and the checks that name the field when a code is not
in the table (or belongs to another kind of record, such as a palm impression in Type-14).
"""

from __future__ import annotations

from scomm.nist.errors import TransactionError

# Friction ridge positions (ANSI/NIST-ITL 1-2011 Table 8), the finger part of it.
FINGER_POSITIONS: dict[int, str] = {
    0: "unknown finger",
    1: "right thumb",
    2: "right index finger",
    3: "right middle finger",
    4: "right ring finger",
    5: "right little finger",
    6: "left thumb",
    7: "left index finger",
    8: "left middle finger",
    9: "left ring finger",
    10: "left little finger",
    11: "plain right thumb",
    12: "plain left thumb",
    13: "plain right four fingers",
    14: "plain left four fingers",
    15: "left and right thumbs",
    16: "right extra digit",
    17: "left extra digit",
    18: "unknown friction ridge",
    19: "EJI or tip",
    40: "right index and middle",
    41: "right middle and ring",
    42: "right ring and little",
    43: "left index and middle",
    44: "left middle and ring",
    45: "left ring and little",
    46: "right index and left index",
    47: "right index, middle and ring",
    48: "right middle, ring and little",
    49: "left index, middle and ring",
    50: "left middle, ring and little",
}

# Friction ridge impression types (ANSI/NIST-ITL 1-2011 Table 7).
IMPRESSION_TYPES: dict[int, str] = {
    0: "live-scan plain",
    1: "live-scan rolled",
    2: "nonlive-scan plain",
    3: "nonlive-scan rolled",
    4: "latent impression",
    5: "latent tracing",
    6: "latent photo",
    7: "latent lift",
    8: "live-scan vertical swipe",
    10: "live-scan palm",
    11: "nonlive-scan palm",
    12: "latent palm impression",
    13: "latent palm tracing",
    14: "latent palm photo",
    15: "latent palm lift",
    20: "live-scan optical contact plain",
    21: "live-scan optical contact rolled",
    22: "live-scan non-optical contact plain",
    23: "live-scan non-optical contact rolled",
    24: "live-scan optical contactless plain",
    25: "live-scan optical contactless rolled",
    26: "live-scan non-optical contactless plain",
    27: "live-scan non-optical contactless rolled",
    28: "other",
    29: "unknown",
}

# What each finger image record accepts: Type-4 (binary, 500 ppi) has no latent, palm or
# multi-finger codes; Type-14 takes every finger code, and the finger impressions (palm
# impressions 10-15 belong to Type-15).
RECORD_POSITIONS: dict[int, frozenset[int]] = {
    4: frozenset(range(0, 16)),
    14: frozenset(FINGER_POSITIONS),
}
RECORD_IMPRESSIONS: dict[int, frozenset[int]] = {
    4: frozenset({0, 1, 2, 3, 8, *range(20, 30)}),
    14: frozenset({*range(0, 9), *range(20, 30)}),
}


def position_problem(record_type: int, value: int) -> str | None:
    """None if `value` is an FGP code the record type accepts, else why not ("value 16 (right
    extra digit) is not a finger position of a Type-4 record (allowed: 0-15)")."""
    if value in RECORD_POSITIONS[record_type]:
        return None
    if value in FINGER_POSITIONS:
        return (
            f"value {value} ({FINGER_POSITIONS[value]}) is not a finger position of a "
            f"Type-{record_type} record (allowed: {_ranges(RECORD_POSITIONS[record_type])})"
        )
    return (
        f"value {value} is not a finger position "
        f"(ANSI/NIST-ITL table: {_ranges(RECORD_POSITIONS[record_type])})"
    )


def impression_problem(record_type: int, value: int) -> str | None:
    """None if `value` is an IMP code the record type accepts, else why not."""
    if value in RECORD_IMPRESSIONS[record_type]:
        return None
    if value in IMPRESSION_TYPES:
        return (
            f"value {value} ({IMPRESSION_TYPES[value]}) is not an impression type of a "
            f"Type-{record_type} record (allowed: {_ranges(RECORD_IMPRESSIONS[record_type])})"
        )
    return (
        f"value {value} is not an impression type "
        f"(ANSI/NIST-ITL table: {_ranges(RECORD_IMPRESSIONS[record_type])})"
    )


def check_position(record_type: int, field: str, value: int) -> int:
    """An FGP code the record type accepts; else TransactionError naming the field."""
    problem = position_problem(record_type, value)
    if problem is not None:
        raise TransactionError(field, f"Type-{record_type} FGP {field} {problem}")
    return value


def check_impression(record_type: int, field: str, value: int) -> int:
    """An IMP code the record type accepts; else TransactionError naming the field."""
    problem = impression_problem(record_type, value)
    if problem is not None:
        raise TransactionError(field, f"Type-{record_type} IMP {field} {problem}")
    return value


def _ranges(codes: frozenset[int]) -> str:
    """'0-8, 20-29' for a set of codes."""
    ordered = sorted(codes)
    parts: list[str] = []
    start = previous = ordered[0]
    for code in ordered[1:] + [-1]:
        if code != previous + 1:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
            start = code
        previous = code
    return ", ".join(parts)
