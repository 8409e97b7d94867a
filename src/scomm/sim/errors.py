"""SimulatorError: the family of errors the simulator raises (see scomm.errors)."""

from scomm.errors import ScommError


class SimulatorError(ScommError):
    """A scenario, run, benchmark or study the simulator cannot start or finish."""
