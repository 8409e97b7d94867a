"""The scenario a command runs: a built-in name or a YAML file, with the options' overrides."""

from __future__ import annotations

import math

from scomm.cli.errors import BadInput
from scomm.cli.options import MAX_COUNT, OnOff
from scomm.domain.safeguards import Safeguards
from scomm.sim.synth.scenario import Scenario, load_scenario


def chosen_scenario(
    name: str, scale: float | None, seed: int | None, safeguards: OnOff | None
) -> Scenario:
    """Scenario `name` with what the options override (None: the scenario's own value)."""
    if scale is not None and scale <= 0:
        raise BadInput(f"--scale must be above 0 (got {scale:g}): a run of no bookings")
    scenario = load_scenario(name)  # a ScenarioError names what is wrong with it
    chosen = None
    if safeguards is not None:
        chosen = Safeguards() if safeguards is OnOff.ON else Safeguards.all_off()
    result = scenario.with_overrides(scale=scale, seed=seed, safeguards=chosen)
    bookings = result.expected_bookings()
    if not math.isfinite(bookings) or bookings > MAX_COUNT:
        raise BadInput(
            f"--scale {result.scale:g} gives {bookings:.3g} bookings of scenario "
            f"{result.name}; at most {MAX_COUNT:,} can run"
        )
    return result
