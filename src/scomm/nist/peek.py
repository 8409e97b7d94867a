"""Look into a transaction without the full decode: its TOT, Type-1 header, finger images."""

from __future__ import annotations

from scomm.nist import ebts
from scomm.nist.errors import TransactionError, only_transaction_errors
from scomm.nist.finger_records import (
    decode_fingers,
    read_pending_finger,
    read_pending_legacy_finger,
)
from scomm.nist.tenprint import FingerImage
from scomm.nist.wire import (
    TransactionHeader,
    header_from_fields,
    parse_records,
    scan_type1,
    simple_value,
)


def read_tot(raw: bytes) -> str:
    """The 1.004 TOT of a transaction, read from its Type-1 record alone.

    Works even when later records are damaged, so a receiver can route the
    transaction or answer with an ERRT. Raises only TransactionError.
    """
    return only_transaction_errors(_read_tot, raw)


def read_header(raw: bytes) -> TransactionHeader:
    """The validated Type-1 header (TOT, DAT, PRY, DAI, ORI, TCN, TCR), from Type-1 alone."""
    return only_transaction_errors(_read_header, raw)


def read_finger_images(raw: bytes) -> tuple[FingerImage, ...]:
    """Every Type-14 and Type-4 finger image of any transaction (no CAR rules on TOT or
    Type-2).

    Raises only TransactionError, naming the field or record at fault.
    """
    return only_transaction_errors(_read_finger_images, raw)


def _read_tot(raw: bytes) -> str:
    tot = simple_value(scan_type1(raw), 4)
    if tot is None:
        raise TransactionError("1.004", "missing mandatory field")
    return ebts.check_tot("1.004", tot)


def _read_header(raw: bytes) -> TransactionHeader:
    fields = scan_type1(raw)
    return header_from_fields(lambda number: simple_value(fields, number))


def _read_finger_images(raw: bytes) -> tuple[FingerImage, ...]:
    records = parse_records(raw)
    pending = [  # in record order, Type-4 and Type-14 alike
        read_pending_legacy_finger(r, records[0], index=i)
        if r.type == 4
        else read_pending_finger(r)
        for i, r in enumerate(records, start=1)
        if r.type in (4, 14)
    ]
    return decode_fingers(pending)
