"""TransactionError: how it names fields and turns into ERRT 2.060 MSG lines."""

from __future__ import annotations

import pickle

import pytest

from scomm.nist.errors import TransactionError, only_transaction_errors, split_errt_text


def test_str_names_tag_and_mnemonic() -> None:
    error = TransactionError("2.022", "missing mandatory field")
    assert str(error) == "2.022 DOB: missing mandatory field"
    assert error.field == "2.022"
    assert error.reason == "missing mandatory field"
    assert error.mnemonic == "DOB"


def test_str_for_records_and_unknown_tags_and_no_field() -> None:
    assert str(TransactionError("Type-14", "no finger images")) == "Type-14: no finger images"
    assert str(TransactionError("2.999", "odd")) == "2.999: odd"
    assert str(TransactionError(None, "not a transaction")) == "not a transaction"


def test_pickles_and_reprs() -> None:
    error = TransactionError("14.013", "finger position 16 outside 1..15")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.reason) == (error.field, error.reason)
    assert "14.013" in repr(error)


def test_errt_messages_short() -> None:
    assert TransactionError("1.004", "'SRE' is not a CAR").errt_messages() == [
        "1.004 TOT: 'SRE' is not a CAR"
    ]


def test_errt_messages_clean_separators_and_split_long_text() -> None:
    reason = "bad\x1dvalue\x1e " + " ".join(f"word{i}" for i in range(200))
    lines = TransactionError("2.018", reason).errt_messages()
    assert len(lines) > 1
    assert all(1 <= len(line) <= 300 for line in lines)
    assert all(all(" " <= ch <= "~" for ch in line) for line in lines)
    assert lines[0].startswith("2.018 NAM: bad value")
    assert " ".join(lines).split() == f"2.018 NAM: bad value {reason[11:]}".split()


def test_errt_messages_at_most_eleven_lines() -> None:
    lines = split_errt_text("x" * 5000)
    assert len(lines) == 11
    assert all(len(line) <= 300 for line in lines)
    assert lines[-1].endswith("...")


def test_only_transaction_errors_wraps_bugs() -> None:
    def broken(_: bytes) -> None:
        raise KeyError("boom")

    with pytest.raises(TransactionError) as caught:
        only_transaction_errors(broken, b"")
    assert caught.value.reason.startswith("internal error")
