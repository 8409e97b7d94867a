"""The Immigration Alien Query as Nlets text (DOMAIN.md §1.4): a formatter and a parser.

    IAQ.<sender ORI 9>.AX[.<control>].TXT PUR/<C|F>. ATN/<=30>. PHN/<=20>.
    NAM/<last, first middle <=30>. DOB/<ccyymmdd | mmddyy>. SEX/<1>. POB/<2>. CUS/<Y|N>.
    OFF/<4-digit NCIC code, 0399 when none is known>. [ARN/<8-9 digits>.] [FBI/...] [SID/...]
    [OLN/...]

`AX` is the destination code of ICE's Law Enforcement Support Center. Fields end with ". ";
values may not hold "." or "/" (they would end the field). Deviation, on purpose: the
synthetic FBI numbers are longer than the real 9 characters, so `FBI/` takes up to 30.
Errors raise NletsFormatError naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from scomm.nist.errors import NistError

DESTINATION_LESC = "AX"
UNKNOWN_OFFENSE = "0399"
PURPOSES = ("C", "F")  # [M] criminal / firearms (Brady)

_ORI = re.compile(r"^[A-Z0-9]{9}$")
_CONTROL = re.compile(r"^[A-Z0-9-]{1,10}$")
_HEADER = re.compile(
    r"^IAQ\.(?P<ori>[^.]*)\.(?P<dest>[^.]*)(?:\.(?P<control>[^.]*))?\.TXT(?:\s+|$)"
)
_FIELD = re.compile(r"([A-Z]{3})/([^./]*)\.(?:\s+|$)")
_REQUIRED = ("PUR", "ATN", "PHN", "NAM", "DOB", "SEX", "POB", "CUS", "OFF")
_OPTIONAL = ("ARN", "FBI", "SID", "OLN")
_LIMITS = {"ATN": 30, "PHN": 20, "NAM": 30, "SID": 10, "OLN": 20, "FBI": 30}


class NletsFormatError(NistError, ValueError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class NletsIaq:
    sender_ori: str
    name: str  # "LAST, FIRST MIDDLE"
    dob: date
    sex: str
    pob: str
    in_custody: bool
    offense_code: str = UNKNOWN_OFFENSE
    purpose: str = "C"
    attention: str = ""
    phone: str = ""
    control: str | None = None
    a_number: str | None = None  # "A" + 8-9 digits
    fbi_number: str | None = None
    sid: str | None = None
    oln: str | None = None


def nlets_name(ebts_name: str) -> str:
    """EBTS 2.018 NAM ("LAST,FIRST MIDDLE") to the Nlets form ("LAST, FIRST MIDDLE")."""
    cleaned = " ".join(ebts_name.replace(".", " ").replace("/", " ").split())
    last, _, given = cleaned.partition(",")
    text = f"{last.strip()}, {given.strip()}" if given.strip() else last.strip()
    return text[:30].strip()


def format_iaq(query: NletsIaq) -> str:
    """The Nlets text of an IAQ; raises NletsFormatError for a value the layout cannot hold."""
    if not _ORI.match(query.sender_ori):
        raise NletsFormatError("ORI", f"{query.sender_ori!r} is not a 9-character ORI")
    header = f"IAQ.{query.sender_ori}.{DESTINATION_LESC}"
    if query.control is not None:
        if not _CONTROL.match(query.control):
            raise NletsFormatError("CTL", f"{query.control!r}: 1-10 of A-Z, 0-9, -")
        header += f".{query.control}"
    fields: list[tuple[str, str]] = [
        ("PUR", _one_of("PUR", query.purpose, PURPOSES)),
        ("ATN", query.attention),
        ("PHN", query.phone),
        ("NAM", query.name),
        ("DOB", query.dob.strftime("%Y%m%d")),
        ("SEX", _one_of("SEX", query.sex, ("M", "F", "U"))),
        ("POB", _pob(query.pob)),
        ("CUS", "Y" if query.in_custody else "N"),
        ("OFF", _offense(query.offense_code)),
    ]
    if query.a_number is not None:
        fields.append(("ARN", _a_number_digits(query.a_number)))
    for tag, value in (("FBI", query.fbi_number), ("SID", query.sid), ("OLN", query.oln)):
        if value is not None:
            fields.append((tag, value))
    body = " ".join(f"{tag}/{_value(tag, value)}." for tag, value in fields)
    return f"{header}.TXT {body}"


def parse_iaq(text: str) -> NletsIaq:
    """Read an IAQ's Nlets text; raises NletsFormatError naming the field at fault."""
    match = _HEADER.match(text.strip())
    if match is None:
        raise NletsFormatError("HDR", "expected IAQ.<ORI>.AX[.<control>].TXT")
    ori, destination, control = match["ori"], match["dest"], match["control"]
    if not _ORI.match(ori):
        raise NletsFormatError("ORI", f"{ori!r} is not a 9-character ORI")
    if destination != DESTINATION_LESC:
        raise NletsFormatError("DST", f"{destination!r} is not LESC ({DESTINATION_LESC})")
    if control is not None and not _CONTROL.match(control):
        raise NletsFormatError("CTL", f"{control!r}: 1-10 of A-Z, 0-9, -")
    rest = text.strip()[match.end() :]
    values: dict[str, str] = {}
    position = 0
    while position < len(rest):
        found = _FIELD.match(rest, position)
        if found is None:
            raise NletsFormatError("TXT", f"unreadable text at {rest[position : position + 20]!r}")
        tag, value = found[1], found[2].strip()
        if tag not in _REQUIRED and tag not in _OPTIONAL:
            raise NletsFormatError(tag, "unknown field")
        if tag in values:
            raise NletsFormatError(tag, "field given twice")
        values[tag] = _value(tag, value)
        position = found.end()
    for tag in _REQUIRED:
        if tag not in values:
            raise NletsFormatError(tag, "missing mandatory field")
    cus = _one_of("CUS", values["CUS"], ("Y", "N"))
    arn = values.get("ARN")
    return NletsIaq(
        sender_ori=ori,
        control=control,
        purpose=_one_of("PUR", values["PUR"], PURPOSES),
        attention=values["ATN"],
        phone=values["PHN"],
        name=values["NAM"],
        dob=_parse_dob(values["DOB"]),
        sex=_one_of("SEX", values["SEX"], ("M", "F", "U")),
        pob=_pob(values["POB"]),
        in_custody=cus == "Y",
        offense_code=_offense(values["OFF"]),
        a_number=None if arn is None else "A" + _a_number_digits(arn),
        fbi_number=values.get("FBI"),
        sid=values.get("SID"),
        oln=values.get("OLN"),
    )


def _value(tag: str, value: str) -> str:
    if "." in value or "/" in value:
        raise NletsFormatError(tag, "a value may not contain '.' or '/'")
    if any(not " " <= ch <= "~" for ch in value):
        raise NletsFormatError(tag, "printable ASCII only")
    if value != value.strip():
        raise NletsFormatError(tag, "no leading or trailing spaces")
    limit = _LIMITS.get(tag)
    if limit is not None and len(value) > limit:
        raise NletsFormatError(tag, f"longer than {limit} characters")
    return value


def _one_of(tag: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise NletsFormatError(tag, f"{value!r} is not one of {allowed}")
    return value


def _pob(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise NletsFormatError("POB", f"{value!r} is not a 2-letter NCIC place code")
    return value


def _offense(value: str) -> str:
    if not re.fullmatch(r"\d{4}", value):
        raise NletsFormatError("OFF", f"{value!r} is not a 4-digit NCIC offense code")
    return value


def _a_number_digits(value: str) -> str:
    digits = value[1:] if value[:1] == "A" else value
    if not re.fullmatch(r"\d{8,9}", digits):
        raise NletsFormatError("ARN", f"{value!r} is not an A-number of 8-9 digits")
    return digits


def _parse_dob(value: str) -> date:
    try:
        if re.fullmatch(r"\d{8}", value):
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if re.fullmatch(r"\d{6}", value):
            # mmddyy: a two-digit year is read as 19yy (a person booked in 2008-2017 born in
            # 20yy would be a child; [I])
            return date(1900 + int(value[4:]), int(value[:2]), int(value[2:4]))
    except ValueError as error:
        raise NletsFormatError("DOB", f"{value!r}: {error}") from error
    raise NletsFormatError("DOB", f"{value!r} is neither ccyymmdd nor mmddyy")
