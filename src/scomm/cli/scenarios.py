"""The scenario a command runs: a built-in name or a YAML file, with the options' overrides."""

from __future__ import annotations

from scomm.cli.options import OnOff
from scomm.domain.safeguards import Safeguards
from scomm.sim.synth.scenario import Scenario, load_scenario


def chosen_scenario(
    name: str, scale: float | None, seed: int | None, safeguards: OnOff | None
) -> Scenario:
    """Scenario `name` with what the options override (None: the scenario's own value)."""
    scenario = load_scenario(name)  # a ScenarioError names what is wrong with it
    chosen = None
    if safeguards is not None:
        chosen = Safeguards() if safeguards is OnOff.ON else Safeguards.all_off()
    return scenario.with_overrides(scale=scale, seed=seed, safeguards=chosen)
