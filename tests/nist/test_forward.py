import pytest

from scomm.nist.car import decode_tenprint, encode_tenprint
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
