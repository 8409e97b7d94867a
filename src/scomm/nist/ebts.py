"""EBTS content rules for the fields scomm exchanges: code sets, lengths, formats, validators.

Every validator raises TransactionError naming the field, and the encoders and
decoders share them, so whatever `encode_*` accepts, `decode_*` accepts too.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection

from scomm.nist.errors import TransactionError

# Transaction types (1.004 TOT).
TENPRINT_TOTS: frozenset[str] = frozenset({"CAR", "CNA"})  # answer required / not required
SRE_TOT = "SRE"  # submission results, electronic
ERRT_TOT = "ERRT"  # transaction error

ANSI_NIST_VERSION = "0400"  # 1.002 VER
NATIVE_SCANNING_RESOLUTION = "19.69"  # 1.011 NSR / 1.012 NTR, pixels per mm (500 ppi)

# The Type-2 fields a CAR/CNA must carry (EBTS): RET, NAM, POB, DOB, SEX, RAC, HGT,
# WGT, EYE, HAI, DOA, ASL, CRI.
MANDATORY_CAR_FIELDS: frozenset[str] = frozenset(
    {
        "2.005",
        "2.018",
        "2.020",
        "2.022",
        "2.024",
        "2.025",
        "2.027",
        "2.029",
        "2.031",
        "2.032",
        "2.045",
        "2.047",
        "2.073",
    }
)

SEX_CODES: frozenset[str] = frozenset({"M", "F", "X", "U"})
RACE_CODES: frozenset[str] = frozenset({"A", "B", "I", "U", "W"})
EYE_CODES: frozenset[str] = frozenset(
    {"BLK", "BLU", "BRO", "GRN", "GRY", "HAZ", "MAR", "MUL", "PNK", "XXX"}
)
HAIR_CODES: frozenset[str] = frozenset(
    {"BAL", "BLK", "BLN", "BLU", "BRO", "GRN", "GRY"}
    | {"ONG", "PLE", "PNK", "RED", "SDY", "WHI", "XXX"}
)

MAX_TCN = 40  # 1.009 TCN / 1.010 TCR
MAX_NAME = 50  # 2.018 NAM
MAX_ATN = 30  # 2.006 ATN
MAX_OCA = 20  # 2.009 OCA
MAX_OFFENSE_LITERAL = 300  # 2.047 ASL, AOL information item
MAX_CHARGES = 40  # 2.047 ASL occurrences
MAX_FBI_NUMBER = 9  # 2.014 FBI
MAX_FINGER_RECORDS = 14  # Type-14 images in one ten-print submission
# CAR/CNA record counts (EBTS 9.1, DOMAIN.md 6.1): `1:1 2:1 (4|14):1-14 10:0-4 (7|13):0-2
# 15:0-8`. Each entry: the record types counted together, the least and the most allowed.
CAR_RECORD_COUNTS: tuple[tuple[tuple[int, ...], int, int], ...] = (
    ((1,), 1, 1),
    ((2,), 1, 1),
    ((4, 14), 1, MAX_FINGER_RECORDS),
    ((10,), 0, 4),
    ((7, 13), 0, 2),
    ((15,), 0, 8),
)
MAX_IMAGE_SIDE = 4000  # pixels; 1000 ppi four-finger slaps stay well below

_ORI = re.compile(r"[A-Z0-9]{9}")
_TWO_LETTERS = re.compile(r"[A-Z]{2}")
_NAME = re.compile(r"[A-Za-z][A-Za-z '.-]*,[A-Za-z '.-]*")
_THREE_DIGITS = re.compile(r"[0-9]{3}")
_DATE = re.compile(r"[0-9]{8}")
_NUMBER = re.compile(r"[0-9]{1,6}")
_FBI = re.compile(r"[A-Z0-9]{1,9}")
_TOT = re.compile(r"[A-Z0-9]{1,16}")


def _is_printable_ascii(text: str) -> bool:
    return all(" " <= ch <= "~" for ch in text)


def check_text(field: str, value: object, *, max_len: int, min_len: int = 1) -> str:
    """A printable-ASCII string of `min_len`..`max_len` characters (no separators)."""
    if not isinstance(value, str):
        raise TransactionError(field, f"expected text, got {type(value).__name__}")
    if not min_len <= len(value) <= max_len:
        raise TransactionError(
            field, f"length {len(value)} outside {min_len}..{max_len} characters"
        )
    if not _is_printable_ascii(value):
        raise TransactionError(field, "contains characters other than printable ASCII")
    return value


def check_pattern(field: str, value: object, pattern: re.Pattern[str], what: str) -> str:
    """A string fully matching `pattern`; `what` describes the expected form."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise TransactionError(field, f"expected {what}, got {_show(value)}")
    return value


def check_code(field: str, value: object, allowed: Collection[str]) -> str:
    """One of the `allowed` codes."""
    if not isinstance(value, str) or value not in allowed:
        codes = "/".join(sorted(allowed))
        raise TransactionError(field, f"{_show(value)} is not one of {codes}")
    return value


def check_tot(field: str, value: object) -> str:
    """A transaction type: 1-16 upper-case letters or digits ('CAR', 'SRE', 'ERRT')."""
    return check_pattern(field, value, _TOT, "a transaction type (1-16 characters A-Z, 0-9)")


def check_ori(field: str, value: object) -> str:
    """An originating agency identifier: 9 upper-case letters or digits."""
    return check_pattern(field, value, _ORI, "a 9-character ORI (A-Z, 0-9)")


def check_two_letter_code(field: str, value: object) -> str:
    """A two-letter (state or country) code such as 'TX'."""
    return check_pattern(field, value, _TWO_LETTERS, "a two-letter code")


def check_name(field: str, value: object) -> str:
    """NAM: 'LAST,FIRST MIDDLE', letters, spaces, apostrophes, periods and hyphens."""
    check_text(field, value, max_len=MAX_NAME, min_len=3)
    return check_pattern(field, value, _NAME, "'LAST,FIRST MIDDLE'")


def check_height(field: str, value: object) -> str:
    """HGT: feet then two-digit inches ('510' is 5'10''); '000' when unknown."""
    text = check_pattern(field, value, _THREE_DIGITS, "three digits, feet then inches (e.g. '510')")
    if int(text[1:]) > 11:
        raise TransactionError(field, f"inches {text[1:]} must be 00..11")
    return text


def check_weight(field: str, value: object) -> str:
    """WGT: three digits of pounds ('180'); '000' when unknown."""
    return check_pattern(field, value, _THREE_DIGITS, "three digits of pounds (e.g. '180')")


def check_fbi_number(field: str, value: object) -> str:
    """FBI: the FBI number (UCN), 1-9 upper-case letters or digits."""
    return check_pattern(field, value, _FBI, "an FBI number of 1-9 characters (A-Z, 0-9)")


def check_date(field: str, value: object) -> datetime.date:
    """A calendar date (encoders get a `datetime.date`)."""
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise TransactionError(field, f"expected a date, got {type(value).__name__}")
    return value


def format_date(value: datetime.date) -> str:
    """CCYYMMDD."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def parse_date(field: str, text: str) -> datetime.date:
    """A CCYYMMDD date; raises TransactionError(field) when it is not a real date."""
    if not _DATE.fullmatch(text):
        raise TransactionError(field, f"expected a CCYYMMDD date, got {_show(text)}")
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise TransactionError(field, f"{text!r} is not a valid CCYYMMDD date") from exc


def parse_number(field: str, text: str, low: int, high: int) -> int:
    """A decimal integer within `low`..`high`."""
    if not _NUMBER.fullmatch(text):
        raise TransactionError(field, f"expected a number, got {_show(text)}")
    number = int(text)
    if not low <= number <= high:
        raise TransactionError(field, f"{number} outside {low}..{high}")
    return number


def check_number(field: str, value: object, low: int, high: int) -> int:
    """An int within `low`..`high` (encoders)."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise TransactionError(field, f"expected an integer {low}..{high}, got {_show(value)}")
    return value


def record_group_name(types: Collection[int]) -> str:
    """ "Type-10", or "Type-4/14" for record types counted together."""
    return "Type-" + "/".join(str(t) for t in sorted(types))


def check_car_record_counts(record_types: Collection[int]) -> None:
    """The EBTS record-count rule of a CAR/CNA (CAR_RECORD_COUNTS) for the types of its
    records, Type-1 included; a TransactionError names the record type and the allowed count."""
    types = list(record_types)
    allowed = {t for group, _, _ in CAR_RECORD_COUNTS for t in group}
    for record_type in types:
        if record_type not in allowed:
            listed = ", ".join(
                f"{record_group_name(group)} {_count_text(low, high)}"
                for group, low, high in CAR_RECORD_COUNTS
            )
            raise TransactionError(
                f"Type-{record_type}",
                f"record type not accepted in a CAR/CNA (EBTS allows {listed})",
            )
    for group, low, high in CAR_RECORD_COUNTS:
        present = [t for t in types if t in group]
        count = len(present)
        if not low <= count <= high:
            # Blame the first record over the count, or the group's EBTS record when too few.
            blamed = present[high] if count > high else group[-1]
            name = record_group_name(group)
            raise TransactionError(
                f"Type-{blamed}",
                f"{count} {name} records; EBTS allows {_count_text(low, high)} in a CAR/CNA",
            )


def _count_text(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
