"""Whole-flow fixtures."""

from __future__ import annotations

import pytest

from scomm.sim.synth.world import World, build_world


@pytest.fixture(scope="session")
def small_world() -> World:
    return build_world(seed=3, bookings=60)
