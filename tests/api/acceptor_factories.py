"""App factories that the worker processes of `scomm serve --acceptors N` import in the
tests, kept apart and light (importing scomm's app would take each spawned process
seconds)."""

import sys

STARTUP_FAILURE = 3  # scomm.api.acceptors.STARTUP_FAILURE (test_acceptors checks they agree)


def broken_acceptor() -> None:
    """An acceptor whose start fails, as `scomm.api.acceptors.started_or_exit` ends it."""
    sys.exit(STARTUP_FAILURE)
