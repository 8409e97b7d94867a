"""ERO's areas of responsibility: 24 field offices, every state and territory in one office's
area (a split state in its default office's), and an ERO agency's area one of the offices."""

from __future__ import annotations

import pytest

from scomm.domain.agencies import DEFAULT_SCOPES, AgencyKind, InvalidAgency, check_agency_fields
from scomm.domain.field_offices import (
    COVERS,
    FIELD_OFFICES,
    OFFICE_OF_STATE,
    SPLIT_STATES,
    area_of_state,
    states_of_area,
)

STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()


def test_the_24_field_offices_by_their_codes() -> None:
    assert (
        sorted(FIELD_OFFICES)
        == (
            "ATL BAL BOS BUF CHI DAL DEN DET ELP HOU LOS MIA NEW NOL NYC PHI PHO SEA SFR SLC SNA "
            "SND SPM WAS"
        ).split()
    )
    assert set(COVERS) == set(FIELD_OFFICES)
    assert all(COVERS.values())


def test_every_state_dc_and_the_territories_are_in_exactly_one_area() -> None:
    assert len(STATES) == 50
    assert set(STATES) | {"DC", "PR", "VI", "GU", "MP"} == set(OFFICE_OF_STATE)
    covered = [state for office in FIELD_OFFICES for state in states_of_area(office)]
    assert sorted(covered) == sorted(OFFICE_OF_STATE)  # no state in two areas


def test_a_split_state_goes_to_its_default_office() -> None:
    shared = {s for s in OFFICE_OF_STATE if sum(s in c for c in COVERS.values()) > 1}
    assert shared == set(SPLIT_STATES) == {"TX", "CA", "NY"}
    assert (area_of_state("TX"), area_of_state("CA"), area_of_state("NY")) == (
        "HOU", "LOS", "NYC",
    )  # fmt: skip
    for state, office in SPLIT_STATES.items():
        assert state in COVERS[office]
    assert "TX" in states_of_area("HOU") and "TX" not in states_of_area("DAL")
    assert states_of_area("DAL") == ("OK",)
    # offices that hold only parts of split states have no jurisdiction by default
    assert states_of_area("BUF") == states_of_area("SNA") == states_of_area("SND") == ()


def test_areas_of_single_states() -> None:
    assert area_of_state("NV") == "SLC" and states_of_area("SLC") == ("ID", "MT", "NV", "UT")
    assert area_of_state("MN") == "SPM" and area_of_state("DC") == "WAS"
    assert area_of_state("ZZ") is None and states_of_area("ZZZ") == ()


def test_an_ero_agency_needs_a_field_office_as_its_area() -> None:
    scopes = DEFAULT_SCOPES[AgencyKind.ERO]
    check_agency_fields("ero-slc", AgencyKind.ERO, "SLC", scopes)
    with pytest.raises(InvalidAgency, match="no ERO field office"):
        check_agency_fields("ero-xyz", AgencyKind.ERO, "XYZ", scopes)
    with pytest.raises(InvalidAgency, match="malformed"):
        check_agency_fields("ero-x", AgencyKind.ERO, "slc", scopes)


def test_ice_scopes_go_to_lesc_and_ero_only() -> None:
    lesc, ero = set(DEFAULT_SCOPES[AgencyKind.LESC]), set(DEFAULT_SCOPES[AgencyKind.ERO])
    assert {"scomm.iaq.read", "scomm.iar.read"} <= lesc
    assert {"scomm.match.read", "scomm.decision.read", "scomm.decision.write"} <= ero
    ice = {"scomm.iaq.read", "scomm.iar.read", "scomm.match.read", "scomm.decision.read",
           "scomm.decision.write"}  # fmt: skip
    for kind, scopes in DEFAULT_SCOPES.items():
        if kind not in (AgencyKind.LESC, AgencyKind.ERO):
            assert not ice & set(scopes), kind
    assert "scomm.decision.write" not in lesc and "scomm.iaq.read" not in ero
