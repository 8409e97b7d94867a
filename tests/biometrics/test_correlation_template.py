"""Correlation templates: compact bytes that read back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from scomm.biometrics.baseline import (
    GRID,
    TEMPLATE_BYTES,
    CorrelationCodec,
    CorrelationExtractor,
    CorrelationTemplate,
    TemplateDecodeError,
)
from scomm.biometrics.protocols import Template
from scomm.sim.synth.fingers import impression, master_finger


@pytest.fixture(scope="module")
def template() -> CorrelationTemplate:
    image = impression(master_finger(77), np.random.default_rng(0))
    return CorrelationExtractor().extract(image, 500, 3)


def test_bytes_round_trip(template: CorrelationTemplate) -> None:
    data = template.to_bytes()
    assert len(data) == TEMPLATE_BYTES <= 4096
    decoded = CorrelationCodec().decode(data, 3)
    assert decoded == template
    assert decoded.to_bytes() == data
    assert isinstance(decoded, Template)


def test_codec_rejects_wrong_finger_size_and_magic(template: CorrelationTemplate) -> None:
    data = template.to_bytes()
    codec = CorrelationCodec()
    with pytest.raises(TemplateDecodeError, match="finger 3"):
        codec.decode(data, 4)
    with pytest.raises(TemplateDecodeError):
        codec.decode(data[:-1], 3)
    with pytest.raises(TemplateDecodeError):
        codec.decode(b"XXXX" + data[4:], 3)
    with pytest.raises(TemplateDecodeError):
        codec.decode(data[:8] + bytes(GRID * GRID), 3)  # all-zero features


def test_template_validates_its_features() -> None:
    with pytest.raises(ValueError):
        CorrelationTemplate(1, np.ones((GRID, GRID), dtype=np.float32))
    with pytest.raises(ValueError):
        CorrelationTemplate(1, np.ones((GRID, GRID + 1), dtype=np.int8))
    features = np.ones((GRID, GRID), dtype=np.int8)
    kept = CorrelationTemplate(1, features)
    features[0, 0] = 5  # the template holds its own read-only copy
    assert kept.features[0, 0] == 1 and not kept.features.flags.writeable
