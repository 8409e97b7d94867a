"""The console commands print to (standard output; errors go to stderr, see scomm.cli.errors)."""

from rich.console import Console

console = Console()
