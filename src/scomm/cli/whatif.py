"""`scomm whatif`: one scenario under two policies, the differences side by side over seeds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from scomm.cli.console import console
from scomm.cli.errors import BadInput
from scomm.cli.options import JsonFile, Scale, Scenario, ScenarioSeed, check_file_target
from scomm.cli.progress_bars import progress_bars
from scomm.cli.scenarios import chosen_scenario
from scomm.config import load_settings

if TYPE_CHECKING:
    from scomm.sim.whatif import Comparison

MAX_SEEDS = 100

POLICY_HELP = (
    "A policy: scenario, safeguards-on, safeguards-off, offense-type-rules, conviction-rules, "
    "trust-act, or a YAML file of overrides (safeguards, rule_set, detainer_law, "
    "detainer_policies, switches, officer_policy). Give it twice: A, then B."
)


def whatif(
    scenario: Scenario,
    policy: Annotated[
        list[str],
        typer.Option("--policy", "-p", metavar="NAME|FILE", show_default=False, help=POLICY_HELP),
    ],
    seeds: Annotated[
        int,
        typer.Option(
            min=1, max=MAX_SEEDS, help="Runs per policy, on the scenario's seed and the next ones."
        ),
    ] = 3,
    scale: Scale = None,
    seed: ScenarioSeed = None,
    json_out: JsonFile = None,
) -> None:
    """Run a scenario under two policies and show the differences side by side.

    Both policies run on the same people, bookings and biometric outcomes (in memory, with
    the biometric model); each figure is shown for A, B and B - A as the mean over the
    seeds with a 95% interval (Student's t over the seeds)."""
    from scomm.sim.whatif import compare, load_policy

    if len(policy) != 2:
        raise BadInput(f"--policy twice (A, then B), not {len(policy)} time(s)")
    check_file_target(json_out, "--json")
    chosen = chosen_scenario(scenario, scale, seed, None)
    a, b = (load_policy(p) for p in policy)
    settings = replace(load_settings(), officer_review=False)
    with progress_bars(console) as progress:
        runs = progress.add_task("runs", total=2 * seeds)
        stage_task = progress.add_task("", total=1)

        def on_run(run_seed: int, name: str) -> None:
            progress.update(runs, description=f"runs (seed {run_seed}, {name})")

        result = compare(
            chosen,
            a,
            b,
            seeds,
            stage=_one_bar(progress, stage_task),
            on_run=_counting(progress, runs, on_run),
            settings=settings,
        )
        progress.update(runs, completed=2 * seeds)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.as_json(), indent=2) + "\n")
    print_comparison(result)
    if json_out is not None:
        console.print(f"wrote {escape(str(json_out))}")


def _counting(
    progress: Progress, task: Any, then: Callable[[int, str], None]
) -> Callable[[int, str], None]:
    """An `on_run` that advances the runs bar by one for each run begun after the first."""
    begun = [0]

    def on_run(run_seed: int, name: str) -> None:
        if begun[0]:
            progress.advance(task, 1)
        begun[0] += 1
        then(run_seed, name)

    return on_run


def _one_bar(progress: Progress, task: Any) -> Any:
    """A stage reporter that shows every stage of every run on one bar, in turn."""

    @contextmanager
    def stage(description: str, total: int) -> Iterator[Callable[[int], None]]:
        progress.reset(task, total=total, description=description)
        yield lambda n: progress.advance(task, n)
        progress.update(task, completed=total)

    return stage


def _interval(cell: dict[str, float | None]) -> str:
    mean, low, high = cell["mean"], cell["low"], cell["high"]
    assert mean is not None
    text = f"{mean:,.1f}"
    if low is not None and high is not None:
        text += f" [{low:,.1f}, {high:,.1f}]"
    return text


def print_comparison(result: Comparison) -> None:
    """The comparison table, the figures of each seed, and the check that both arms made
    the same bookings with the same IDENT answers."""
    from scomm.sim.whatif import MEASURES

    a, b = (p.name for p in result.policies)
    n = len(result.seeds)
    how = "95% interval: t over the seeds" if n > 1 else "one seed: no interval"
    table = Table(
        title=f"what-if: scenario {escape(result.scenario)} at scale {result.scale:g}, "
        f"{n} seed(s); mean over seeds [{how}]"
    )
    table.add_column("measure")
    table.add_column(f"A: {escape(a)}", justify="right")
    table.add_column(f"B: {escape(b)}", justify="right")
    table.add_column("B - A", justify="right")
    groups = {m.name: m.group for m in MEASURES}
    last = None
    for row in result.rows():
        group = groups.get(row["measure"])
        if last is not None and group != last:
            table.add_section()
        last = group
        difference = row["difference"]
        style = "" if not difference["mean"] else "bold"
        table.add_row(
            escape(row["title"]),
            _interval(row["a"]),
            _interval(row["b"]),
            f"[{style}]{escape(_interval(difference))}[/{style}]"
            if style
            else _interval(difference),
        )
    console.print(table)
    for label, chosen in zip("AB", result.policies, strict=True):
        console.print(f"{label}: {escape(chosen.name)}: {escape(chosen.description)}")
    per_seed = Table(title="each seed: A / B")
    per_seed.add_column("measure")
    for run_seed in result.seeds:
        per_seed.add_column(f"seed {run_seed}", justify="right")
    for m in MEASURES:
        per_seed.add_row(
            escape(m.title),
            *(f"{ra.figures[m.name]:,} / {rb.figures[m.name]:,}" for ra, rb in result.runs),
        )
    console.print(per_seed)
    for check in result.checks:
        console.print(
            f"seed {check.seed}: {check.both:,} bookings made in both arms, "
            f"{check.one_only:,} in one only (the person held by ICE or removed in the other); "
            + (
                "the same IDENT answer for each"
                if not check.ident_differs
                else f"[red]{check.ident_differs:,} IDENT answers differ[/red]"
            )
        )
    console.print(
        "US citizens and permanent residents (truly): ground truth from the synthetic world; "
        "the other figures are counted from each run's audit entries"
    )
