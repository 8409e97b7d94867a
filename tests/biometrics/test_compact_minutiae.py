import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scomm.biometrics.compact_minutiae import (
    BYTES_PER_MINUTIA,
    CompactTemplateError,
    decode,
    encode,
)
from scomm.biometrics.minutiae import Minutiae


def random_minutiae(n: int, seed: int = 0, ppi: int = 500) -> Minutiae:
    rng = np.random.default_rng(seed)
    return Minutiae(
        rng.uniform(0, 387, n),
        rng.uniform(0, 373, n),
        rng.uniform(0, 2 * np.pi, n),
        rng.integers(0, 3, n),
        rng.integers(0, 101, n),
        388,
        374,
        ppi,
    )


def test_round_trip_within_the_quantisation() -> None:
    m = random_minutiae(40)
    data = encode(m)
    assert len(data) == 10 + 40 * BYTES_PER_MINUTIA == 250
    back = decode(data)
    assert (back.width, back.height, back.ppi) == (388, 374, 500)
    assert np.abs(back.x - m.x).max() <= 0.125 and np.abs(back.y - m.y).max() <= 0.125
    turn = np.abs((back.angle - m.angle + np.pi) % (2 * np.pi) - np.pi)
    assert turn.max() <= np.pi / 256 + 1e-6
    assert np.array_equal(back.kind, m.kind)
    assert np.abs(back.quality.astype(int) - m.quality.astype(int)).max() <= 1
    assert encode(back) == data  # stable once quantised


def test_other_resolutions_are_stored_at_500_ppi() -> None:
    m = random_minutiae(5, ppi=569)
    assert decode(encode(m)).ppi == 500
    assert np.allclose(decode(encode(m)).x, m.x * 500 / 569, atol=0.13)


def test_bad_bytes_are_refused_with_a_reason() -> None:
    data = encode(random_minutiae(3))
    with pytest.raises(CompactTemplateError, match="magic"):
        decode(b"XXXX" + data[4:])
    with pytest.raises(CompactTemplateError, match="declares 3 minutiae"):
        decode(data[:-1])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_only_raise_compact_template_error(data: bytes) -> None:
    try:
        decode(b"SCM1" + data)
    except CompactTemplateError:
        pass
