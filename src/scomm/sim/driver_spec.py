"""What a simulation run is (`RunSpec`): the same spec on the same database resumes the run.

A spec is a scenario (its world is drawn from it, deterministically) and how the run
treats it: the engine that searches the repositories, the finger images a CAR carries and
their compression. What the database records of it (`RunSpec.recorded`) also holds a
digest of the world itself, so that a run never resumes on a world its code no longer
draws the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from scomm.biometrics.profiles import BASELINE_ENGINE
from scomm.config import Settings
from scomm.sim.errors import SimulatorError
from scomm.sim.synth.scenario import Scenario, load_scenario
from scomm.sim.synth.world import DEMO_SCENARIO, World, build_scenario_world

# A run's engine, by the name its spec records: "minutiae" is the engine the settings name
# (`Settings.engine`, SCOMM_ENGINE; the demo's profile by default), "baseline" the
# correlation baseline whatever they say. `engine_profile` resolves it.
ENGINES = ("minutiae", "baseline")


def engine_profile(engine: str, settings: Settings) -> str:
    """The engine profile (a shipped name or a profile file) a run with `engine` uses."""
    return BASELINE_ENGINE if engine == "baseline" else settings.engine


COMPRESSIONS = ("WSQ20", "PNG", "NONE")

# How a run's repositories match prints: "images" grows every capture's ridge images and
# runs the engine on them, in a database run (`driver`); "model" runs the flow in memory
# with the biometric model in place of the engine (`fast_flow`, `biometric_model`); "auto"
# is the model for a world of more than AUTO_MODEL_BOOKINGS bookings, else images.
BIOMETRICS = ("auto", "images", "model")
AUTO_MODEL_BOOKINGS = 2_000


class RunRefused(SimulatorError):
    """The run cannot start or resume: an unknown option, or a database that holds
    something else than this run (another world, another run, a broken start)."""


@dataclass(frozen=True)
class RunSpec:
    """A scenario and how the run treats it: the same spec on the same database resumes."""

    scenario: Scenario
    engine: str = "minutiae"
    population: int | None = None  # people in the world (default: the scenario's)
    compression: str = "WSQ20"  # finger images of a CAR: WSQ20, PNG or NONE
    fingers: int = 10  # finger images per CAR (FGP 1..fingers)
    biometrics: str = "images"  # images, model or auto (BIOMETRICS)

    @classmethod
    def demo(
        cls,
        seed: int,
        bookings: int,
        population: int | None = None,
        engine: str = "minutiae",
        compression: str = "WSQ20",
        fingers: int = 10,
    ) -> RunSpec:
        """The demo scenario with `bookings` bookings (what `scomm demo` and
        `scomm ops run-world` run)."""
        scenario = load_scenario(DEMO_SCENARIO).with_overrides(seed=seed, bookings=bookings)
        return cls(scenario, engine, population, compression, fingers)

    def check(self) -> None:
        """Refuse options no run can have, before anything is built."""
        if self.engine not in ENGINES:
            raise RunRefused(f"unknown engine {self.engine!r}; one of {', '.join(ENGINES)}")
        if self.compression not in COMPRESSIONS:
            raise RunRefused(
                f"unknown compression {self.compression!r}; one of {', '.join(COMPRESSIONS)}"
            )
        if not 1 <= self.fingers <= 10:
            raise RunRefused(f"a CAR carries 1 to 10 fingers, not {self.fingers}")
        if self.biometrics not in BIOMETRICS:
            raise RunRefused(
                f"unknown biometrics {self.biometrics!r}; one of {', '.join(BIOMETRICS)}"
            )

    def biometrics_for(self, world: World) -> str:
        """ "images" or "model": how this spec runs `world` ("auto" decided by its size)."""
        if self.biometrics != "auto":
            return self.biometrics
        return "model" if len(world.bookings) > AUTO_MODEL_BOOKINGS else "images"

    def world(self) -> World:
        return build_scenario_world(self.scenario, population=self.population)

    def recorded(self, world: World) -> dict[str, Any]:
        """What the database keeps of the run (as JSON reads it back)."""
        s = self.scenario
        spec = {
            "scenario": s.name,
            "seed": s.seed,
            "bookings": s.fixed_bookings,
            "scale": s.scale,
            "population": self.population,
            "engine": self.engine,
            "compression": self.compression,
            "fingers": self.fingers,
            "safeguards": asdict(s.safeguards),
            "officer_policy": asdict(s.officer_policy),
            "removal_policy": asdict(s.removals),
            "world": world_fingerprint(world),
        }
        return dict(json.loads(json.dumps(spec)))


def world_fingerprint(world: World) -> str:
    """A digest of everything a run plays: the jurisdictions and their switches, policy
    changes and opt-out requests, the people, the bookings and the dispositions. A resumed
    run must find the world it started with."""
    digest = hashlib.sha256()
    digest.update(f"{world.seed}|{world.start.isoformat()}|{world.end.isoformat()}\n".encode())
    for part in (
        world.jurisdictions,
        tuple(sorted(world.people.items())),
        world.bookings,
        world.dispositions,
    ):
        digest.update(repr(part).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:32]


def scenario_settings(settings: Settings, scenario: Scenario | None) -> Settings:
    """The run's settings with the scenario's seed, safeguards, simulated-officer policy and
    removal policy (what ICE and the immigration court do after a transfer)."""
    if scenario is None:
        return settings
    return replace(
        settings,
        seed=scenario.seed,
        safeguards=scenario.safeguards,
        officer_policy=scenario.officer_policy,
        removal_policy=scenario.removals,
    )
