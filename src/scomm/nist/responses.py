"""FBI responses to a ten-print submission: SRE (search results) and ERRT (transaction error)."""

from __future__ import annotations

from scomm.nist import ebts
from scomm.nist.errors import (
    ERRT_MESSAGE_MAX_CHARS,
    ERRT_MESSAGE_MAX_COUNT,
    TransactionError,
    only_transaction_errors,
)
from scomm.nist.tenprint import SubmissionResults, TransactionErrorResponse
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

_RESPONSE_RECORD_TYPES = frozenset({1, 2})


def encode_sre(results: SubmissionResults) -> bytes:
    """The EBTS bytes of an SRE: Type-1 (TOT SRE, TCR = the submission's TCN) and Type-2.

    Type-2 carries 2.059 SRF (I identified / N not identified), 2.014 FBI and 2.018 NAM
    when known. An identification (SRF I) must name the FBI number.
    """
    if not isinstance(results, SubmissionResults):
        raise TransactionError(None, f"expected SubmissionResults, got {type(results).__name__}")
    header = _response_header(ebts.SRE_TOT, results)
    if not isinstance(results.identified, bool):
        raise TransactionError("2.059", "identified must be a bool")
    fields: list[tuple[int, FieldValue]] = []
    if results.fbi_number is not None:
        fields.append((14, ebts.check_fbi_number("2.014", results.fbi_number)))
    elif results.identified:
        raise TransactionError("2.014", "an identification (SRF I) must carry the FBI number")
    if results.name is not None:
        fields.append((18, ebts.check_name("2.018", results.name)))
    fields.append((59, "I" if results.identified else "N"))
    message = new_message(header)
    message += text_record(2, 0, fields)
    return serialize(message)


def decode_sre(raw: bytes) -> SubmissionResults:
    """Read an SRE. Raises only TransactionError, naming the field or record at fault."""
    return only_transaction_errors(_decode_sre, raw)


def encode_errt(response: TransactionErrorResponse) -> bytes:
    """The EBTS bytes of an ERRT: Type-1 (TOT ERRT) and Type-2 with 1-11 2.060 MSG lines."""
    if not isinstance(response, TransactionErrorResponse):
        raise TransactionError(
            None, f"expected TransactionErrorResponse, got {type(response).__name__}"
        )
    header = _response_header(ebts.ERRT_TOT, response)
    messages = _check_messages(list(response.messages))
    message = new_message(header)
    message += text_record(2, 0, [(60, messages)])
    return serialize(message)


def decode_errt(raw: bytes) -> TransactionErrorResponse:
    """Read an ERRT. Raises only TransactionError, naming the field or record at fault."""
    return only_transaction_errors(_decode_errt, raw)


def _response_header(
    tot: str, response: SubmissionResults | TransactionErrorResponse
) -> TransactionHeader:
    if response.tcr is None:
        raise TransactionError("1.010", "a response must name the submission's TCN (TCR)")
    header = TransactionHeader(
        tot=tot,
        transaction_date=response.transaction_date,
        priority=None,
        dai=response.dai,
        ori=response.ori,
        tcn=response.tcn,
        tcr=response.tcr,
    )
    check_header(header)
    return header


def _check_messages(messages: list[object]) -> list[str]:
    if not 1 <= len(messages) <= ERRT_MESSAGE_MAX_COUNT:
        raise TransactionError(
            "2.060", f"needs 1..{ERRT_MESSAGE_MAX_COUNT} messages, got {len(messages)}"
        )
    return [ebts.check_text("2.060", text, max_len=ERRT_MESSAGE_MAX_CHARS) for text in messages]


def _response_records(raw: bytes, tot: str) -> tuple[TransactionHeader, str, Record]:
    records = parse_records(raw)
    header = header_from_record(records[0])
    if header.tot != tot:
        raise TransactionError("1.004", f"{header.tot!r} is not an {tot} transaction")
    if header.tcr is None:
        raise TransactionError("1.010", "missing mandatory field")
    for record in records[1:]:
        if record.type not in _RESPONSE_RECORD_TYPES:
            raise TransactionError(
                f"Type-{record.type}", f"record type not accepted in an {tot} (only Type-1, Type-2)"
            )
    if len(records) != 2:
        raise TransactionError("Type-2", f"expected one Type-2 record, found {len(records) - 1}")
    return header, header.tcr, records[1]


def _decode_sre(raw: bytes) -> SubmissionResults:
    header, tcr, type2 = _response_records(raw, ebts.SRE_TOT)
    flag = text_value(type2, 59, required=True)
    identified = ebts.check_code("2.059", flag, ("I", "N")) == "I"
    fbi_text = text_value(type2, 14, required=False)
    fbi_number = None if fbi_text is None else ebts.check_fbi_number("2.014", fbi_text)
    if identified and fbi_number is None:
        raise TransactionError("2.014", "an identification (SRF I) must carry the FBI number")
    name_text = text_value(type2, 18, required=False)
    return SubmissionResults(
        tcn=header.tcn,
        tcr=tcr,
        ori=header.ori,
        dai=header.dai,
        transaction_date=header.transaction_date,
        identified=identified,
        fbi_number=fbi_number,
        name=None if name_text is None else ebts.check_name("2.018", name_text),
    )


def _decode_errt(raw: bytes) -> TransactionErrorResponse:
    header, tcr, type2 = _response_records(raw, ebts.ERRT_TOT)
    occurrences = repeated_values(type2, 60)
    if not occurrences:
        raise TransactionError("2.060", "missing mandatory field")
    if any(not isinstance(text, str) for text in occurrences):
        raise TransactionError("2.060", "a message holds items; expected plain text")
    messages = _check_messages(list(occurrences))
    return TransactionErrorResponse(
        tcn=header.tcn,
        tcr=tcr,
        ori=header.ori,
        dai=header.dai,
        transaction_date=header.transaction_date,
        messages=tuple(messages),
    )
