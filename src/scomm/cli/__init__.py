"""The command line, `scomm` (and `python -m scomm`): `app` is the one Typer app (see app.py)."""

from scomm.cli.app import app

__all__ = ["app"]
