"""Records in and out of nistitl: Type-1 headers, field access, failures as TransactionError."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nistitl

from scomm.nist import ebts
from scomm.nist.errors import TransactionError
from scomm.nist.mnemonics import tag

# nistitl is untyped: a record is an AsciiRecord or a BinaryRecord, a field value is
# a str (or int for LEN/IDC), or a list of subfields that are str or list[str] (items).
Record = Any
FieldValue = str | Sequence[str | Sequence[str]]

_FS = 0x1C
_GS = b"\x1d"
_TAG_IN_MESSAGE = re.compile(r"Tag (\d+) already defined in record (\d+)")
_TAG_NAME_IN_MESSAGE = re.compile(r"tag name (\d+\.\d+)")
_RECORD_LEN = re.compile(rb"(\d{1,3})\.(\d{1,3}):(\d{1,12})[\x1c\x1d]")
_BINARY_RECORD_TYPES = frozenset({3, 4, 5, 6, 7, 8})
# Older versions write field numbers without leading zeros ("1.01:" for 1.001).
_TYPE1_TAG = re.compile(rb"1\.(\d{1,9}):")
_LEN_PREFIX = re.compile(rb"1\.0{0,2}1:(\d{1,9})\x1d")
# A field's tag in a tagged record: "<record type>.<field number>:".
_TAG = re.compile(rb"(\d{1,3})\.(\d{1,9}):")
_IMAGE_DATA_FIELD = 999
# The fixed header (LEN, IDC and the fields before the data) of each binary record type.
_BINARY_HEADER_SIZES = {3: 18, 4: 18, 5: 11, 6: 11, 7: 5, 8: 12}


# A transaction longer than this is refused before it is parsed (ERRT naming the limit).
# Fourteen uncompressed 1000 ppi images of the largest EBTS size (slaps, 3200 x 3000) would
# not fit, but every compressed or 500 ppi ten-print does, with a wide margin.
MAX_TRANSACTION_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class TransactionHeader:
    """The Type-1 fields every scomm transaction carries."""

    tot: str
    transaction_date: datetime.date
    priority: int | None
    dai: str
    ori: str
    tcn: str
    tcr: str | None


# --- decoding -------------------------------------------------------------------------


def parse_records(raw: object) -> list[Record]:
    """Split a transaction into nistitl records; every failure becomes a TransactionError."""
    data = _as_bytes(raw)
    check_size(data)
    check_framing(data)
    message = nistitl.Message()
    try:
        message.parse(data)
    except nistitl.NistException as exc:
        raise _from_nistitl(exc, message) from exc
    except Exception as exc:  # nistitl raises KeyError, ValueError, IndexError... on bad input
        raise TransactionError(
            _current_record(message), f"malformed record ({type(exc).__name__}: {exc})"[:200]
        ) from exc
    records = list(message)
    check_record_count(records)
    return records


def check_size(data: bytes) -> None:
    """Refuse a transaction over MAX_TRANSACTION_BYTES before anything reads it."""
    if len(data) > MAX_TRANSACTION_BYTES:
        raise TransactionError(
            None,
            f"transaction is {len(data)} bytes, over the limit of {MAX_TRANSACTION_BYTES} bytes",
        )


def check_framing(data: bytes) -> None:
    """Walk the records by their LEN fields, naming the first record that is cut or mis-sized.

    nistitl reports such faults vaguely (and sometimes with a Python error), so the
    record boundaries, and the tags inside every tagged record, are checked here first.
    A binary record whose LEN does not lead to the next listed record (or to the end of
    the transaction) is blamed itself, not the record after it.
    """
    type1 = scan_type1(data)
    listed_records = _listed_records(type1.get(3, ""))
    record_types = [record_type for record_type, _ in listed_records]
    offset = 0
    index = 0
    while offset < len(data):
        listed = record_types[index] if index < len(record_types) else None
        match = _RECORD_LEN.match(data, offset)
        if match:
            record_type = int(match.group(1))
            if int(match.group(2)) != 1:
                raise TransactionError(
                    f"Type-{record_type}", "record does not start with its LEN field (.001)"
                )
            length = int(match.group(3))
            tagged = True
        elif listed in _BINARY_RECORD_TYPES:
            record_type = listed
            if offset + 4 > len(data):
                raise TransactionError(f"Type-{record_type}", "transaction truncated")
            length = int.from_bytes(data[offset : offset + 4], "big")
            tagged = False
        else:
            where = f"Type-{listed}" if listed is not None else None
            raise TransactionError(
                where,
                f"unrecognised data at byte {offset}: not a tagged record and not a binary "
                "record listed in 1.003 CNT",
            )
        name = f"Type-{record_type}"
        if length < 6:
            raise TransactionError(tag(record_type, 1), f"record length {length} is too small")
        remaining = len(data) - offset
        if length > remaining:
            raise TransactionError(
                name,
                f"transaction truncated: record {index + 1} declares {length} bytes "
                f"but only {remaining} remain",
            )
        if tagged:
            if data[offset + length - 1] != _FS:
                raise TransactionError(
                    tag(record_type, 1),
                    f"record {index + 1} length {length} does not end at a file separator (FS)",
                )
            if record_type != 1:
                check_tags(data, offset, length, record_type, index + 1)
        else:
            _check_binary_end(data, offset, length, record_type, index, listed_records)
        offset += length
        index += 1


def _check_binary_end(
    data: bytes,
    offset: int,
    length: int,
    record_type: int,
    index: int,
    listed: Sequence[tuple[int | None, int | None]],
) -> None:
    """A binary record's LEN must lead to the next listed record or to the end of the data."""
    end = offset + length
    idc = data[offset + 4] if offset + 4 < len(data) else None
    where = f"record {index + 1} (Type-{record_type} IDC {idc}, at byte {offset})"
    minimum = _BINARY_HEADER_SIZES.get(record_type, 6)
    if length < minimum:
        raise TransactionError(
            tag(record_type, 1),
            f"{where}: LEN {length} is shorter than the {minimum}-byte header of a "
            f"Type-{record_type} record",
        )
    if end == len(data):
        return
    following = listed[index + 1] if index + 1 < len(listed) else None
    if following is None:
        raise TransactionError(
            tag(record_type, 1),
            f"{where}: LEN {length} ends at byte {end} but the transaction runs on to byte "
            f"{len(data)} and 1.003 CNT lists no further record (LEN too short?)",
        )
    next_type, next_idc = following
    if _record_starts(data, end, next_type, next_idc):
        return
    raise TransactionError(
        tag(record_type, 1),
        f"{where}: LEN {length} ends at byte {end}, where the next listed record "
        f"(Type-{next_type} IDC {next_idc}) does not start (LEN too short or too long)",
    )


def _record_starts(data: bytes, at: int, record_type: int | None, idc: int | None) -> bool:
    """Whether a record of `record_type` (with IDC `idc`) plausibly starts at byte `at`."""
    if record_type in _BINARY_RECORD_TYPES:
        if at + 5 > len(data):
            return False
        # Only the start is judged here: a LEN running past the end is that record's fault.
        length = int.from_bytes(data[at : at + 4], "big")
        plausible = _BINARY_HEADER_SIZES.get(record_type, 6) <= length
        return plausible and (idc is None or data[at + 4] == idc)
    match = _RECORD_LEN.match(data, at)
    return match is not None and record_type is not None and int(match.group(1)) == record_type


def check_tags(data: bytes, offset: int, length: int, record_type: int, number: int) -> None:
    """Every field of the tagged record at `offset` starts with a well-formed tag
    ``<digits>.<digits>:``; a damaged one is named with its record and byte offset.

    The scan stops at the image data field (x.999), whose bytes may hold separators.
    """
    end = offset + length - 1  # the FS
    start = offset
    while start < end:
        separator = data.find(_GS, start, end)
        stop = end if separator < 0 else separator
        chunk = data[start:stop]
        found = _TAG.match(chunk)
        if not found:  # a well-formed tag of another record type is left to nistitl
            raise TransactionError(
                _readable_tag(chunk, record_type),
                f"damaged tag {chunk[:12]!r} in record {number} (Type-{record_type}) "
                f"at byte {start} of the transaction",
            )
        if int(found.group(2)) == _IMAGE_DATA_FIELD:
            return
        start = stop + 1


def _readable_tag(chunk: bytes, record_type: int) -> str:
    """The field a damaged tag names, as far as it can be read (else the record)."""
    head = chunk.split(b":", 1)[0]
    digits = re.fullmatch(rb"(\d{1,3})\.(\d{1,9})", head)
    if digits and int(digits.group(1)) == record_type:
        return tag(record_type, int(digits.group(2)))
    # A missing ':' ("2.018DOE"): the field number is read when it has its three digits.
    loose = re.fullmatch(rb"\d{1,3}\.(\d{3,9})\D.*", head, re.DOTALL)
    if loose:
        return tag(record_type, int(loose.group(1)))
    return f"Type-{record_type}"


def _digits(text: str) -> bool:
    """Only ASCII digits: str.isdigit also accepts superscripts and other scripts' digits,
    which int() refuses."""
    return text.isascii() and text.isdigit()


def _listed_records(cnt: str) -> list[tuple[int | None, int | None]]:
    """(record type, IDC) of each 1.003 CNT subfield (Type-1 first); None where unreadable."""
    records: list[tuple[int | None, int | None]] = []
    for sub in cnt.split("\x1e"):
        items = sub.split("\x1f")
        head = items[0]
        idc = items[1] if len(items) > 1 else ""
        records.append(
            (
                int(head) if _digits(head) and len(head) <= 3 else None,
                int(idc) if _digits(idc) and len(idc) <= 3 else None,
            )
        )
    return records


def _current_record(message: Any) -> str | None:
    """The record nistitl was parsing (it appends a record before parsing its fields)."""
    try:
        return f"Type-{message[len(message) - 1].type}"
    except Exception:
        return None


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    raise TransactionError(None, f"expected bytes, got {type(raw).__name__}")


def _from_nistitl(exc: Any, message: Any) -> TransactionError:
    """Name the record or field behind a nistitl.NistException (framing was checked before)."""
    text = str(exc)
    kind = getattr(exc.error, "name", "")
    if "CNT" in text:
        try:
            check_record_count(list(message))
        except TransactionError as detailed:
            return detailed
        return TransactionError("1.003", "does not match the records in the transaction")
    duplicate = _TAG_IN_MESSAGE.search(text)
    if duplicate:
        return TransactionError(
            tag(int(duplicate.group(2)), int(duplicate.group(1))), "field appears twice"
        )
    where = _current_record(message)
    misplaced = _TAG_NAME_IN_MESSAGE.search(text)
    if misplaced:
        return TransactionError(where, f"field {misplaced.group(1)} does not belong in this record")
    if kind == "NIST_TOO_SHORT":
        return TransactionError(where, "transaction truncated")
    if kind == "NIST_TOO_LONG":
        return TransactionError(where, "record LEN disagrees with where the record ends (FS)")
    return TransactionError(where, f"malformed record ({text})"[:200])


def check_record_count(records: Sequence[Record]) -> None:
    """1.003 CNT must list every record after Type-1, in order, with its type and IDC."""
    if not records or records[0].type != 1:
        raise TransactionError("Type-1", "the first record is not a Type-1 record")
    field = "1.003"
    value = _field_value(records[0], 3)
    if value is None or value == "":
        raise TransactionError(field, "missing mandatory field")
    if isinstance(value, str) or not all(
        not isinstance(sub, str) and len(sub) == 2 for sub in value
    ):
        raise TransactionError(field, "every subfield must hold two items: record type and IDC")
    pairs = [(_cnt_number(str(sub[0])), _cnt_number(str(sub[1]))) for sub in value]
    first_type, declared = pairs[0]
    if first_type != 1:
        raise TransactionError(field, "first subfield must start with record type 1")
    present = len(records) - 1
    if declared != present or len(pairs) - 1 != present:
        hint = " (transaction truncated?)" if declared > present else ""
        raise TransactionError(
            field,
            f"declares {declared} records after Type-1 and lists {len(pairs) - 1}, "
            f"but {present} are present{hint}",
        )
    listed = zip(pairs[1:], records[1:], strict=True)
    for index, ((record_type, idc), record) in enumerate(listed, start=1):
        actual_idc = record_idc(record)
        if record_type != record.type or idc != actual_idc:
            raise TransactionError(
                field,
                f"entry {index} is Type-{record_type} IDC {idc} but record {index} is "
                f"Type-{record.type} IDC {actual_idc}",
            )


def _cnt_number(text: str) -> int:
    if not _digits(text) or len(text) > 3:
        raise TransactionError("1.003", f"{text[:20]!r} is not a record type or IDC")
    return int(text)


def record_idc(record: Record) -> int:
    """The IDC of a record (x.002, or the binary header byte); Type-1 has none and gives 0."""
    if record.type == 1:
        return 0
    value = record.IDC if isinstance(record, nistitl.BinaryRecord) else _field_value(record, 2)
    if value is None or value == "":
        raise TransactionError(tag(record.type, 2), "missing mandatory field")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TransactionError(tag(record.type, 2), "IDC is not a number")


def _field_value(record: Record, number: int) -> Any:
    field = record[number]
    return None if field is None else field.value


def text_value(record: Record, number: int, *, required: bool) -> str | None:
    """The single text value of field `number`; None (or an error when `required`) if absent."""
    value = _field_value(record, number)
    if value is None or value == "":
        if required:
            raise TransactionError(tag(record.type, number), "missing mandatory field")
        return None
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TransactionError(
            tag(record.type, number), "expected a single value, found subfields or items"
        )
    return value


def required_text(record: Record, number: int) -> str:
    """The single text value of a mandatory field; TransactionError naming it when absent."""
    value = text_value(record, number, required=True)
    if value is None:  # text_value raises first; this keeps type checkers informed
        raise TransactionError(tag(record.type, number), "missing mandatory field")
    return value


def repeated_values(record: Record, number: int) -> list[str | list[str]]:
    """The occurrences (subfields) of field `number`; each a str or a list of items."""
    value = _field_value(record, number)
    if value is None or value == "":
        return []
    if isinstance(value, str | int):
        return [str(value)]
    return [item if isinstance(item, str) else [str(x) for x in item] for item in value]


def header_from_record(record: Record) -> TransactionHeader:
    """Validate and read the Type-1 record of a parsed transaction."""
    return header_from_fields(lambda number: text_value(record, number, required=False))


def header_from_fields(get: Callable[[int], str | None]) -> TransactionHeader:
    """Build a TransactionHeader from `get(field_number) -> str | None` (Type-1)."""

    def required(number: int) -> str:
        value = get(number)
        if value is None:
            raise TransactionError(tag(1, number), "missing mandatory field")
        return value

    version = required(2)
    if not (len(version) == 4 and _digits(version)):
        raise TransactionError("1.002", f"expected a 4-digit version such as 0400, got {version!r}")
    tot = ebts.check_tot("1.004", required(4))
    transaction_date = ebts.parse_date("1.005", required(5))
    pry = get(6)
    priority = ebts.parse_number("1.006", pry, 1, 9) if pry is not None else None
    dai = ebts.check_ori("1.007", required(7))
    ori = ebts.check_ori("1.008", required(8))
    tcn = ebts.check_text("1.009", required(9), max_len=ebts.MAX_TCN)
    tcr_text = get(10)
    tcr = ebts.check_text("1.010", tcr_text, max_len=ebts.MAX_TCN) if tcr_text else None
    return TransactionHeader(tot, transaction_date, priority, dai, ori, tcn, tcr)


def scan_type1(raw: object) -> dict[int, str]:
    """Read the Type-1 fields without parsing the rest (for routing broken transactions).

    Values holding subfields or items (1.003 CNT) come back with their separators.
    """
    data = _as_bytes(raw)
    match = _LEN_PREFIX.match(data)
    if not match:
        if not data:
            raise TransactionError("Type-1", "empty transaction")
        raise TransactionError("Type-1", "transaction does not start with 1.001 LEN")
    length = int(match.group(1))
    if length > len(data):
        raise TransactionError("Type-1", "transaction truncated inside the Type-1 record")
    if length < match.end() or data[length - 1] != _FS:
        raise TransactionError("1.001", "Type-1 length does not end at a file separator")
    fields: dict[int, str] = {}
    start = 0
    for chunk in data[: length - 1].split(_GS):
        found = _TYPE1_TAG.match(chunk)
        if not found:
            raise TransactionError(
                _readable_tag(chunk, 1),
                f"damaged tag {chunk[:12]!r} in record 1 (Type-1) at byte {start} "
                "of the transaction",
            )
        start += len(chunk) + 1
        number = int(found.group(1))
        if number in fields:
            raise TransactionError(tag(1, number), "field appears twice")
        fields[number] = chunk[found.end() :].decode("latin-1")
    return fields


def simple_value(fields: Mapping[int, str], number: int) -> str | None:
    """A scanned Type-1 value, refusing values that hold subfields or items."""
    value = fields.get(number)
    if value is None or value == "":
        return None
    if "\x1e" in value or "\x1f" in value:
        raise TransactionError(tag(1, number), "expected a single value, found subfields or items")
    return value


# --- encoding -------------------------------------------------------------------------


def new_message(header: TransactionHeader) -> Any:
    """A nistitl Message holding the Type-1 record for `header` (CNT is computed on output)."""
    message = nistitl.Message()
    first = message[0]
    first.VER = ebts.ANSI_NIST_VERSION
    first.TOT = header.tot
    first.DAT = ebts.format_date(header.transaction_date)
    if header.priority is not None:
        first.PRY = str(header.priority)
    first.DAI = header.dai
    first.ORI = header.ori
    first.TCN = header.tcn
    if header.tcr is not None:
        first.TCR = header.tcr
    first.NSR = ebts.NATIVE_SCANNING_RESOLUTION
    first.NTR = ebts.NATIVE_SCANNING_RESOLUTION
    return message


def check_header(header: TransactionHeader) -> None:
    """Apply the Type-1 rules to a header about to be encoded."""
    ebts.check_tot("1.004", header.tot)
    ebts.check_date("1.005", header.transaction_date)
    if header.priority is not None:
        ebts.check_number("1.006", header.priority, 1, 9)
    ebts.check_ori("1.007", header.dai)
    ebts.check_ori("1.008", header.ori)
    ebts.check_text("1.009", header.tcn, max_len=ebts.MAX_TCN)
    if header.tcr is not None:
        ebts.check_text("1.010", header.tcr, max_len=ebts.MAX_TCN)


def text_record(record_type: int, idc: int, fields: Sequence[tuple[int, FieldValue]]) -> Any:
    """An AsciiRecord with IDC `idc` and (field number, value) pairs; a list value = subfields."""
    record = nistitl.AsciiRecord(record_type)
    record.IDC = idc
    for number, value in fields:
        record += nistitl.Field(record_type, number, _to_nistitl(value))
    return record


def _to_nistitl(value: FieldValue) -> Any:
    if isinstance(value, str):
        return value
    return [item if isinstance(item, str) else list(item) for item in value]


def serialize(message: Any) -> bytes:
    """The wire bytes of a nistitl Message."""
    try:
        data = message.NIST
    except Exception as exc:  # validated values should never get here
        raise TransactionError(None, f"cannot serialise transaction ({exc})") from exc
    if not isinstance(data, bytes):
        raise TransactionError(None, "nistitl produced no bytes")
    return data
