"""CAR/CNA criminal ten-print submissions: TenprintSubmission to EBTS bytes and back."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from typing import TypeVar

from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.nist import ebts
from scomm.nist.errors import TransactionError, only_transaction_errors
from scomm.nist.finger_records import (
    PendingFinger,
    check_compression,
    check_finger,
    decode_fingers,
    finger_record,
    legacy_finger_record,
    read_pending_finger,
    read_pending_legacy_finger,
)
from scomm.nist.mnemonics import tag
from scomm.nist.tenprint import ArrestCharge, TenprintSubmission
from scomm.nist.wire import (
    FieldValue,
    Record,
    TransactionHeader,
    check_header,
    header_from_record,
    new_message,
    parse_records,
    repeated_values,
    serialize,
    text_record,
    text_value,
)

_T = TypeVar("_T")

FINGER_RECORD_TYPES = (14, 4)


def encode_tenprint(
    sub: TenprintSubmission, compression: str = "WSQ20", finger_record_type: int = 14
) -> bytes:
    """The EBTS bytes of a CAR/CNA: Type-1, Type-2 and one finger record per image.

    `finger_record_type` 14 (the default, EBTS's tagged record) or 4 (the legacy binary
    500 ppi record).  `compression` is the 14.011 CGA: "WSQ20" (lossy), "NONE" (raw
    8-bit) or "PNG" (lossless; Type-14 only). Raises TransactionError, naming the field,
    for anything the FBI would reject and `decode_tenprint` would refuse.
    """
    if not isinstance(sub, TenprintSubmission):
        raise TransactionError(None, f"expected a TenprintSubmission, got {type(sub).__name__}")
    header = _header(sub)
    check_header(header)
    ebts.check_code("1.004", sub.tot, ebts.TENPRINT_TOTS)
    ebts.check_number("1.006", sub.priority, 1, 9)
    if finger_record_type not in FINGER_RECORD_TYPES:
        raise TransactionError(
            None, f"finger records are Type-14 or Type-4, not {finger_record_type}"
        )
    check_compression(compression)
    fields = _type2_fields(sub)
    for finger in sub.fingers:
        check_finger(finger)
    _check_finger_set([f.position for f in sub.fingers])
    message = new_message(header)
    message += text_record(2, 0, fields)
    for idc, finger in enumerate(sub.fingers, start=1):
        if finger_record_type == 4:
            message += legacy_finger_record(finger, idc, compression)
        else:
            message += finger_record(finger, idc, sub.ori, sub.transaction_date, compression)
    return serialize(message)


def transaction_digest(raw: bytes) -> bytes:
    """The key a decoded transaction is kept under in a `DecodedImageCache`."""
    return hashlib.blake2b(raw, digest_size=16).digest()


def decode_tenprint(raw: bytes, images: DecodedImageCache | None = None) -> TenprintSubmission:
    """Read a CAR/CNA (WSQ images that `images` holds are not decoded again, nor the same
    bytes parsed again: the decoded value is immutable). Raises only TransactionError,
    naming the field or record at fault."""
    digest = transaction_digest(raw) if images is not None else b""
    if images is not None:
        found = images.transaction(digest)
        if isinstance(found, TenprintSubmission):
            return found
    decoded = only_transaction_errors(lambda data: _decode_tenprint(data, images), raw)
    if images is not None:
        images.keep_transaction(digest, decoded)
    return decoded


def _header(sub: TenprintSubmission) -> TransactionHeader:
    return TransactionHeader(
        tot=sub.tot,
        transaction_date=sub.transaction_date,
        priority=sub.priority,
        dai=sub.dai,
        ori=sub.ori,
        tcn=sub.tcn,
        tcr=sub.tcr,
    )


def _type2_fields(sub: TenprintSubmission) -> list[tuple[int, FieldValue]]:
    if not isinstance(sub.retain, bool):
        raise TransactionError("2.005", f"retain must be a bool, got {type(sub.retain).__name__}")
    dob = ebts.check_date("2.022", sub.dob)
    doa = ebts.check_date("2.045", sub.date_of_arrest)
    if dob > doa:
        raise TransactionError("2.022", "date of birth is after the date of arrest (2.045 DOA)")
    fields: list[tuple[int, FieldValue]] = [(5, "Y" if sub.retain else "N")]
    if sub.atn is not None:
        fields.append((6, ebts.check_text("2.006", sub.atn, max_len=ebts.MAX_ATN)))
    if sub.oca is not None:
        fields.append((9, ebts.check_text("2.009", sub.oca, max_len=ebts.MAX_OCA)))
    fields.append((18, ebts.check_name("2.018", sub.name)))
    fields.append((20, ebts.check_two_letter_code("2.020", sub.pob)))
    if sub.citizenship is not None:
        fields.append((21, ebts.check_two_letter_code("2.021", sub.citizenship)))
    fields += [
        (22, ebts.format_date(dob)),
        (24, ebts.check_code("2.024", sub.sex, ebts.SEX_CODES)),
        (25, ebts.check_code("2.025", sub.race, ebts.RACE_CODES)),
        (27, ebts.check_height("2.027", sub.height)),
        (29, ebts.check_weight("2.029", sub.weight)),
        (31, ebts.check_code("2.031", sub.eye, ebts.EYE_CODES)),
        (32, ebts.check_code("2.032", sub.hair, ebts.HAIR_CODES)),
        (45, ebts.format_date(doa)),
        (47, _charges_value(sub.charges)),
        (73, ebts.check_ori("2.073", sub.cri)),
    ]
    return fields


def _charges_value(charges: Sequence[ArrestCharge]) -> list[list[str]]:
    if not 1 <= len(charges) <= ebts.MAX_CHARGES:
        raise TransactionError("2.047", f"needs 1..{ebts.MAX_CHARGES} charges, got {len(charges)}")
    value = []
    for charge in charges:
        if not isinstance(charge, ArrestCharge):
            raise TransactionError("2.047", f"expected ArrestCharge, got {type(charge).__name__}")
        offense_date = ebts.check_date("2.047", charge.offense_date)
        literal = ebts.check_text("2.047", charge.literal, max_len=ebts.MAX_OFFENSE_LITERAL)
        value.append([ebts.format_date(offense_date), literal])
    return value


def _check_finger_set(positions: Sequence[int]) -> None:
    if not positions:
        raise TransactionError("Type-14", "a ten-print submission needs finger image records")
    if len(positions) > ebts.MAX_FINGER_RECORDS:
        raise TransactionError(
            "14.013", f"{len(positions)} finger images; at most {ebts.MAX_FINGER_RECORDS} allowed"
        )
    seen: set[int] = set()
    for position in positions:
        if position in seen:
            raise TransactionError("14.013", f"finger position {position} appears twice")
        seen.add(position)


def read_tenprint_fields(raw: bytes) -> TenprintSubmission:
    """A CAR/CNA's Type-1 and Type-2 fields and its finger records' positions, checked as
    `decode_tenprint` checks them, without decoding the images (`fingers` is empty): what
    booking it needs at once; the images are decoded where the prints are searched.
    Raises only TransactionError."""
    return only_transaction_errors(lambda data: _read_fields(data)[0], raw)


def _decode_tenprint(raw: bytes, images: DecodedImageCache | None) -> TenprintSubmission:
    without_images, pending = _read_fields(raw)
    return dataclasses.replace(without_images, fingers=decode_fingers(pending, images))


def _read_fields(raw: bytes) -> tuple[TenprintSubmission, list[PendingFinger]]:
    records = parse_records(raw)
    header = header_from_record(records[0])
    if header.tot not in ebts.TENPRINT_TOTS:
        raise TransactionError("1.004", f"{header.tot!r} is not a ten-print submission (CAR/CNA)")
    if header.priority is None:
        raise TransactionError("1.006", "missing mandatory field")
    ebts.check_car_record_counts([r.type for r in records])
    type2 = next(r for r in records if r.type == 2)
    without_images = _read_type2(type2, header, header.priority)
    pending = [
        read_pending_legacy_finger(r, records[0], index=i)
        if r.type == 4
        else read_pending_finger(r)
        for i, r in enumerate(records, start=1)
        if r.type in FINGER_RECORD_TYPES
    ]
    _check_finger_set([p.position for p in pending])
    return without_images, pending


def _read_type2(record: Record, header: TransactionHeader, priority: int) -> TenprintSubmission:
    def text(number: int) -> str | None:
        return text_value(record, number, required=False)

    def need(number: int, check: Callable[[str, object], _T]) -> _T:
        return check(tag(2, number), text(number))

    for field in sorted(ebts.MANDATORY_CAR_FIELDS, key=lambda t: int(t.split(".")[1])):
        if not repeated_values(record, int(field.split(".")[1])):
            raise TransactionError(field, "missing mandatory field")
    dob = ebts.parse_date("2.022", need(22, _short_text))
    doa = ebts.parse_date("2.045", need(45, _short_text))
    if dob > doa:
        raise TransactionError("2.022", "date of birth is after the date of arrest (2.045 DOA)")
    atn = text(6)
    oca = text(9)
    citizenship = text(21)
    return TenprintSubmission(
        tot=header.tot,
        tcn=header.tcn,
        ori=header.ori,
        dai=header.dai,
        transaction_date=header.transaction_date,
        priority=priority,
        cri=need(73, ebts.check_ori),
        retain=ebts.check_code("2.005", text(5), ("Y", "N")) == "Y",
        name=need(18, ebts.check_name),
        dob=dob,
        pob=need(20, ebts.check_two_letter_code),
        sex=ebts.check_code("2.024", text(24), ebts.SEX_CODES),
        race=ebts.check_code("2.025", text(25), ebts.RACE_CODES),
        height=need(27, ebts.check_height),
        weight=need(29, ebts.check_weight),
        eye=ebts.check_code("2.031", text(31), ebts.EYE_CODES),
        hair=ebts.check_code("2.032", text(32), ebts.HAIR_CODES),
        date_of_arrest=doa,
        charges=_read_charges(record),
        fingers=(),
        atn=None if atn is None else ebts.check_text("2.006", atn, max_len=ebts.MAX_ATN),
        oca=None if oca is None else ebts.check_text("2.009", oca, max_len=ebts.MAX_OCA),
        citizenship=None
        if citizenship is None
        else ebts.check_two_letter_code("2.021", citizenship),
        tcr=header.tcr,
    )


def _short_text(field: str, value: object) -> str:
    return ebts.check_text(field, value, max_len=8)


def _read_charges(record: Record) -> tuple[ArrestCharge, ...]:
    occurrences = repeated_values(record, 47)
    if len(occurrences) > ebts.MAX_CHARGES:
        raise TransactionError("2.047", f"{len(occurrences)} charges; at most {ebts.MAX_CHARGES}")
    charges = []
    for number, occurrence in enumerate(occurrences, start=1):
        if isinstance(occurrence, str) or len(occurrence) != 2:
            raise TransactionError(
                "2.047",
                f"charge {number} must hold two items: offense date (DOO) and literal (AOL)",
            )
        offense_date = ebts.parse_date("2.047", occurrence[0])
        literal = ebts.check_text("2.047", occurrence[1], max_len=ebts.MAX_OFFENSE_LITERAL)
        charges.append(ArrestCharge(offense_date, literal))
    return tuple(charges)
