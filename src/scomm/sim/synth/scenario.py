"""Scenarios as data: one YAML file says everything a synthetic world needs, checked on load.

`load_scenario("rollout-2008-2011")` reads a built-in scenario (`scomm/scenarios/*.yaml`);
`load_scenario("path/to/file.yaml")` reads any file. Every problem is reported as a
`ScenarioError` naming the file, the key (`states[2].counties[0].activation`) and what was
expected, so a scenario author never meets a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from scomm.domain.messages import DispositionOutcome
from scomm.domain.offenses import NcicTable, load_ncic_table
from scomm.domain.policies import DetainerPolicy, SimulatedOfficerPolicy
from scomm.domain.removals import Days, RemovalPolicy
from scomm.domain.safeguards import Safeguards
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting, check_owner
from scomm.sim.errors import SimulatorError
from scomm.sim.synth.citizenship import CitizenshipPath

SCENARIO_PACKAGE = "scomm.sim.scenarios"
SCHEMA_VERSION = 1


class ScenarioError(SimulatorError):
    """A scenario file that cannot be used, with where and why."""


@dataclass(frozen=True)
class LogNormal:
    """A positive quantity: log-normal around `median`, clipped to [minimum, maximum]."""

    median: float
    sigma: float
    minimum: float
    maximum: float

    def draw(self, rng: np.random.Generator) -> float:
        value = rng.lognormal(np.log(self.median), self.sigma) if self.sigma > 0 else self.median
        return float(np.clip(value, self.minimum, self.maximum))


@dataclass(frozen=True)
class PathSpec:
    """One citizenship path among the people booked.

    `ident_record`: the share with an IDENT (biometric immigration) record at all.
    `stale`: for citizens by naturalization or derivation, the share whose IDENT record still
    shows the status before citizenship (DOMAIN.md §5: the mechanism behind citizens
    arrested by ICE)."""

    share: float
    ident_record: float
    stale: float = 0.0


@dataclass(frozen=True)
class PolicyChange:
    at: datetime
    policy: DetainerPolicy
    reason: str


@dataclass(frozen=True)
class OptOutRequest:
    """A county's request to be left out of one layer (DOMAIN.md §3.2, §3.3). A refused
    request changes nothing but is recorded; a granted one switches that layer off."""

    at: datetime
    switch: Switch
    granted: bool
    reason: str


@dataclass(frozen=True)
class CountyProfile:
    """Who lives in a county and how its police book them: the mechanism behind its
    bookings (a synthetic county stands for a group of real ones).

    `residents`: the people the county stands for. `foreign_born`: their share born abroad;
    `citizens_of_foreign_born`: the naturalized (or derived) share of those;
    `unauthorized_of_noncitizens`: the share of the non-citizens without a lawful status.
    `arrest_rate`: bookings per resident and year; `foreign_born_arrest_ratio`: a
    foreign-born resident's chance of being booked against a native's (local arrest
    practice moves it); `prior_record`: the share of the people booked with an earlier
    arrest on file."""

    residents: float
    foreign_born: float
    citizens_of_foreign_born: float
    unauthorized_of_noncitizens: float
    arrest_rate: float
    foreign_born_arrest_ratio: float
    prior_record: float

    @property
    def bookings_per_year(self) -> float:
        weight = 1.0 - self.foreign_born + self.foreign_born * self.foreign_born_arrest_ratio
        return self.residents * self.arrest_rate * weight

    def booked_groups(self) -> dict[str, float]:
        """Shares of the people booked by group: native, foreign-born citizen, lawful
        non-citizen, unauthorized (residents weighted by their chance of being booked)."""
        fb = self.foreign_born * self.foreign_born_arrest_ratio
        noncitizen = fb * (1.0 - self.citizens_of_foreign_born)
        raw = {
            "native": 1.0 - self.foreign_born,
            "foreign_born_citizen": fb * self.citizens_of_foreign_born,
            "lawful_noncitizen": noncitizen * (1.0 - self.unauthorized_of_noncitizens),
            "unauthorized": noncitizen * self.unauthorized_of_noncitizens,
        }
        total = sum(raw.values())
        return {k: v / total for k, v in raw.items()}


# The characteristics a county may set, or inherit from its state or `county_defaults`.
PROFILE_KEYS = (
    "foreign_born",
    "citizens_of_foreign_born",
    "unauthorized_of_noncitizens",
    "arrest_rate",
    "foreign_born_arrest_ratio",
    "prior_record",
)


@dataclass(frozen=True)
class CountySpec:
    """A booking agency (county jail) by ORI. Either `share`, its part of the national
    booking volume, or a `profile` of residents from which its bookings follow."""

    ori: str
    name: str
    share: float
    activation: datetime | None
    detainer_policy: DetainerPolicy
    policy_changes: tuple[PolicyChange, ...] = ()
    switches: tuple[SwitchSetting, ...] = ()
    opt_out_requests: tuple[OptOutRequest, ...] = ()
    profile: CountyProfile | None = None


@dataclass(frozen=True)
class StateSpec:
    code: str
    sib_ori: str
    counties: tuple[CountySpec, ...]


@dataclass(frozen=True)
class PopulationSpec:
    people_per_booking: float
    minimum_people: int
    paths: dict[CitizenshipPath, PathSpec]
    criminal_record_share: float
    prior_conviction_share: float
    home_state: str
    priors_like_bookings: bool = True  # earlier arrests drawn from the offense mix, else uniform
    status_records: StatusRecordSpec | None = None  # how IDENT records go stale


@dataclass(frozen=True)
class StatusRecordSpec:
    """How IDENT's status records go stale (citizenship.py draws it): a status change after
    the person's last IDENT encounter that IDENT learned of with probability `learned[kind]`
    (kinds: naturalization, derivation, adjustment).

    `ident_since`: the first IDENT encounters a record can come from. `years_to_naturalize`:
    years from the permanent-resident encounter to naturalization. `years_to_adjust`: years
    from the first encounter (a visa, an entry) to adjustment of status.
    `adjusted_of_permanent_residents`: the share of permanent residents who adjusted in the
    country (the others were admitted as immigrants, their record is current).
    `changes_within_years`: naturalizations and adjustments fall within this many years
    before the window starts. `sensitivity`: the low and high `learned` values the report
    re-measures with."""

    learned: dict[str, float]
    ident_since: datetime
    years_to_naturalize: LogNormal
    years_to_adjust: LogNormal
    adjusted_of_permanent_residents: float
    changes_within_years: float
    sensitivity: tuple[float, float]


STATUS_CHANGE_KINDS = ("naturalization", "derivation", "adjustment")


@dataclass(frozen=True)
class ArrestSpec:
    offense_mix: dict[str, float]  # NCIC code -> weight
    literal_variants: dict[str, tuple[str, ...]]  # NCIC code -> free-text literals a jail writes
    unclassifiable_share: float
    unclassifiable_literals: tuple[str, ...]
    charges_per_booking: dict[int, float]
    release_hours: LogNormal
    defect_share: float
    defect_kinds: dict[str, float]


@dataclass(frozen=True)
class DispositionSpec:
    shares: dict[DispositionOutcome, float]
    delay_days: LogNormal


@dataclass(frozen=True)
class Target:
    """A published figure the scenario should reproduce (DOMAIN.md §1.6, §5).

    `name` is the figure's own name, `measure` what the run measures for it (one of
    MEASURES), over `window` and, with `state`, in that state's counties only. `role`:
    "fit" (the parameters were set to reproduce it) or "check" (held back to test the
    model), chosen before fitting. `comparison`: "equal", or "at_least"/"at_most" for a
    published bound (">111,000")."""

    name: str
    value: float
    kind: str  # "count" (scaled by the scenario's scale) or "share"
    source: str
    description: str
    measure: str = ""
    role: str = "check"
    window: tuple[datetime, datetime] | None = None
    state: str | None = None
    comparison: str = "equal"

    @property
    def measured(self) -> str:
        return self.measure or self.name


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str  # the file it was read from
    seed: int
    scale: float
    start: datetime
    end: datetime
    national_bookings_per_month: float
    fixed_bookings: int | None  # a preset number of bookings instead of volume x scale
    unactivated_sampling: float
    states: tuple[StateSpec, ...]
    population: PopulationSpec
    arrests: ArrestSpec
    dispositions: DispositionSpec
    safeguards: Safeguards
    officer_policy: SimulatedOfficerPolicy
    removals: RemovalPolicy  # ICE custody, proceedings and removal after a transfer
    target_window: tuple[datetime, datetime]
    targets: tuple[Target, ...] = field(default_factory=tuple)

    @property
    def counties(self) -> tuple[tuple[StateSpec, CountySpec], ...]:
        return tuple((s, c) for s in self.states for c in s.counties)

    def expected_bookings(self) -> float:
        """Bookings the window holds at this scale, before sampling unactivated counties."""
        if self.fixed_bookings is not None:
            return float(self.fixed_bookings)
        months = (self.end - self.start).total_seconds() / (86400 * 365.25 / 12)
        profiles = [c.profile for _, c in self.counties if c.profile is not None]
        if profiles:  # booking volume from the counties' residents and arrest rates
            return sum(p.bookings_per_year for p in profiles) / 12 * months * self.scale
        return self.national_bookings_per_month * months * self.scale

    def with_overrides(
        self,
        *,
        scale: float | None = None,
        seed: int | None = None,
        bookings: int | None = None,
        safeguards: Safeguards | None = None,
    ) -> Scenario:
        return replace(
            self,
            scale=self.scale if scale is None else scale,
            seed=self.seed if seed is None else seed,
            fixed_bookings=self.fixed_bookings if bookings is None else bookings,
            safeguards=self.safeguards if safeguards is None else safeguards,
        )


def builtin_scenarios() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml")
        for p in files(SCENARIO_PACKAGE).iterdir()
        if p.name.endswith(".yaml")
    )


def load_scenario(name_or_path: str | Path, offenses: NcicTable | None = None) -> Scenario:
    """A built-in scenario by name, or a scenario file by path; its offense codes are
    checked against `offenses` (without one: the package's NCIC table, read afresh)."""
    text_name = str(name_or_path)
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        return parse_scenario(path.read_text(), str(path), offenses)
    resource = files(SCENARIO_PACKAGE) / f"{text_name}.yaml"
    if not resource.is_file():
        known = ", ".join(builtin_scenarios())
        raise ScenarioError(
            f"{text_name!r} is neither a scenario file nor a built-in scenario ({known})"
        )
    return parse_scenario(resource.read_text(), f"built-in scenario {text_name}", offenses)


def parse_scenario(text: str, source: str, offenses: NcicTable | None = None) -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{source}: not valid YAML: {error}") from error
    return _Reader(source, offenses if offenses is not None else load_ncic_table()).scenario(data)


# -- the reader: every access names its key path, so errors can say where --


class _Reader:
    def __init__(self, source: str, offenses: NcicTable) -> None:
        self.source = source
        self.offenses = offenses  # the NCIC table the offense mix must come from
        self.state_codes: tuple[str, ...] = ()  # the states read, for targets naming one

    def fail(self, where: str, expected: str, got: object) -> ScenarioError:
        shown = repr(got)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ScenarioError(f"{self.source}: {where}: expected {expected}, got {shown}")

    def mapping(
        self,
        node: object,
        where: str,
        required: set[str],
        optional: set[str] | frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise self.fail(where or "top level", "a mapping", node)
        for key in required:
            if key not in node:
                raise ScenarioError(f"{self.source}: {_join(where, key)}: missing (required)")
        unknown = set(node) - required - set(optional)
        if unknown:
            allowed = ", ".join(sorted(required | set(optional)))
            raise ScenarioError(
                f"{self.source}: {_join(where, str(sorted(unknown)[0]))}: unknown key "
                f"(allowed here: {allowed})"
            )
        return node

    def number(
        self, node: object, where: str, low: float | None = None, high: float | None = None
    ) -> float:
        if isinstance(node, bool) or not isinstance(node, int | float):
            raise self.fail(where, "a number", node)
        value = float(node)
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise self.fail(where, f"a number {span}", node)
        return value

    def share(self, node: object, where: str) -> float:
        return self.number(node, where, 0.0, 1.0)

    def integer(self, node: object, where: str, low: int = 0) -> int:
        if isinstance(node, bool) or not isinstance(node, int) or node < low:
            raise self.fail(where, f"an integer of at least {low}", node)
        return node

    def text(self, node: object, where: str) -> str:
        if not isinstance(node, str) or not node.strip():
            raise self.fail(where, "a non-empty string", node)
        return node

    def moment(self, node: object, where: str) -> datetime:
        value: datetime | None = None
        if isinstance(node, datetime):
            value = node
        elif isinstance(node, date):
            value = datetime(node.year, node.month, node.day)
        elif isinstance(node, str):
            try:
                value = datetime.fromisoformat(node)
            except ValueError:
                pass
        if value is None:
            raise self.fail(where, "a date (YYYY-MM-DD)", node)
        if value.tzinfo is not None:  # scenario time has no zone to compare an offset with
            raise self.fail(where, "a date without a time zone (scenario time has none)", node)
        return value

    def choice(self, node: object, where: str, options: dict[str, Any]) -> Any:
        if not isinstance(node, str) or node not in options:
            raise self.fail(where, "one of " + ", ".join(sorted(options)), node)
        return options[node]

    def ori(self, node: object, where: str) -> str:
        if not isinstance(node, str) or len(node) != 9 or not node.isalnum():
            raise self.fail(where, "a 9-character ORI such as TX0010000", node)
        return node

    def weights(self, node: object, where: str) -> dict[str, float]:
        if not isinstance(node, dict) or not node:
            raise self.fail(where, "a non-empty mapping of weights", node)
        out = {str(k): self.number(v, _join(where, str(k)), 0.0) for k, v in node.items()}
        if sum(out.values()) <= 0:
            raise self.fail(where, "weights that add up to more than 0", node)
        return out

    def lognormal(self, node: object, where: str) -> LogNormal:
        m = self.mapping(node, where, {"median"}, {"sigma", "min", "max"})
        median = self.number(m["median"], _join(where, "median"), 0.0)
        low = self.number(m.get("min", 0.0), _join(where, "min"), 0.0)
        high = self.number(m.get("max", median * 1000), _join(where, "max"), low)
        return LogNormal(
            median, self.number(m.get("sigma", 0.0), _join(where, "sigma"), 0), low, high
        )

    # -- sections --

    def scenario(self, data: object) -> Scenario:
        top = self.mapping(
            data,
            "",
            {"scenario", "schema", "window", "states", "population", "arrests"},
            {
                "description",
                "seed",
                "scale",
                "national",
                "bookings",
                "sampling",
                "dispositions",
                "safeguards",
                "officer_policy",
                "removals",
                "ice_custody",
                "targets",
                "county_defaults",
            },
        )
        if top["schema"] != SCHEMA_VERSION:
            raise self.fail(
                "schema", f"{SCHEMA_VERSION} (the scenario schema version)", top["schema"]
            )
        window = self.mapping(top["window"], "window", {"start", "end"})
        start = self.moment(window["start"], "window.start")
        end = self.moment(window["end"], "window.end")
        if end <= start:
            raise self.fail(
                "window.end", f"a date after window.start ({start.date()})", window["end"]
            )
        national = self.mapping(top.get("national", {}), "national", set(), {"bookings_per_month"})
        fixed = top.get("bookings")
        sampling = self.mapping(top.get("sampling", {}), "sampling", set(), {"unactivated"})
        defaults = self.profile_values(top.get("county_defaults", {}), "county_defaults")
        states = self.states(top["states"], defaults)
        self.state_codes = tuple(s.code for s in states)
        profiled = any(c.profile is not None for s in states for c in s.counties)
        if "bookings_per_month" not in national and fixed is None and not profiled:
            raise ScenarioError(
                f"{self.source}: national.bookings_per_month or bookings: one is required "
                "(or counties with residents)"
            )
        if "ice_custody" in top:
            raise ScenarioError(
                f"{self.source}: ice_custody: no longer read (removals are no longer drawn "
                "after the flow); say what ICE and the court do in a `removals` section"
            )
        targets, target_window = self.targets(top.get("targets"), (start, end))
        return Scenario(
            name=self.text(top["scenario"], "scenario"),
            description=str(top.get("description", "")).strip(),
            source=self.source,
            seed=self.integer(top.get("seed", 1), "seed"),
            scale=self.number(top.get("scale", 1.0), "scale", 0.0),
            start=start,
            end=end,
            national_bookings_per_month=self.number(
                national.get("bookings_per_month", 0), "national.bookings_per_month", 0.0
            ),
            fixed_bookings=None if fixed is None else self.integer(fixed, "bookings", 1),
            unactivated_sampling=self.share(
                sampling.get("unactivated", 1.0), "sampling.unactivated"
            ),
            states=states,
            population=self.population(top["population"]),
            arrests=self.arrests(top["arrests"]),
            dispositions=self.dispositions(top.get("dispositions")),
            safeguards=self.safeguards(top.get("safeguards")),
            officer_policy=self.officer(top.get("officer_policy")),
            removals=self.removals(top.get("removals")),
            target_window=target_window,
            targets=targets,
        )

    def profile_values(self, node: object, where: str) -> dict[str, float]:
        """County characteristics set at this level (`county_defaults`, a state, a county)."""
        m = self.mapping(node, where, set(), set(PROFILE_KEYS))
        out = {}
        for key in PROFILE_KEYS:
            if key in m:
                high = None if key in ("arrest_rate", "foreign_born_arrest_ratio") else 1.0
                out[key] = self.number(m[key], _join(where, key), 0.0, high)
        return out

    def states(self, node: object, defaults: dict[str, float]) -> tuple[StateSpec, ...]:
        if not isinstance(node, list) or not node:
            raise self.fail("states", "a non-empty list of states", node)
        states: list[StateSpec] = []
        seen: set[str] = set()
        for i, item in enumerate(node):
            where = f"states[{i}]"
            m = self.mapping(item, where, {"code", "sib_ori", "counties"}, set(PROFILE_KEYS))
            code = self.text(m["code"], f"{where}.code")
            inherited = defaults | self.profile_values(
                {k: v for k, v in m.items() if k in PROFILE_KEYS}, where
            )
            counties = m["counties"]
            if not isinstance(counties, list) or not counties:
                raise self.fail(f"{where}.counties", "a non-empty list of counties", counties)
            specs = tuple(
                self.county(c, f"{where}.counties[{j}]", seen, inherited)
                for j, c in enumerate(counties)
            )
            states.append(StateSpec(code, self.ori(m["sib_ori"], f"{where}.sib_ori"), specs))
        counties_all = [c for s in states for c in s.counties]
        profiled = [c.profile is not None for c in counties_all]
        if any(profiled) and not all(profiled):
            raise ScenarioError(
                f"{self.source}: states: every county needs `residents` once one has them "
                "(booking volume comes either from shares or from residents, not both)"
            )
        total = sum(c.share for c in counties_all)
        if total <= 0:
            raise self.fail("states", "counties whose shares add up to more than 0", total)
        return tuple(states)

    def profile(
        self, m: dict[str, Any], where: str, inherited: dict[str, float]
    ) -> CountyProfile | None:
        if "residents" not in m:
            return None
        values = inherited | self.profile_values(
            {k: v for k, v in m.items() if k in PROFILE_KEYS}, where
        )
        missing = [k for k in PROFILE_KEYS if k not in values]
        if missing:
            raise ScenarioError(
                f"{self.source}: {_join(where, missing[0])}: missing (set it on the county, "
                "its state or county_defaults)"
            )
        return CountyProfile(
            residents=self.number(m["residents"], _join(where, "residents"), 1.0),
            **values,
        )

    def county(
        self, node: object, where: str, seen: set[str], inherited: dict[str, float]
    ) -> CountySpec:
        m = self.mapping(
            node,
            where,
            {"ori", "name"},
            {
                "share",
                "residents",
                "activation",
                "detainer_policy",
                "policy_changes",
                "switches",
                "opt_out_requests",
                *PROFILE_KEYS,
            },
        )
        if ("share" in m) == ("residents" in m):
            raise ScenarioError(
                f"{self.source}: {where}: expected one of share or residents, got "
                f"{'both' if 'share' in m else 'neither'}"
            )
        if "share" in m and set(m) & set(PROFILE_KEYS):
            key = sorted(set(m) & set(PROFILE_KEYS))[0]
            raise ScenarioError(
                f"{self.source}: {_join(where, key)}: only a county with residents has "
                "characteristics (this one has a share)"
            )
        profile = self.profile(m, where, inherited)
        ori = self.ori(m["ori"], f"{where}.ori")
        if ori in seen:
            raise self.fail(f"{where}.ori", "an ORI not used by another county", ori)
        seen.add(ori)
        policies = {p.value: p for p in DetainerPolicy}
        activation = m.get("activation")
        changes = []
        for k, change in enumerate(m.get("policy_changes") or []):
            at = f"{where}.policy_changes[{k}]"
            c = self.mapping(change, at, {"from", "policy"}, {"reason"})
            changes.append(
                PolicyChange(
                    self.moment(c["from"], f"{at}.from"),
                    self.choice(c["policy"], f"{at}.policy", policies),
                    str(c.get("reason", "local law")),
                )
            )
        switches = tuple(
            self.switch(s, f"{where}.switches[{k}]", ori)
            for k, s in enumerate(m.get("switches") or [])
        )
        requests = []
        for k, request in enumerate(m.get("opt_out_requests") or []):
            at = f"{where}.opt_out_requests[{k}]"
            r = self.mapping(request, at, {"at", "switch", "granted"}, {"reason"})
            if not isinstance(r["granted"], bool):
                raise self.fail(f"{at}.granted", "true or false", r["granted"])
            requests.append(
                OptOutRequest(
                    self.moment(r["at"], f"{at}.at"),
                    self.choice(r["switch"], f"{at}.switch", {s.value: s for s in Switch}),
                    r["granted"],
                    str(r.get("reason", "opt-out request")),
                )
            )
        return CountySpec(
            ori=ori,
            name=self.text(m["name"], f"{where}.name"),
            share=profile.bookings_per_year
            if profile is not None
            else self.number(m["share"], f"{where}.share", 0.0),
            activation=None
            if activation is None
            else self.moment(activation, f"{where}.activation"),
            detainer_policy=self.choice(
                m.get("detainer_policy", "honor_all"), f"{where}.detainer_policy", policies
            ),
            policy_changes=tuple(sorted(changes, key=lambda c: c.at)),
            switches=switches,
            opt_out_requests=tuple(requests),
            profile=profile,
        )

    def switch(self, node: object, where: str, ori: str) -> SwitchSetting:
        m = self.mapping(node, where, {"switch", "enabled", "from", "by"}, {"to", "reason"})
        switch = self.choice(m["switch"], f"{where}.switch", {s.value: s for s in Switch})
        owner = self.choice(m["by"], f"{where}.by", {o.value: o for o in SwitchOwner})
        try:
            check_owner(switch, owner)
        except Exception as error:
            raise self.fail(f"{where}.by", f"an owner of switch {switch.value}", m["by"]) from error
        if not isinstance(m["enabled"], bool):
            raise self.fail(f"{where}.enabled", "true or false", m["enabled"])
        return SwitchSetting(
            ori=ori,
            switch=switch,
            enabled=m["enabled"],
            effective_from=self.moment(m["from"], f"{where}.from"),
            effective_to=None if m.get("to") is None else self.moment(m["to"], f"{where}.to"),
            changed_by=owner,
            reason=str(m.get("reason", "scenario")),
        )

    def population(self, node: object) -> PopulationSpec:
        m = self.mapping(
            node,
            "population",
            {"citizenship_paths"},
            {
                "people_per_booking",
                "minimum_people",
                "criminal_record_share",
                "prior_conviction_share",
                "prior_offenses",
                "home_state",
                "status_records",
            },
        )
        raw = m["citizenship_paths"]
        paths_by_name = {p.value: p for p in CitizenshipPath}
        if not isinstance(raw, dict) or not raw:
            raise self.fail("population.citizenship_paths", "a mapping of paths", raw)
        paths: dict[CitizenshipPath, PathSpec] = {}
        for key, spec in raw.items():
            where = f"population.citizenship_paths.{key}"
            path = self.choice(key, where, paths_by_name)
            s = self.mapping(spec, where, {"share"}, {"ident_record", "stale"})
            paths[path] = PathSpec(
                share=self.share(s["share"], f"{where}.share"),
                ident_record=self.share(s.get("ident_record", 0.0), f"{where}.ident_record"),
                stale=self.share(s.get("stale", 0.0), f"{where}.stale"),
            )
        total = sum(p.share for p in paths.values())
        if abs(total - 1.0) > 0.01:
            raise self.fail("population.citizenship_paths", "shares that add up to 1", total)
        return PopulationSpec(
            people_per_booking=self.number(
                m.get("people_per_booking", 2.0), "population.people_per_booking", 0.01
            ),
            minimum_people=self.integer(
                m.get("minimum_people", 50), "population.minimum_people", 1
            ),
            paths=paths,
            criminal_record_share=self.share(
                m.get("criminal_record_share", 0.35), "population.criminal_record_share"
            ),
            prior_conviction_share=self.share(
                m.get("prior_conviction_share", 0.5), "population.prior_conviction_share"
            ),
            home_state=str(m.get("home_state", "CA")),
            priors_like_bookings=self.choice(
                m.get("prior_offenses", "offense_mix"),
                "population.prior_offenses",
                {"offense_mix": True, "uniform": False},
            ),
            status_records=None
            if m.get("status_records") is None
            else self.status_records(m["status_records"], paths),
        )

    def status_records(
        self, node: object, paths: dict[CitizenshipPath, PathSpec]
    ) -> StatusRecordSpec:
        where = "population.status_records"
        m = self.mapping(
            node,
            where,
            {"learned"},
            {
                "ident_since",
                "years_to_naturalize",
                "years_to_adjust",
                "adjusted_of_permanent_residents",
                "changes_within_years",
                "sensitivity",
            },
        )
        learned_node = self.mapping(m["learned"], f"{where}.learned", set(STATUS_CHANGE_KINDS))
        stale_paths = [str(p) for p, spec in paths.items() if spec.stale > 0]
        if stale_paths:
            raise ScenarioError(
                f"{self.source}: population.citizenship_paths.{stale_paths[0]}.stale: "
                "not with status_records (stale records then follow from `learned`)"
            )
        low_high = m.get("sensitivity", [0.2, 0.9])
        if not isinstance(low_high, list) or len(low_high) != 2:
            raise self.fail(f"{where}.sensitivity", "a list [low, high]", low_high)
        low = self.share(low_high[0], f"{where}.sensitivity[0]")
        high = self.share(low_high[1], f"{where}.sensitivity[1]")
        return StatusRecordSpec(
            learned={
                k: self.share(learned_node[k], f"{where}.learned.{k}") for k in STATUS_CHANGE_KINDS
            },
            ident_since=self.moment(m.get("ident_since", "1995-01-01"), f"{where}.ident_since"),
            years_to_naturalize=self.lognormal(
                m.get("years_to_naturalize", {"median": 7, "sigma": 0.4, "min": 3, "max": 40}),
                f"{where}.years_to_naturalize",
            ),
            years_to_adjust=self.lognormal(
                m.get("years_to_adjust", {"median": 3, "sigma": 0.7, "min": 0.2, "max": 30}),
                f"{where}.years_to_adjust",
            ),
            adjusted_of_permanent_residents=self.share(
                m.get("adjusted_of_permanent_residents", 0.0),
                f"{where}.adjusted_of_permanent_residents",
            ),
            changes_within_years=self.number(
                m.get("changes_within_years", 25), f"{where}.changes_within_years", 0.1, 80
            ),
            sensitivity=(low, high),
        )

    def arrests(self, node: object) -> ArrestSpec:
        m = self.mapping(
            node,
            "arrests",
            {"offense_mix"},
            {
                "literal_variants",
                "unclassifiable",
                "charges_per_booking",
                "release_hours",
                "defects",
            },
        )
        mix = self.weights(m["offense_mix"], "arrests.offense_mix")
        for code in mix:
            if self.offenses.by_code(code) is None:
                raise self.fail(
                    f"arrests.offense_mix.{code}", "an NCIC code of scomm's offense table", code
                )
        variants: dict[str, tuple[str, ...]] = {}
        for code, literals in (m.get("literal_variants") or {}).items():
            where = f"arrests.literal_variants.{code}"
            if str(code) not in mix:
                raise self.fail(where, "a code listed in arrests.offense_mix", code)
            if not isinstance(literals, list) or not literals:
                raise self.fail(where, "a list of arrest literals", literals)
            variants[str(code)] = tuple(self.text(x, where) for x in literals)
        unc = self.mapping(
            m.get("unclassifiable", {"share": 0.0}),
            "arrests.unclassifiable",
            {"share"},
            {"literals"},
        )
        literals = unc.get("literals") or ["PROBATION VIOLATION"]
        if not isinstance(literals, list):
            raise self.fail("arrests.unclassifiable.literals", "a list of literals", literals)
        charges = self.weights(
            m.get("charges_per_booking", {1: 1.0}), "arrests.charges_per_booking"
        )
        per_booking: dict[int, float] = {}
        for k, w in charges.items():
            if not k.isdigit() or int(k) < 1:
                raise self.fail(f"arrests.charges_per_booking.{k}", "a count of at least 1", k)
            per_booking[int(k)] = w
        defects = self.mapping(
            m.get("defects", {"share": 0.0}), "arrests.defects", {"share"}, {"kinds"}
        )
        kinds = self.weights(defects.get("kinds", {"truncated": 1.0}), "arrests.defects.kinds")
        for kind in kinds:
            self.choice(kind, f"arrests.defects.kinds.{kind}", {"truncated": 1, "bad_dob": 1})
        return ArrestSpec(
            offense_mix=mix,
            literal_variants=variants,
            unclassifiable_share=self.share(unc["share"], "arrests.unclassifiable.share"),
            unclassifiable_literals=tuple(
                self.text(x, "arrests.unclassifiable.literals") for x in literals
            ),
            charges_per_booking=per_booking,
            release_hours=self.lognormal(
                m.get("release_hours", {"median": 36, "sigma": 1.1, "min": 3, "max": 1440}),
                "arrests.release_hours",
            ),
            defect_share=self.share(defects["share"], "arrests.defects.share"),
            defect_kinds=kinds,
        )

    def dispositions(self, node: object) -> DispositionSpec:
        if node is None:
            node = {"shares": {"convicted": 1.0}, "delay_days": {"median": 42}}
        m = self.mapping(node, "dispositions", {"shares", "delay_days"})
        outcomes = {o.value: o for o in DispositionOutcome}
        raw = self.weights(m["shares"], "dispositions.shares")
        shares = {self.choice(k, f"dispositions.shares.{k}", outcomes): v for k, v in raw.items()}
        return DispositionSpec(shares, self.lognormal(m["delay_days"], "dispositions.delay_days"))

    def safeguards(self, node: object) -> Safeguards:
        if node is None:
            return Safeguards()
        if node in ("all_on", "all_off"):
            return Safeguards() if node == "all_on" else Safeguards.all_off()
        names = set(Safeguards.__dataclass_fields__)
        m = self.mapping(node, "safeguards", set(), names)
        values = {}
        for key, value in m.items():
            if not isinstance(value, bool):
                raise self.fail(f"safeguards.{key}", "true or false", value)
            values[key] = value
        return Safeguards(**values)

    def officer(self, node: object) -> SimulatedOfficerPolicy:
        if node is None:
            return SimulatedOfficerPolicy()
        m = self.mapping(
            node, "officer_policy", set(), {"name", "detain_levels", "level3_detain_rate"}
        )
        default = SimulatedOfficerPolicy()
        levels = m.get("detain_levels", list(default.detain_levels))
        if not isinstance(levels, list) or any(x not in (1, 2, 3) for x in levels):
            raise self.fail("officer_policy.detain_levels", "a list of levels 1-3", levels)
        return SimulatedOfficerPolicy(
            name=str(m.get("name", default.name)),
            detain_levels=tuple(levels),
            level3_detain_rate=self.share(
                m.get("level3_detain_rate", default.level3_detain_rate),
                "officer_policy.level3_detain_rate",
            ),
        )

    def removals(self, node: object) -> RemovalPolicy:
        """The `removals` section: what ICE and the immigration court do after a transfer
        (`scomm.domain.removals.RemovalPolicy`); every key optional, the policy's defaults
        otherwise."""
        default = RemovalPolicy()
        if node is None:
            return default
        shares = (
            "detention_share",
            "reinstatement_share",
            "hearing_share",
            "counsel_share",
        )
        m = self.mapping(
            node, "removals", set(), {"name", *shares, "relief", "removable_levels", "days"}
        )
        values: dict[str, Any] = {"name": str(m.get("name", default.name))}
        for key in shares:
            values[key] = self.share(m.get(key, getattr(default, key)), f"removals.{key}")
        relief = self.mapping(
            m.get("relief", {}), "removals.relief", set(), {"with_counsel", "without_counsel"}
        )
        for key in ("with_counsel", "without_counsel"):
            values[f"relief_{key}"] = self.share(
                relief.get(key, getattr(default, f"relief_{key}")), f"removals.relief.{key}"
            )
        levels = m.get("removable_levels", list(default.removable_levels))
        if not isinstance(levels, list) or any(
            isinstance(x, bool) or x not in (1, 2, 3) for x in levels
        ):
            raise self.fail("removals.removable_levels", "a list of levels 1-3", levels)
        values["removable_levels"] = tuple(levels)
        steps = {
            "citizenship_claim": "claim_days",
            "fast_track": "fast_track_days",
            "hearing": "hearing_days",
            "removal": "removal_days",
        }
        days = self.mapping(m.get("days", {}), "removals.days", set(), set(steps))
        for key, name in steps.items():
            if key in days:
                d = self.lognormal(days[key], f"removals.days.{key}")
                values[name] = Days(d.median, d.sigma, d.minimum, d.maximum)
        return replace(default, **values)

    def targets(
        self, node: object, window: tuple[datetime, datetime]
    ) -> tuple[tuple[Target, ...], tuple[datetime, datetime]]:
        if node is None:
            return (), window
        m = self.mapping(node, "targets", {"figures"}, {"window"})
        if "window" in m:
            window = self.window(m["window"], "targets.window")
        figures = m["figures"]
        if not isinstance(figures, dict):
            raise self.fail("targets.figures", "a mapping of target figures", figures)
        out = []
        for name, spec in figures.items():
            where = f"targets.figures.{name}"
            s = self.mapping(
                spec,
                where,
                {"value", "source"},
                {"description", "measure", "role", "window", "state", "comparison"},
            )
            measure = str(s.get("measure", name))
            if measure not in MEASURES:
                what = "measure" if "measure" in s else "name"
                raise self.fail(
                    f"{where}.measure" if "measure" in s else where,
                    f"a {what} one of " + ", ".join(MEASURES),
                    measure,
                )
            kind = MEASURES[measure]
            value = self.number(s["value"], f"{where}.value", 0.0, None if kind == "count" else 1.0)
            own = self.window(s["window"], f"{where}.window") if "window" in s else None
            state = None
            if "state" in s:
                state = self.choice(s["state"], f"{where}.state", {c: c for c in self.state_codes})
            out.append(
                Target(
                    str(name),
                    value,
                    kind,
                    str(s["source"]),
                    str(s.get("description", name)),
                    measure=measure,
                    role=self.choice(
                        s.get("role", "check"), f"{where}.role", {"fit": "fit", "check": "check"}
                    ),
                    window=own,
                    state=state,
                    comparison=self.choice(
                        s.get("comparison", "equal"),
                        f"{where}.comparison",
                        {c: c for c in ("equal", "at_least", "at_most")},
                    ),
                )
            )
        return tuple(out), window

    def window(self, node: object, where: str) -> tuple[datetime, datetime]:
        w = self.mapping(node, where, {"start", "end"})
        start = self.moment(w["start"], f"{where}.start")
        end = self.moment(w["end"], f"{where}.end")
        if end <= start:
            raise self.fail(
                f"{where}.end", f"a date after {where}.start ({start.date()})", w["end"]
            )
        return start, end


# What a target may measure: "count"s are scaled by the scenario's scale, "share"s are not.
# scenario_report.measure_target says how each is counted from the run.
MEASURES: dict[str, str] = {
    "submissions": "count",
    "ident_matches": "count",
    "ident_matches_level_1": "count",
    "detainers": "count",
    "ice_arrests": "count",
    "removals": "count",
    "removed_non_criminal": "count",
    "removed_level_3": "count",
    "ident_match_rate": "share",
    "detainers_per_match": "share",
    "ice_arrests_per_match": "share",
    "ice_arrests_per_submission": "share",
    "citizens_among_ice_arrests": "share",
    "removals_per_ice_arrest": "share",
    "removals_level_1_or_2": "share",
    "removals_level_3": "share",
    "removals_without_conviction": "share",
}
# the names a target could have before `measure` existed (kept so older files still load)
TARGET_NAMES = tuple(MEASURES)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
