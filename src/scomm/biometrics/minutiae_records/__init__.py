"""Finger-minutiae records: read ISO/IEC 19794-2:2005, INCITS 378-2004 and INCITS 378-2009;
write ISO/IEC 19794-2:2005 and INCITS 378-2004.

    record = read_record(data)            # detects the standard, MinutiaeRecordError if invalid
    record.views[0].minutiae              # scomm.biometrics.minutiae.Minutiae
    write_iso19794_2(record), write_incits378(record)
"""

from scomm.biometrics.minutiae_records.model import (
    INCITS378_2004,
    INCITS378_2009,
    ISO19794_2_2005,
    STANDARDS,
    FingerView,
    MinutiaeRecord,
    MinutiaeRecordError,
)
from scomm.biometrics.minutiae_records.reader import declared_length, read_record
from scomm.biometrics.minutiae_records.writer import write_incits378, write_iso19794_2

__all__ = [
    "INCITS378_2004",
    "INCITS378_2009",
    "ISO19794_2_2005",
    "STANDARDS",
    "FingerView",
    "MinutiaeRecord",
    "MinutiaeRecordError",
    "declared_length",
    "read_record",
    "write_incits378",
    "write_iso19794_2",
]
