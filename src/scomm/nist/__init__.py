"""The wire format: ANSI/NIST-ITL (FBI EBTS) transactions to and from scomm values."""

from scomm.nist.car import decode_tenprint, encode_tenprint
from scomm.nist.ebts import MANDATORY_CAR_FIELDS, TENPRINT_TOTS
from scomm.nist.errors import TransactionError
from scomm.nist.finger_images import RecordImage, read_record_images
from scomm.nist.finger_records import COMPRESSIONS
from scomm.nist.peek import read_finger_images, read_header, read_tot
from scomm.nist.responses import decode_errt, decode_sre, encode_errt, encode_sre
from scomm.nist.tenprint import (
    ArrestCharge,
    FingerImage,
    SubmissionResults,
    TenprintSubmission,
    TransactionErrorResponse,
)
from scomm.nist.wire import TransactionHeader

__all__ = [
    "COMPRESSIONS",
    "MANDATORY_CAR_FIELDS",
    "TENPRINT_TOTS",
    "ArrestCharge",
    "FingerImage",
    "RecordImage",
    "SubmissionResults",
    "TenprintSubmission",
    "TransactionError",
    "TransactionErrorResponse",
    "TransactionHeader",
    "decode_errt",
    "decode_sre",
    "decode_tenprint",
    "encode_errt",
    "encode_sre",
    "encode_tenprint",
    "read_finger_images",
    "read_header",
    "read_record_images",
    "read_tot",
]
