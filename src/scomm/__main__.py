"""`python -m scomm ...`: the command line, as the `scomm` script runs it."""

from scomm.cli import app

if __name__ == "__main__":
    app(prog_name="scomm")
