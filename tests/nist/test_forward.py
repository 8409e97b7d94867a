import pytest

from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.nist.car import decode_tenprint, encode_tenprint, transaction_digest
from scomm.nist.errors import TransactionError
from scomm.nist.forward import readdress


def test_readdress_changes_only_the_header(make_submission) -> None:  # type: ignore[no-untyped-def]
    raw = encode_tenprint(make_submission())
    forwarded = readdress(raw, ori="TX0000000", dai="WVIAFIS0Z")
    before, after = decode_tenprint(raw), decode_tenprint(forwarded)
    assert after.ori == "TX0000000" and before.ori != after.ori
    assert after.cri == before.cri
    assert after.fingers == before.fingers  # compressed images carried over byte for byte
    assert after.charges == before.charges and after.dob == before.dob
    assert raw[-2000:] == forwarded[-2000:]


def test_readdress_refuses_a_bad_ori(make_submission) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TransactionError, match="1.008"):
        readdress(encode_tenprint(make_submission()), ori="tx", dai="WVIAFIS0Z")
    with pytest.raises(TransactionError):
        readdress(b"garbage", ori="TX0000000", dai="WVIAFIS0Z")


@pytest.mark.parametrize("record_type", [14, 4])
def test_readdress_keeps_the_decode_of_what_it_forwards(make_submission, record_type) -> None:  # type: ignore[no-untyped-def]
    """The value it puts in the cache is what parsing the forwarded bytes gives."""
    raw = encode_tenprint(make_submission(), finger_record_type=record_type)
    cache = DecodedImageCache()
    decode_tenprint(raw, cache)
    forwarded = readdress(raw, ori="TX0000000", dai="WVIAFIS0Z", decoded=cache)
    kept = cache.transaction(transaction_digest(forwarded))
    assert kept is not None and kept == decode_tenprint(forwarded)
    assert decode_tenprint(forwarded, cache) is kept
    # without the decode of the original nothing is kept
    empty = DecodedImageCache()
    again = readdress(raw, ori="TX0000000", dai="WVIAFIS0Z", decoded=empty)
    assert empty.transaction(transaction_digest(again)) is None
