"""Policy what-if: one scenario's world run under two policies, the differences over seeds.

`compare(scenario, a, b, seeds)` draws the scenario's world once per seed and runs it twice
in memory with the biometric model (`fast_flow`, as `scomm simulate --biometrics model`
does): once under policy A, once under policy B. Both arms of a seed share everything the
world holds (the people, their records, the planned bookings and court dispositions) and
every seeded draw of the flow: the model decides a search by (run seed, repository, person,
capture) (`biometric_model.ModelGallery`), the officer and ICE by (seed, case)
(`services.common.seeded_draw`), never by the order in which events consume a shared
generator. So a booking that both arms make gets the same IDENT answer in both, and what
differs follows from the policy alone. (A booking of a person whom an earlier case left in
ICE custody, or removed, is not made (`driver.absent`): where the policies differ there,
the arms' bookings differ too, and `bookings_not_made` counts it.)

A policy is a built-in name (`BUILTIN`) or a YAML file of overrides (`load_policy`). The
figures of an arm are counted from its audit entries (and, for the citizens' line, the
world's ground truth) in one function, `arm_figures`, as base counts per (atom, ORI, month)
summed into published cells (`scomm.reports.cells`), nation and whole run. Over the seeds,
each measure gets the mean and a 95% interval (Student's t over the seeds) for A, for B and
for the paired difference B - A (each seed's B minus its A).
"""

from __future__ import annotations

import gc
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from scomm.bus.memory import MemoryEntry
from scomm.config import Settings
from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.ids import derived_id
from scomm.domain.immigration import Removability
from scomm.domain.levels import NoRuleSetInForce
from scomm.domain.policies import DetainerPolicy, SimulatedOfficerPolicy
from scomm.domain.safeguards import Safeguards
from scomm.domain.switches import SwitchSetting
from scomm.reports.cells import (
    CUMULATIVE,
    US,
    BaseKey,
    CellKey,
    Layout,
    Measure,
    months_between,
    published_cells,
)
from scomm.reports.ledger import Ledger
from scomm.reports.measures import MEASURES as RELEASE_MEASURES
from scomm.reports.measures import base_counts
from scomm.sim.driver import Stage, play_timeline, silent
from scomm.sim.driver_spec import engine_profile, scenario_settings
from scomm.sim.driver_timeline import timeline
from scomm.sim.errors import SimulatorError
from scomm.sim.fast_flow import model_transaction, prepare_model
from scomm.sim.scenario_figures import GROUPS
from scomm.sim.scenario_report import CaseFacts, RunRecord, case_facts
from scomm.sim.synth.jurisdictions import JurisdictionPlan
from scomm.sim.synth.scenario import Scenario, ScenarioError, _Reader
from scomm.sim.synth.world import World, build_scenario_world

__all__ = [
    "BUILTIN",
    "MEASURES",
    "ArmRun",
    "Comparison",
    "Policy",
    "WhatIfError",
    "arm_figures",
    "compare",
    "load_policy",
    "run_arm",
]


class WhatIfError(SimulatorError):
    """A policy that cannot be applied (an unknown name, a bad file, an ORI the world lacks)."""


# -- policies --

OFFENSE_TYPE = "2009-offense-type"
CONVICTION_BASED = "2011-conviction-based"
# How strict a detainer policy is: a law sets a floor on strictness (`detainer_law`).
STRICTNESS = {
    DetainerPolicy.HONOR_ALL: 0,
    DetainerPolicy.TRUST_ACT: 1,
    DetainerPolicy.HONOR_NONE: 2,
}


@dataclass(frozen=True)
class Policy:
    """What an arm changes in the scenario; anything left None is the scenario's own.

    `safeguards`: the four safeguards (`domain.safeguards`); `safeguard_changes`: some of
    them set, the others as they are (the scenario's, or `safeguards`). `rule_set`: the
    version of the catalogue's rule set that LESC applies throughout (in place of the dated
    succession; removals still count levels under the conviction-based set).
    `detainer_law`: a law over every jurisdiction for the whole run: no jurisdiction's
    detainer policy, at the start or after a change, is less strict than it (honor_all <
    trust_act < honor_none); a county that honours none still honours none.
    `detainer_policies`: these jurisdictions' policy for the whole run, their own changes
    dropped. `switches`: more switch settings (as a scenario's). `officer_policy`: the
    simulated ICE officer."""

    name: str
    description: str
    safeguards: Safeguards | None = None
    safeguard_changes: Mapping[str, bool] = field(default_factory=dict)  # on top of them
    rule_set: str | None = None
    detainer_law: DetainerPolicy | None = None
    detainer_policies: Mapping[str, DetainerPolicy] = field(default_factory=dict)
    switches: tuple[SwitchSetting, ...] = ()
    officer_policy: SimulatedOfficerPolicy | None = None

    def settings(self, settings: Settings) -> Settings:
        """The run's settings under this policy (the scenario's already in them)."""
        safeguards = settings.safeguards if self.safeguards is None else self.safeguards
        return replace(
            settings,
            safeguards=replace(safeguards, **self.safeguard_changes),
            officer_policy=settings.officer_policy
            if self.officer_policy is None
            else self.officer_policy,
        )

    def check(self, scenario: Scenario, catalogue: RuleCatalogue) -> None:
        """Refuse, before anything runs, a policy that names a jurisdiction the scenario
        lacks or a rule set the catalogue lacks."""
        known = {c.ori for _, c in scenario.counties}
        unknown = sorted((set(self.detainer_policies) | {s.ori for s in self.switches}) - known)
        if unknown:
            raise WhatIfError(
                f"policy {self.name}: scenario {scenario.name} has no jurisdiction "
                f"{', '.join(unknown)}"
            )
        if self.rule_set is not None:
            rules_throughout(catalogue, self.rule_set)

    def world(self, world: World) -> World:
        """The same world (people, bookings, dispositions: the same objects) with this
        policy's jurisdictions, switches and rule catalogue."""
        plans = tuple(self._plan(p) for p in world.jurisdictions)
        catalogue = (
            world.catalogue
            if self.rule_set is None
            else rules_throughout(world.catalogue, self.rule_set)
        )
        return replace(world, jurisdictions=plans, catalogue=catalogue)

    def _plan(self, plan: JurisdictionPlan) -> JurisdictionPlan:
        ori = plan.jurisdiction.ori
        policy, changes = plan.jurisdiction.detainer_policy, plan.policy_changes
        if ori in self.detainer_policies:
            policy, changes = self.detainer_policies[ori], ()
        if self.detainer_law is not None:
            law = self.detainer_law
            policy = _at_least(policy, law)
            changes = tuple(
                replace(c, policy=_at_least(c.policy, law), reason=f"{c.reason} (under {law})")
                for c in changes
            )
        extra = tuple(s for s in self.switches if s.ori == ori)
        return replace(
            plan,
            jurisdiction=replace(plan.jurisdiction, detainer_policy=policy),
            policy_changes=changes,
            settings=(*plan.settings, *extra),
        )


def _at_least(policy: DetainerPolicy, law: DetainerPolicy) -> DetainerPolicy:
    return policy if STRICTNESS[policy] >= STRICTNESS[law] else law


def rules_throughout(catalogue: RuleCatalogue, version: str) -> RuleCatalogue:
    """The catalogue with rule set `version` in force on every day; the others stay in it
    by name (a removal's level is counted under the conviction-based set by name) but are
    in force on none."""
    try:
        chosen = catalogue.rule_set_named(version)
    except NoRuleSetInForce as error:
        known = ", ".join(r.version for r in catalogue.rule_sets)
        raise WhatIfError(f"no rule set {version!r} (the catalogue has {known})") from error
    always = replace(chosen, effective_from=date.min, effective_to=None)
    never = tuple(
        replace(r, effective_from=date.min, effective_to=date.min)
        for r in catalogue.rule_sets
        if r.version != version
    )
    return RuleCatalogue(catalogue.ncic, (always, *never))


BUILTIN: dict[str, Policy] = {
    p.name: p
    for p in (
        Policy("scenario", "the scenario as its file describes it"),
        Policy("safeguards-on", "all four safeguards on", safeguards=Safeguards()),
        Policy(
            "safeguards-off",
            "no safeguard (the original program)",
            safeguards=Safeguards.all_off(),
        ),
        Policy(
            "offense-type-rules",
            f"LESC levels by offense type ({OFFENSE_TYPE}) throughout",
            rule_set=OFFENSE_TYPE,
        ),
        Policy(
            "conviction-rules",
            f"LESC levels by conviction ({CONVICTION_BASED}) throughout",
            rule_set=CONVICTION_BASED,
        ),
        Policy(
            "trust-act",
            "a TRUST-Act-style law in every jurisdiction: hold only at level 1 (a serious "
            "or violent offense, by the IAR's level under the rule set in force); counties "
            "that honour no detainer still honour none",
            detainer_law=DetainerPolicy.TRUST_ACT,
        ),
    )
}

POLICY_KEYS = {
    "name",
    "description",
    "safeguards",
    "rule_set",
    "detainer_law",
    "detainer_policies",
    "switches",
    "officer_policy",
}


def load_policy(name_or_path: str) -> Policy:
    """A built-in policy (`BUILTIN`) by name, or a YAML file of overrides, e.g.

    ```yaml
    name: county-opts-out          # default: the file's name
    description: Alder County stops honouring detainers
    safeguards: all_off            # all_on, all_off, or some: {status_currency: false}
    rule_set: 2011-conviction-based
    detainer_law: trust_act        # honor_all, trust_act, honor_none
    detainer_policies: {CA0010000: honor_none}
    switches:
      - {ori: CA0010000, switch: D, enabled: false, from: 2010-01-01, by: jurisdiction}
    officer_policy: {detain_levels: [1], level3_detain_rate: 0.2}
    ```"""
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path]
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml") and not path.exists():
        raise WhatIfError(
            f"{name_or_path!r} is neither a policy file nor a built-in policy "
            f"({', '.join(BUILTIN)})"
        )
    if not path.is_file():
        raise WhatIfError(f"{path}: no such policy file")
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise WhatIfError(f"{path}: not a readable YAML file: {error}") from error
    try:
        return parse_policy(data, path.stem, str(path))
    except ScenarioError as error:  # the scenario reader's message names the key
        raise WhatIfError(str(error)) from error


def parse_policy(data: object, default_name: str, source: str) -> Policy:
    """A policy from its YAML mapping (see `load_policy`); the parts it shares with a
    scenario file are read by the scenario reader, with the same checks."""
    reader = _Reader(source, RuleCatalogue.load().ncic)
    top = reader.mapping(data, "", set(), POLICY_KEYS)
    policies = {p.value: p for p in DetainerPolicy}
    law = top.get("detainer_law")
    safeguards = top.get("safeguards")
    whole = safeguards in ("all_on", "all_off")
    if safeguards is not None:
        reader.safeguards(safeguards)  # checks every key and value
    by_ori = top.get("detainer_policies", {})
    if not isinstance(by_ori, dict):
        raise reader.fail("detainer_policies", "a mapping of ORI to detainer policy", by_ori)
    switches = top.get("switches", [])
    if not isinstance(switches, list):
        raise reader.fail("switches", "a list of switch settings", switches)
    settings = []
    for i, node in enumerate(switches):
        where = f"switches[{i}]"
        if not isinstance(node, dict) or "ori" not in node:
            raise reader.fail(where, "a mapping with ori, switch, enabled, from, by", node)
        body = {k: v for k, v in node.items() if k != "ori"}
        settings.append(reader.switch(body, where, reader.ori(node["ori"], f"{where}.ori")))
    return Policy(
        name=reader.text(top.get("name", default_name), "name"),
        description=str(top.get("description", f"the overrides of {source}")).strip(),
        safeguards=reader.safeguards(safeguards) if whole else None,
        safeguard_changes=dict(safeguards) if isinstance(safeguards, dict) else {},
        rule_set=None if "rule_set" not in top else reader.text(top["rule_set"], "rule_set"),
        detainer_law=None if law is None else reader.choice(law, "detainer_law", policies),
        detainer_policies={
            reader.ori(ori, f"detainer_policies.{ori}"): reader.choice(
                value, f"detainer_policies.{ori}", policies
            )
            for ori, value in by_ori.items()
        },
        switches=tuple(settings),
        officer_policy=None
        if "officer_policy" not in top
        else reader.officer(top["officer_policy"]),
    )


# -- the measures --
#
# An arm's figures come in three parts: the bookings the run made (`OWN_MEASURES`), the
# published statistics, counted from the audit entries alone exactly as a statistics release
# counts them (`scomm.reports.measures`: the same ledger, atoms and measures), and who the
# people truly are, from the world (`TRUTH_MEASURES`: atoms of their own).

BOOKINGS = "bookings"
CITIZENS = "citizens"  # ground truth from the world, not the audit log
# the measure names of scenario_figures.GROUPS (who the person truly is)
TRUTH_PREFIX = {"citizens": "us_citizens", "permanent_residents": "permanent_residents"}


def _measure(name: str, title: str, group: str, atoms: tuple[str, ...] = ()) -> Measure:
    return Measure(name, title, atoms or (name,), group)


OWN_MEASURES: tuple[Measure, ...] = (
    _measure("bookings", "Bookings made", BOOKINGS),
    _measure("bookings_not_made", "Bookings not made (person held by ICE or removed)", BOOKINGS),
)
TRUTH_MEASURES: tuple[Measure, ...] = (
    _measure("us_citizens_ident_matches", "US citizens (truly) among IDENT matches", CITIZENS),
    _measure(
        "us_citizens_status_unresolved",
        'US citizens (truly) answered "status unresolved"',
        CITIZENS,
    ),
    _measure("us_citizens_detainers", "US citizens (truly) with a detainer", CITIZENS),
    _measure("us_citizens_ice_arrests", "US citizens (truly) arrested by ICE", CITIZENS),
    _measure("us_citizens_removed", "US citizens (truly) removed", CITIZENS),
    _measure(
        "permanent_residents_ident_matches", "Permanent residents among IDENT matches", CITIZENS
    ),
    _measure("permanent_residents_detainers", "Permanent residents with a detainer", CITIZENS),
    _measure("permanent_residents_ice_arrests", "Permanent residents arrested by ICE", CITIZENS),
    _measure("permanent_residents_removed", "Permanent residents removed", CITIZENS),
)
MEASURES: tuple[Measure, ...] = (*OWN_MEASURES, *RELEASE_MEASURES, *TRUTH_MEASURES)


def arm_figures(entries: Iterable[MemoryEntry], world: World) -> dict[str, int]:
    """Every measure of one arm, nation and whole run: base counts per (atom, ORI, month)
    summed into published cells (`scomm.reports.cells`), as a statistics release sums them.

    The one place where an arm's figures are counted (see "the measures" above)."""
    kept = list(entries)
    cases = case_facts(RunRecord.of_entries(kept), world)
    base = base_counts(Ledger.of_entries(kept)) | run_base(kept, cases, world)
    months = sorted({month for _, _, month in base})
    layout = Layout(
        MEASURES,
        {p.jurisdiction.ori: p.jurisdiction.state for p in world.jurisdictions},
        months_between(months[0], months[-1]) if months else (),
    )
    cells = published_cells(base, layout)
    return {m.name: cells.get(CellKey(m.name, US, CUMULATIVE), 0) for m in MEASURES}


def run_base(
    entries: list[MemoryEntry], cases: list[CaseFacts], world: World
) -> dict[BaseKey, int]:
    """The base counts of `OWN_MEASURES` and `TRUTH_MEASURES`: the bookings made and not
    made, and US citizens and permanent residents (who they truly are, from the world)
    among the matches, "status unresolved" answers, detainers, ICE arrests and removals,
    each in the month of the booking (ICE arrests and removals: of the event)."""
    base: dict[BaseKey, int] = defaultdict(int)

    def add(atom: str, ori: str, at: datetime) -> None:
        base[atom, ori, at.strftime("%Y-%m")] += 1

    for c in cases:
        add("bookings", c.ori, c.booked_at)
        for group, member in GROUPS.items():
            if not member(c):
                continue
            prefix = TRUTH_PREFIX[group]
            if c.matched:
                add(f"{prefix}_ident_matches", c.ori, c.booked_at)
            if c.detainer:
                add(f"{prefix}_detainers", c.ori, c.booked_at)
            if c.arrested:
                add(f"{prefix}_ice_arrests", c.ori, c.arrested_at)
            if c.removal is not None and c.removed_at is not None:
                add(f"{prefix}_removed", c.ori, c.removed_at)
    by_case = {c.case_id: c for c in cases}
    for e in entries:
        c = by_case.get(e.case_id)
        if c is not None and c.person.path.is_citizen and _status_unresolved(e):
            add("us_citizens_status_unresolved", c.ori, e.recorded_at)
    for planned in world.bookings:
        if derived_id("case", planned.booking.tcn) not in by_case:
            add("bookings_not_made", planned.booking.ori, planned.booking.booked_at)
    return dict(base)


def _status_unresolved(e: MemoryEntry) -> bool:
    return (
        e.kind == "decision"
        and e.name == "IAR_DETERMINATION"
        and e.payload.get("removability") == Removability.STATUS_UNRESOLVED.value
    )


# -- running the arms --


@dataclass(frozen=True)
class ArmRun:
    """One arm of one seed: its figures, and each booking's IDENT answer (IDR_MATCH or
    IDR_NO_MATCH, by case) to check that both arms matched alike."""

    policy: str
    seed: int
    figures: dict[str, int]
    bookings: frozenset[str]  # the cases of the bookings made
    ident_answers: dict[str, str]


def run_arm(world: World, settings: Settings, policy: Policy, stage: Stage = silent) -> ArmRun:
    """Run `world` in memory with the biometric model under `policy` (`settings`: the
    scenario's, as `driver_spec.scenario_settings` makes them) and count its figures."""
    chosen = policy.settings(settings)
    arm_world = policy.world(world)
    with stage("loading repositories", 1) as advance:
        prepared = prepare_model(arm_world, chosen, engine_profile("minutiae", chosen))
        advance(1)
    system = prepared.system
    play_timeline(
        system,
        arm_world,
        timeline(arm_world),
        0,
        lambda index: model_transaction(arm_world, index, 10, system.ctx.decoded_images),
        stage,
        None,
    )
    entries = list(system.store.audit_entries())
    answers = {
        e.case_id: e.name
        for e in entries
        if e.kind == "message" and e.name in ("IDR_MATCH", "IDR_NO_MATCH")
    }
    booked = frozenset(e.case_id for e in entries if e.kind == "booking")
    return ArmRun(policy.name, world.seed, arm_figures(entries, arm_world), booked, answers)


@dataclass(frozen=True)
class Interval:
    """A mean over the seeds and its 95% interval (None with fewer than two seeds)."""

    mean: float
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, float | None]:
        """Rounded to 4 decimals (the figures are counts; the rest is noise in JSON)."""
        return {
            "mean": round(self.mean, 4),
            "low": None if self.low is None else round(self.low, 4),
            "high": None if self.high is None else round(self.high, 4),
        }


# Student's t quantile t(0.975, df) for df = 1..30 (scipy.stats.t.ppf, to 6 decimals); above
# 30 the Cornish-Fisher expansion around the normal quantile, within 2e-6 of it.
T975 = (
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
    2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.13145, 2.119905,
    2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
    2.059539, 2.055529, 2.051831, 2.048407, 2.04523, 2.042272,
)  # fmt: skip
Z975 = 1.959963984540054


def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom."""
    if df <= len(T975):
        return T975[df - 1]
    z = Z975
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def t_interval(values: Sequence[float]) -> Interval:
    """Mean and 95% interval of `values` by Student's t with n - 1 degrees of freedom:
    mean +- t(0.975, n-1) * s / sqrt(n), s the sample standard deviation over the seeds
    (for a difference, over the seeds' paired differences)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return Interval(mean, None, None)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile_975(n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half)


@dataclass(frozen=True)
class SeedCheck:
    """How alike the two arms of a seed were where the policy must not matter."""

    seed: int
    both: int  # bookings that both arms made
    one_only: int  # bookings that one arm made and the other did not (absent there)
    ident_differs: int  # bookings made by both whose IDENT answer differs (must be 0)


@dataclass(frozen=True)
class Comparison:
    scenario: str
    scale: float
    policies: tuple[Policy, Policy]
    seeds: tuple[int, ...]
    runs: tuple[tuple[ArmRun, ArmRun], ...]  # per seed: A, B
    checks: tuple[SeedCheck, ...]

    def rows(self) -> list[dict[str, Any]]:
        """Per measure: A, B and B - A over the seeds (`t_interval`)."""
        out = []
        for m in MEASURES:
            a = [float(ra.figures[m.name]) for ra, _ in self.runs]
            b = [float(rb.figures[m.name]) for _, rb in self.runs]
            out.append(
                {
                    "measure": m.name,
                    "title": m.title,
                    "a": t_interval(a).as_dict(),
                    "b": t_interval(b).as_dict(),
                    "difference": t_interval([y - x for x, y in zip(a, b, strict=True)]).as_dict(),
                }
            )
        return out

    def as_json(self) -> dict[str, Any]:
        """What `scomm whatif --json` writes (and the public pages render)."""
        return {
            "scenario": self.scenario,
            "scale": self.scale,
            "policies": [p.name for p in self.policies],
            "seeds": list(self.seeds),
            "rows": self.rows(),
        }


def compare(
    scenario: Scenario,
    a: Policy,
    b: Policy,
    seeds: int,
    stage: Stage = silent,
    on_run: Callable[[int, str], None] | None = None,
    settings: Settings | None = None,
) -> Comparison:
    """Run `scenario` under `a` and under `b` on `seeds` seeds (the scenario's seed and the
    ones after it), each seed's world drawn once and shared by both arms. `on_run(seed,
    policy)` is called before each arm; `stage` reports the stages of each."""
    if seeds < 1:
        raise WhatIfError(f"at least one seed, not {seeds}")
    catalogue = RuleCatalogue.load()
    for policy in (a, b):
        policy.check(scenario, catalogue)
    base_settings = settings or Settings()
    chosen = tuple(scenario.seed + i for i in range(seeds))
    runs = []
    checks = []
    for seed in chosen:
        seeded = scenario.with_overrides(seed=seed)
        with stage(f"building the world (seed {seed})", 1) as advance:
            world = build_scenario_world(seeded, catalogue=catalogue)
            advance(1)
        run_settings = scenario_settings(base_settings, seeded)
        pair = []
        for policy in (a, b):
            if on_run is not None:
                on_run(seed, policy.name)
            pair.append(run_arm(world, run_settings, policy, stage))
            gc.collect()  # the arm's store (GBs at scale 0.01) before the next one is built
        ra, rb = pair
        runs.append((ra, rb))
        checks.append(seed_check(seed, ra, rb))
    return Comparison(scenario.name, scenario.scale, (a, b), chosen, tuple(runs), tuple(checks))


def seed_check(seed: int, a: ArmRun, b: ArmRun) -> SeedCheck:
    """Compare the arms' bookings and IDENT answers (see `SeedCheck`)."""
    both = a.bookings & b.bookings
    differs = sum(a.ident_answers.get(c) != b.ident_answers.get(c) for c in both)
    return SeedCheck(seed, len(both), len(a.bookings ^ b.bookings), differs)
