"""`scomm synth`: synthetic fingerprints, tenprint transactions and worlds."""

from __future__ import annotations

import typer

synth_app = typer.Typer(
    help="Synthetic fingerprints, booking transactions and worlds.", no_args_is_help=True
)
