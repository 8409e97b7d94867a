"""The rule catalogue the domain tests apply: read once per test session, passed to each."""

from __future__ import annotations

import pytest

from scomm.domain.catalogue import RuleCatalogue


@pytest.fixture(scope="session")
def catalogue() -> RuleCatalogue:
    return RuleCatalogue.load()
