"""`python -m scomm ...`: the command line, as the `scomm` script runs it."""

from scomm.cli import app

app(prog_name="scomm")
