"""Forwarding a transaction: a relay (the SIB) re-addresses the Type-1 header, images untouched."""

from __future__ import annotations

import dataclasses

import nistitl

from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.nist.car import transaction_digest
from scomm.nist.ebts import check_ori
from scomm.nist.errors import TransactionError
from scomm.nist.tenprint import TenprintSubmission
from scomm.nist.wire import check_framing

# Destination agency identifier of FBI CJIS in EBTS Type-1 1.007 ([M]: from EBTS samples).
FBI_CJIS_DAI = "WVIAFIS0Z"


def readdress(raw: bytes, *, ori: str, dai: str, decoded: DecodedImageCache | None = None) -> bytes:
    """The same transaction with 1.008 ORI and 1.007 DAI replaced (EBTS: the CSA/SIB puts its
    own ORI in Type-1; the booking station stays in 2.073 CRI). Every other record, the
    compressed finger images included, is carried over byte for byte.

    Where `decoded` holds the decode of `raw` (`car.decode_tenprint`), it is given the
    decode of the result too, that value with the new ORI and DAI: the next reader (CJIS)
    need not parse it again."""
    check_ori("1.008", ori)
    check_ori("1.007", dai)
    check_framing(raw)
    message = nistitl.Message()
    try:
        message.parse(raw)
        message[0].ORI = ori
        message[0].DAI = dai
        forwarded = bytes(message.NIST)
    except Exception as exc:  # nistitl raises many types on bad input
        raise TransactionError("Type-1", f"cannot re-address the transaction: {exc}") from exc
    if decoded is not None:
        found = decoded.transaction(transaction_digest(raw))
        if isinstance(found, TenprintSubmission):
            decoded.keep_transaction(
                transaction_digest(forwarded), dataclasses.replace(found, ori=ori, dai=dai)
            )
    return forwarded
