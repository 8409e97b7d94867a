"""One exception hierarchy: every error scomm defines is a ScommError of its own layer's family."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import scomm
from scomm.api.errors import ApiError
from scomm.audit.errors import AuditError
from scomm.biometrics.errors import BiometricsError
from scomm.bus.errors import BusError
from scomm.cli.errors import CliError
from scomm.domain.errors import DomainError
from scomm.errors import ScommError
from scomm.forms.errors import FormError
from scomm.nist.errors import NistError, TransactionError
from scomm.reports.errors import ReportError
from scomm.services.errors import ServiceError
from scomm.sim.errors import SimulatorError
from scomm.store.errors import StoreError

# The family of each layer, by the package (or module) that is the layer.
FAMILIES: dict[str, type[ScommError]] = {
    "scomm.domain": DomainError,
    "scomm.biometrics": BiometricsError,
    "scomm.nist": NistError,
    "scomm.forms": FormError,
    "scomm.store": StoreError,
    "scomm.audit": AuditError,
    "scomm.bus": BusError,
    "scomm.services": ServiceError,
    "scomm.reports": ReportError,
    "scomm.sim": SimulatorError,
    "scomm.api": ApiError,
    "scomm.cli": CliError,
}
# Not importable on their own: the program entry point runs the app; Alembic's scripts
# expect Alembic's context.
SKIPPED = ("scomm.__main__", "scomm.store.migrations")


def _modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(scomm.__path__, prefix="scomm.")
        if not info.name.startswith(SKIPPED)
    ]
    assert len(names) > 100  # the walk found the package, not an empty folder
    return names


def _exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == name:
                found[f"{name}.{value.__qualname__}"] = value
    return list(found.values())


def _family(module: str) -> type[ScommError] | None:
    """The family of the layer `module` belongs to; None for a layer without one."""
    for layer, family in FAMILIES.items():
        if module == layer or module.startswith(layer + "."):
            return family
    return None


@pytest.fixture(scope="module")
def exception_classes() -> list[type[BaseException]]:
    return _exception_classes()


def test_every_exception_scomm_defines_is_a_scomm_error_of_its_layers_family(
    exception_classes: list[type[BaseException]],
) -> None:
    errors = [c for c in exception_classes if issubclass(c, Exception)]
    assert len(errors) >= 40  # the ~30 existing classes and the families
    wrong = []  # a class outside its family, or in a layer that has none yet
    for error in errors:
        family = _family(error.__module__)
        if error is not ScommError and (family is None or not issubclass(error, family)):
            wrong.append(f"{error.__module__}.{error.__name__}")
    assert wrong == []


def test_only_the_simulated_crash_stands_outside_the_tree(
    exception_classes: list[type[BaseException]],
) -> None:
    # A simulated kill must not be caught by `except Exception` (nor by an edge's handler).
    outside = [c.__name__ for c in exception_classes if not issubclass(c, Exception)]
    assert outside == ["SimulatedCrash"]


def test_each_family_lives_in_its_layer_and_derives_from_the_root() -> None:
    for layer, family in FAMILIES.items():
        assert family.__module__ == layer or family.__module__.startswith(layer + ".")
        assert family.__bases__ == (ScommError,)
    assert ScommError.__module__ == "scomm.errors"


def test_the_root_imports_nothing_of_scomm() -> None:
    source = inspect.getsource(importlib.import_module("scomm.errors"))
    assert "from scomm" not in source and "import scomm" not in source


def test_errors_keep_the_builtin_base_their_callers_catch() -> None:
    from scomm.biometrics.images import ImageDecodeError
    from scomm.domain.levels import NoRuleSetInForce
    from scomm.forms.detainers import NoDetainerForm
    from scomm.nist.nlets import NletsFormatError

    assert issubclass(ImageDecodeError, ValueError) and issubclass(ImageDecodeError, ScommError)
    assert issubclass(NoRuleSetInForce, LookupError) and issubclass(NoDetainerForm, LookupError)
    assert issubclass(TransactionError, NistError)
    error = NletsFormatError("ORI", "not 9 characters")
    assert str(error) == "ORI: not 9 characters" and isinstance(error, ValueError)


def test_codes_are_stable_names_an_edge_can_map() -> None:
    from scomm.biometrics.images import ImageDecodeError
    from scomm.domain.levels import NoRuleSetInForce

    assert ScommError.code == "scomm-error"
    assert ImageDecodeError.code == "image-decode-error"
    assert NoRuleSetInForce.code == "no-rule-set-in-force"
    assert TransactionError("2.022", "not a date").code == "transaction-error"

    class Custom(ScommError):
        code = "custom"

    assert Custom.code == "custom"


def test_message_is_one_line() -> None:
    error = TransactionError("2.022", "not\na date\n")
    assert error.message == "2.022 DOB: not a date"
    assert ScommError().message == "scomm-error"
