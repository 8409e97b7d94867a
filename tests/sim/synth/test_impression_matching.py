"""Impressions of one synthetic master match each other better than other masters do,
through MINDTCT minutiae and scomm's matcher (the engine's fast mode)."""

from __future__ import annotations

import itertools

from scomm.biometrics.engine import FingerprintEngine
from scomm.sim.synth.impression_image import impression
from scomm.sim.synth.ridge_master import make_master


def test_mates_score_above_non_mates() -> None:
    engine = FingerprintEngine("mindtct")
    fingers = [make_master(21, identity, finger) for identity, finger in ((0, 2), (0, 3), (1, 7))]
    templates = {
        (k, n): engine.extract(impression(master, n, "plain"), 500)
        for k, master in enumerate(fingers)
        for n in range(2)
    }
    for template in templates.values():
        assert 15 <= template.minutiae_count <= 120
    genuine = [engine.compare(templates[(k, 0)], templates[(k, 1)]) for k in range(3)]
    impostor = [
        engine.compare(templates[a], templates[b])
        for a, b in itertools.combinations(templates, 2)
        if a[0] != b[0]
    ]
    assert min(genuine) > max(impostor), (genuine, max(impostor))
