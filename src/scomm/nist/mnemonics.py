"""EBTS field tags ("2.022") and their mnemonics ("DOB") for the fields scomm reads or writes."""

from __future__ import annotations

MNEMONICS: dict[str, str] = {
    # Type-1 transaction information
    "1.001": "LEN",
    "1.002": "VER",
    "1.003": "CNT",
    "1.004": "TOT",
    "1.005": "DAT",
    "1.006": "PRY",
    "1.007": "DAI",
    "1.008": "ORI",
    "1.009": "TCN",
    "1.010": "TCR",
    "1.011": "NSR",
    "1.012": "NTR",
    # Type-2 user-defined descriptive text (EBTS)
    "2.001": "LEN",
    "2.002": "IDC",
    "2.005": "RET",
    "2.006": "ATN",
    "2.009": "OCA",
    "2.014": "FBI",
    "2.018": "NAM",
    "2.020": "POB",
    "2.021": "CTZ",
    "2.022": "DOB",
    "2.024": "SEX",
    "2.025": "RAC",
    "2.027": "HGT",
    "2.029": "WGT",
    "2.031": "EYE",
    "2.032": "HAI",
    "2.045": "DOA",
    "2.047": "ASL",
    "2.059": "SRF",
    "2.060": "MSG",
    "2.073": "CRI",
    # Type-4 grayscale fingerprint image (binary header)
    "4.001": "LEN",
    "4.002": "IDC",
    "4.003": "IMP",
    "4.004": "FGP",
    "4.005": "ISR",
    "4.006": "HLL",
    "4.007": "VLL",
    "4.008": "GCA",
    "4.009": "DATA",
    # Type-14 variable-resolution friction ridge image
    "14.001": "LEN",
    "14.002": "IDC",
    "14.003": "IMP",
    "14.004": "SRC",
    "14.005": "FCD",
    "14.006": "HLL",
    "14.007": "VLL",
    "14.008": "SLC",
    "14.009": "THPS",
    "14.010": "TVPS",
    "14.011": "CGA",
    "14.012": "BPX",
    "14.013": "FGP",
    "14.999": "DATA",
}


def tag(record_type: int, field_number: int) -> str:
    """The dotted tag of a field: ``tag(2, 22) == "2.022"``."""
    return f"{record_type}.{field_number:03d}"


def mnemonic_for(field: str) -> str | None:
    """The mnemonic of a dotted tag, or None for records ("Type-14") and unknown tags."""
    return MNEMONICS.get(field)
