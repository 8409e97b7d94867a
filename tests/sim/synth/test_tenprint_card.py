"""Tenprint cards: 10 rolled and 4 plain images of one person, deterministic per capture."""

from __future__ import annotations

import numpy as np

from scomm.sim.synth.tenprint_card import (
    PLAIN_POSITIONS,
    rolled_impressions,
    slap_finger_left,
    tenprint_card,
)


def test_card_holds_ten_rolled_and_four_plain_images() -> None:
    card = tenprint_card(3, 5)
    assert len(card.rolled) == 10 and len(card.plain) == 4
    assert {im.shape for im in card.rolled} == {(576, 448)}
    assert [im.shape for im in card.plain] == [(416, 320), (416, 320), (1000, 1600), (1000, 1600)]
    images = card.finger_images()
    assert [f.position for f in images] == [*range(1, 11), *PLAIN_POSITIONS]
    assert {f.impression for f in images[:10]} == {1} and {f.impression for f in images[10:]} == {0}
    # a slap shows four fingers, one in each finger's place, and the gaps stay empty
    for slap in card.plain[2:]:
        dark = slap < np.median(slap) - 50  # ridges, against the slap's background
        for k in range(4):
            left = slap_finger_left(k)
            assert dark[:, left + 100 : left + 300].sum() > 5_000
        assert dark[:, :30].sum() + dark[:, -30:].sum() < 200


def test_captures_are_deterministic_and_new_each_booking() -> None:
    first = rolled_impressions(3, 5, capture=0)
    assert all(np.array_equal(a, b) for a, b in zip(first, tenprint_card(3, 5).rolled, strict=True))
    again = rolled_impressions(3, 5, capture=1)
    assert not any(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
