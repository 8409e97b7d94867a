import pytest
from hypothesis import given
from hypothesis import strategies as st

from scomm.domain.case import (
    CASE_TRANSITIONS,
    CaseState,
    CustodyState,
    InvalidTransition,
    is_final,
    next_case_state,
    next_custody_state,
)


def test_happy_path_to_a_detainer() -> None:
    state = CaseState.BOOKED
    for new in (
        CaseState.CRIMINAL_SEARCHED,
        CaseState.IDENT_MATCH,
        CaseState.IAQ_SENT,
        CaseState.IAR_RETURNED,
        CaseState.DETAINER_LODGED,
    ):
        state = next_case_state(state, new)
    assert state is CaseState.DETAINER_LODGED
    assert not is_final(state)  # a transfer to ICE takes it on


@pytest.mark.parametrize(
    "path",
    [
        ("ice_custody", "released_on_bond"),
        ("ice_custody", "removal_ordered", "removed"),
        ("ice_custody", "in_proceedings", "removal_ordered", "removed"),
        ("ice_custody", "in_proceedings", "relief_granted"),
        ("ice_custody", "in_proceedings", "terminated"),
        ("ice_custody", "removal_ordered", "terminated"),
    ],
)
def test_after_the_transfer_to_ice_every_path_ends(path: tuple[str, ...]) -> None:
    state = CaseState.DETAINER_LODGED
    for new in path:
        state = next_case_state(state, CaseState(new))
    assert is_final(state)


def test_no_removal_without_an_order() -> None:
    with pytest.raises(InvalidTransition, match="in_proceedings.*removed"):
        next_case_state(CaseState.IN_PROCEEDINGS, CaseState.REMOVED)
    with pytest.raises(InvalidTransition):
        next_case_state(CaseState.NO_ACTION, CaseState.ICE_CUSTODY)


def test_cannot_skip_the_immigration_query() -> None:
    with pytest.raises(InvalidTransition, match="ident_match.*iar_returned"):
        next_case_state(CaseState.IDENT_MATCH, CaseState.IAR_RETURNED)


def test_released_person_cannot_be_held() -> None:
    with pytest.raises(InvalidTransition):
        next_custody_state(CustodyState.RELEASED, CustodyState.HELD_ON_DETAINER)
    assert (
        next_custody_state(CustodyState.HELD_ON_DETAINER, CustodyState.TRANSFERRED_TO_ICE)
        is CustodyState.TRANSFERRED_TO_ICE
    )


@given(st.lists(st.sampled_from(list(CaseState)), max_size=12))
def test_any_sequence_follows_the_table_or_is_refused(moves: list[CaseState]) -> None:
    state = CaseState.BOOKED
    for new in moves:
        allowed = new in CASE_TRANSITIONS.get(state, frozenset())
        try:
            state = next_case_state(state, new)
            assert allowed
        except InvalidTransition:
            assert not allowed
    assert state in CaseState
