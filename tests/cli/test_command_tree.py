"""The command tree: one app, each documented command there with a working --help."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import scomm.cli
from scomm.cli import app

runner = CliRunner()
# Every command the README and the tests use; a new command belongs here (and in the README).
DOCUMENTED = {
    ("demo",),
    ("simulate",),
    ("report",),
    ("stats",),
    ("stats", "site"),
    ("foia", "export"),
    ("foia", "verify"),
    ("db", "upgrade"),
    ("audit", "verify"),
    ("audit", "checkpoint"),
    ("audit", "keygen"),
    ("audit", "reconcile"),
    ("switches", "set"),
    ("switches", "show"),
    ("ops", "dead-letters"),
    ("ops", "alarms"),
    ("ops", "replay"),
    ("ops", "run-world"),
    ("agencies", "add"),
    ("agencies", "list"),
    ("agencies", "rotate"),
    ("agencies", "revoke"),
    ("agencies", "release"),
    ("keys", "show"),
    ("keys", "rotate"),
    ("agencies", "callback"),
    ("serve",),
    ("worker",),
    ("nist", "show"),
    ("nist", "validate"),
    ("nist", "images"),
    ("template", "show"),
    ("template", "convert"),
    ("compare",),
    ("synth", "fingers"),
    ("synth", "tenprint"),
    ("synth", "realism"),
    ("synth", "world"),
    ("synth", "load"),
    ("bench", "verify"),
    ("bench", "search"),
    ("bench", "serve"),
}


def _commands(group: typing.Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], typing.Any]:
    found = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update(_commands(command, (*path, name)))
            if getattr(command, "invoke_without_command", False):  # `scomm stats` runs too
                found[(*path, name)] = command
        else:
            found[(*path, name)] = command
    return found


def test_the_tree_is_exactly_the_documented_commands() -> None:
    assert set(_commands(typer.main.get_command(app))) == DOCUMENTED


@pytest.mark.parametrize("path", sorted(DOCUMENTED), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], prog_name="scomm", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage: scomm " + " ".join(path) + " [OPTIONS]" in " ".join(result.output.split())


def test_a_bare_noun_shows_its_commands() -> None:
    result = runner.invoke(app, ["ops"], env={"COLUMNS": "200"})
    assert "dead-letters" in result.output and "run-world" in result.output
    assert "Traceback" not in result.output


def test_every_parameter_is_declared_with_annotated() -> None:
    for path, command in _commands(typer.main.get_command(app)).items():
        hints = typing.get_type_hints(command.callback, include_extras=True)
        plain = [
            name
            for name, hint in hints.items()
            if name != "return" and typing.get_origin(hint) is not typing.Annotated
        ]
        assert plain == [], f"scomm {' '.join(path)}: {plain} not Annotated"


def test_each_noun_registers_its_own_commands() -> None:
    # No command is attached to an app by importing some other module: each command's
    # function lives in the module that defines its noun's app.
    from scomm.cli.app import app as root

    for group in root.registered_groups:
        noun = group.typer_instance
        assert noun is not None
        modules = {c.callback.__module__ for c in noun.registered_commands if c.callback}
        runs = noun.registered_callback  # a noun that runs by itself (`scomm stats`)
        if runs is not None and runs.callback is not None:
            modules.add(runs.callback.__module__)
        # its own module, or modules named after it (scomm.cli.stats_site for `stats site`)
        own = f"scomm.cli.{group.name}"
        assert modules and all(m == own or m.startswith(own + "_") for m in modules), group.name
    package = Path(scomm.cli.__file__).parent
    for module in package.glob("*.py"):
        source = module.read_text()
        for used in set(re.findall(r"@(\w+_app)\.command", source)):
            assert re.search(rf"^{used} = typer\.Typer\(", source, re.M), f"{module.name}: {used}"


def test_choices_match_what_the_simulator_accepts() -> None:
    from scomm.cli.options import Extractor, RunEngine
    from scomm.sim.driver_spec import ENGINES
    from scomm.sim.synth.realism import EXTRACTORS

    assert tuple(RunEngine) == ENGINES
    assert tuple(Extractor) == EXTRACTORS
