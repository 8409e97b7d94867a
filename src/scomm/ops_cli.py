"""`scomm switches` and `scomm ops`: audited switch changes and operations on the message bus."""

from __future__ import annotations

import typer

switches_app = typer.Typer(
    help="Per-jurisdiction switches A-D: show them, change them (audited).", no_args_is_help=True
)
ops_app = typer.Typer(help="Operations: dead letters and their replay.", no_args_is_help=True)
