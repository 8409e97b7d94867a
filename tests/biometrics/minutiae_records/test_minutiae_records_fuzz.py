"""Property tests: random bytes, truncations and single-byte corruptions of valid records only
ever raise MinutiaeRecordError, and whatever does read can be written back or is refused with
MinutiaeRecordError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from minutiae_record_samples import encode_incits2009, make_record

from scomm.biometrics.minutiae_records import (
    INCITS378_2004,
    INCITS378_2009,
    ISO19794_2_2005,
    MinutiaeRecord,
    MinutiaeRecordError,
    read_record,
    write_incits378,
    write_iso19794_2,
)

SEEDS = [
    write_iso19794_2(make_record(11, standard=ISO19794_2_2005, views=2)),
    write_incits378(make_record(12, standard=INCITS378_2004, views=2)),
    encode_incits2009(make_record(13, standard=INCITS378_2009, views=2, width=300, height=400)),
]
PREFIXES = [b"", b"FMR\x00 20\x00", b"FMR\x00030\x00"]
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_refuse(data: bytes) -> MinutiaeRecord | None:
    """Read `data`; a record that reads must also write (or be refused) cleanly."""
    try:
        record = read_record(data)
    except MinutiaeRecordError as error:
        assert error.reason
        return None
    for writer in (write_iso19794_2, write_incits378):
        try:
            encoded = writer(record)
        except MinutiaeRecordError:
            continue
        again = read_record(encoded)
        assert len(again.views) == len(record.views)
    return record


@settings(FUZZ, max_examples=100)
@given(prefix=st.sampled_from(PREFIXES), tail=st.binary(max_size=120))
def test_random_bytes(prefix: bytes, tail: bytes) -> None:
    _read_or_refuse(prefix + tail)


@st.composite
def truncated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    seed = draw(st.sampled_from(seeds))
    return seed[: draw(st.integers(0, len(seed) - 1))]


@settings(FUZZ, max_examples=100)
@given(data=truncated(SEEDS))
def test_truncations_always_fail(data: bytes) -> None:
    with pytest.raises(MinutiaeRecordError):
        read_record(data)


@st.composite
def corrupted(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    seed = draw(st.sampled_from(seeds))
    index = draw(st.integers(0, len(seed) - 1))
    value = draw(st.integers(0, 255).filter(lambda v: v != seed[index]))
    return seed[:index] + bytes([value]) + seed[index + 1 :]


@settings(FUZZ, max_examples=200)
@given(data=corrupted(SEEDS))
def test_single_byte_corruptions(data: bytes) -> None:
    _read_or_refuse(data)


@pytest.fixture(scope="session")
def real_seeds(templates_dir: Path) -> list[bytes]:
    paths = [
        templates_dir / "libbiomeval" / "fmr.ansi2004",
        templates_dir / "libbiomeval" / "fmr.iso2005",
        templates_dir / "libbiomeval" / "fmr.ansi2007",
        templates_dir / "secugen" / "fvc2002" / "DB1_B" / "101_1.iso",
    ]
    present = [p.read_bytes() for p in paths if p.is_file()]
    if not present:
        pytest.skip("no real minutiae records found")
    return present


def test_real_record_corruptions(real_seeds: list[bytes]) -> None:
    @settings(FUZZ, max_examples=100)
    @given(data=corrupted(real_seeds))
    def check(data: bytes) -> None:
        _read_or_refuse(data)

    check()
    for seed in real_seeds:
        for k in range(0, len(seed), 7):
            with pytest.raises(MinutiaeRecordError):
                read_record(seed[:k])
