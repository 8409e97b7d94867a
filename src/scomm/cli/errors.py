"""The command line's errors and its one handler: every failure one line on stderr, an exit code.

Exit 2: the request cannot be carried out as given (a bad option or value, a file or database
that is not there or not scomm's, a run the simulator refuses). Exit 1: a check ran and
found a fault (a broken audit chain, no dead letter to replay), and an error nobody foresaw
(a bug) exits 1 too, named in one line. A traceback is never shown; `SCOMM_DEBUG=1` lets a
bug's through, for whoever fixes it.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, ClassVar

import sqlalchemy.exc
import typer
from typer.core import TyperGroup

from scomm.bus.dead_letters import NothingToReplay
from scomm.errors import ScommError
from scomm.reports.errors import PublicationRefused

try:  # Typer >= 0.26 carries its own copy of click, whose exceptions derive from this
    from typer import TyperException as ClickError
except ImportError:  # pragma: no cover (an older Typer on click itself)
    from click import ClickException as ClickError  # type: ignore[assignment]

USAGE = 2
CHECK_FAILED = 1
# scomm's own errors that mean "the check found a fault" rather than "bad request".
FAILED_CHECKS: tuple[type[ScommError], ...] = (NothingToReplay, PublicationRefused)

# scheme://user:password@host -> scheme://user:***@host, wherever a URL appears in a text.
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^:/?#@\s]*:)([^@/\s]*)(@)")


class CliError(ScommError):
    """The command line's family: input it refuses, or a check that it ran and that failed."""

    exit_code: ClassVar[int] = USAGE


class BadInput(CliError):
    """An option, value or file the command cannot use."""


class CheckFailed(CliError):
    """A check found a fault (the audit chain is broken)."""

    exit_code: ClassVar[int] = CHECK_FAILED


def mask_passwords(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return _URL_PASSWORD.sub(r"\1***\3", text)


def one_line(text: str) -> str:
    """`text` on one line, passwords masked: what an error message may show."""
    return mask_passwords(" ".join(text.split()))


def describe(error: Exception) -> tuple[str, int] | None:
    """The message and exit code of an error the command line knows; None for a bug."""
    if isinstance(error, CliError):
        return error.message, error.exit_code
    if isinstance(error, ScommError):
        return error.message, CHECK_FAILED if isinstance(error, FAILED_CHECKS) else USAGE
    if isinstance(error, sqlalchemy.exc.ArgumentError | sqlalchemy.exc.NoSuchModuleError):
        return f"not a database URL scomm can open: {_first_line(error)}", USAGE
    if isinstance(error, sqlalchemy.exc.SQLAlchemyError):
        # The first line names the fault; the rest is the SQL and a link to SQLAlchemy's docs.
        return f"database: {_first_line(error)}", USAGE
    if isinstance(error, ModuleNotFoundError) and not (error.name or "").startswith("scomm"):
        # a database driver, say, that is not installed (a missing scomm module is a bug)
        return f"a module this needs is not installed: {error}", USAGE
    if isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename is not None else ""
        return f"{where}{error.strerror}", USAGE
    return None


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def print_error(message: str) -> None:
    typer.echo(f"{typer.style('error:', fg='red')} {one_line(message)}", err=True)


class ErrorHandlingGroup(TyperGroup):
    """The click group of the scomm app: it turns each error into one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickError):
            raise
        except BrokenPipeError:  # `scomm ... | head` closed the pipe: typer exits quietly
            raise
        except Exception as error:
            known = describe(error)
            if os.environ.get("SCOMM_DEBUG") and not isinstance(error, CliError):
                raise  # the traceback of whatever went wrong below the command line
            message, code = known or (
                f"internal error, please report it: {type(error).__name__}: {error} "
                "(SCOMM_DEBUG=1 shows the traceback)",
                CHECK_FAILED,
            )
            print_error(message)
            raise typer.Exit(code) from error

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except ClickError as error:
            ctx = getattr(error, "ctx", None)  # usage errors know the command they concern
            if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:
                typer.echo(ctx.get_help())  # a bare `scomm ops`: the help, not an error
            else:
                hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
                print_error(error.format_message() + hint)
            sys.exit(error.exit_code)
        except typer.Abort:
            print_error("aborted")
            sys.exit(CHECK_FAILED)
        # Outside standalone mode click returns an Exit's code, else the command's value.
        sys.exit(result if isinstance(result, int) else 0)
