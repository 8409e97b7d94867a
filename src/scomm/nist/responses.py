"""FBI responses to a ten-print submission: SRE (search results) and ERRT (transaction error)."""

from __future__ import annotations

from scomm.nist import ebts
from scomm.nist.errors import (
    ERRT_MESSAGE_MAX_CHARS,
    ERRT_MESSAGE_MAX_COUNT,
    TransactionError,
    only_transaction_errors,
    split_errt_text,
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

# The rule each field or record of a CAR must follow (EBTS 9.1, DOMAIN.md §6.1 [V][33]; the
# value ranges of the NCIC-coded descriptors are [M]). An ERRT names the field and this rule.
CAR_RULES: dict[str, str] = {
    "1.002": "mandatory, 4 digits: 0400 (ITL 1-2007) or 0500 (ITL 1-2011)",
    "1.003": "mandatory, one subfield per record (record type, IDC) matching the records sent",
    "1.004": "mandatory, CAR or CNA for a criminal ten-print submission",
    "1.005": "mandatory, date CCYYMMDD",
    "1.006": "mandatory in a CAR, one digit 1-9 (4: routine criminal)",
    "1.007": "mandatory, destination agency ORI (9 characters)",
    "1.008": "mandatory, originating agency ORI: the SIB/CSA (9 characters)",
    "1.009": "mandatory, transaction control number (10-40 characters)",
    "1.010": "mandatory in a response: the TCN of the submission",
    "1.011": "mandatory, native scanning resolution NN.NN ppmm",
    "1.012": "mandatory, nominal transmitting resolution NN.NN ppmm",
    "2.005": "mandatory in a CAR, retention code Y or N",
    "2.018": "mandatory, name SURNAME,GIVEN MIDDLE (3-50 characters)",
    "2.020": "mandatory, place of birth as a 2-letter NCIC code",
    "2.022": "mandatory, date of birth CCYYMMDD, a real date not after 2.045 DOA",
    "2.024": "mandatory, sex code M, F, X or U",
    "2.025": "mandatory, NCIC race code",
    "2.027": "mandatory, height in feet and inches (3 digits)",
    "2.029": "mandatory, weight in pounds (3 digits)",
    "2.031": "mandatory, NCIC eye colour code",
    "2.032": "mandatory, NCIC hair colour code",
    "2.045": "mandatory in a CAR, date of arrest CCYYMMDD",
    "2.047": "mandatory in a CAR, 1-40 charges, each DOO (CCYYMMDD) and AOL (free text)",
    "2.073": "mandatory in a CAR, the booking agency ORI (9 characters)",
    "14.011": "compression NONE, WSQ20, JPEGB, JPEGL, JP2, JP2L or PNG",
    "14.013": "finger position 1-10 (rolled) or 11-15 (plain), each at most once",
    "14.999": "image data that decodes into an enrollable finger image",
    "Type-2": "exactly one Type-2 record (EBTS 9.1 CAR record counts 1:1 2:1)",
    "Type-14": "1-14 finger image records (EBTS 9.1 CAR: (4|14):1-14)",
}
STRUCTURE_RULE = "ANSI/NIST-ITL 1-2011 record structure (tagged fields, GS/RS/US/FS separators)"


def rule_for(field: str | None) -> str:
    """The rule a field or record follows, for the ERRT (the structure rule when unknown)."""
    if field is None:
        return STRUCTURE_RULE
    if field in CAR_RULES:
        return CAR_RULES[field]
    if field.startswith("Type-"):
        return f"record {field}: {STRUCTURE_RULE}"
    return "EBTS 9.1 field definition for a CAR"


def errt_messages(error: TransactionError) -> tuple[str, ...]:
    """The 2.060 MSG lines of an ERRT: the field at fault with what is wrong, then the rule it
    broke (`FIELD 2.022 DOB: ...`, `RULE 2.022 DOB: ...`); each <= 300 chars, at most 11."""
    name = error.mnemonic
    where = (
        "TRANSACTION" if error.field is None else f"{error.field} {name}" if name else error.field
    )
    lines = split_errt_text(f"FIELD {where}: {error.reason}")
    rule = split_errt_text(f"RULE {where}: {rule_for(error.field)}")
    return tuple((lines[: ERRT_MESSAGE_MAX_COUNT - 1] + rule)[:ERRT_MESSAGE_MAX_COUNT])


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
