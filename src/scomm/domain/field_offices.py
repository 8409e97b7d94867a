"""ICE ERO's field offices and their areas of responsibility (AOR): which office a
jurisdiction's match notifications go to, and so which ERO agency sees its cases.

Source: [M] from memory of ICE's "ERO Field Offices" page (ice.gov/contact/field-offices)
as it stood in the 2010s; neither DOMAIN.md nor SERVICE.md records the AORs (SERVICE.md §3
only says that ICE's detainer data carry an "area of responsibility" per facility). The 24
offices are named by the three-letter city codes ICE's own data use for them (ATL ... WAS).

The mapping is by state. Three states are split between offices by county: Texas (Dallas:
north; El Paso: west; Houston: south-east; San Antonio: central and south), California (Los
Angeles: the Los Angeles basin and central coast; San Diego: San Diego and Imperial
counties; San Francisco: the north) and New York (New York City: the city and the lower
Hudson valley; Buffalo: upstate). No county-level table is kept here, so each split state
has a default office, the one of its largest metropolitan caseload [I]: TX -> HOU, CA -> LOS,
NY -> NYC. Until a county table exists, BUF, SNA and SND are valid areas that hold no
jurisdiction by default.
"""

from __future__ import annotations

# The 24 ERO field offices: code -> seat [M].
FIELD_OFFICES: dict[str, str] = {
    "ATL": "Atlanta",
    "BAL": "Baltimore",
    "BOS": "Boston",
    "BUF": "Buffalo",
    "CHI": "Chicago",
    "DAL": "Dallas",
    "DEN": "Denver",
    "DET": "Detroit",
    "ELP": "El Paso",
    "HOU": "Houston",
    "LOS": "Los Angeles",
    "MIA": "Miami",
    "NEW": "Newark",
    "NOL": "New Orleans",
    "NYC": "New York City",
    "PHI": "Philadelphia",
    "PHO": "Phoenix",
    "SEA": "Seattle",
    "SFR": "San Francisco",
    "SLC": "Salt Lake City",
    "SNA": "San Antonio",
    "SND": "San Diego",
    "SPM": "St. Paul",
    "WAS": "Washington",
}

# Each office's states and territories (USPS codes) [M]; a split state is listed under
# every office that covers part of it (SPLIT_STATES names the default).
COVERS: dict[str, tuple[str, ...]] = {
    "ATL": ("GA", "NC", "SC"),
    "BAL": ("MD",),
    "BOS": ("CT", "MA", "ME", "NH", "RI", "VT"),
    "BUF": ("NY",),
    "CHI": ("IL", "IN", "KS", "KY", "MO", "WI"),
    "DAL": ("OK", "TX"),
    "DEN": ("CO", "WY"),
    "DET": ("MI", "OH"),
    "ELP": ("NM", "TX"),
    "HOU": ("TX",),
    "LOS": ("CA",),
    "MIA": ("FL", "PR", "VI"),
    "NEW": ("NJ",),
    "NOL": ("AL", "AR", "LA", "MS", "TN"),
    "NYC": ("NY",),
    "PHI": ("DE", "PA", "WV"),
    "PHO": ("AZ",),
    "SEA": ("AK", "OR", "WA"),
    "SFR": ("CA", "GU", "HI", "MP"),
    "SLC": ("ID", "MT", "NV", "UT"),
    "SNA": ("TX",),
    "SND": ("CA",),
    "SPM": ("IA", "MN", "ND", "NE", "SD"),
    "WAS": ("DC", "VA"),
}

# The default office of each state that several offices share [I: see the module note].
SPLIT_STATES: dict[str, str] = {"TX": "HOU", "CA": "LOS", "NY": "NYC"}


def _office_of_state() -> dict[str, str]:
    offices: dict[str, list[str]] = {}
    for office, states in COVERS.items():
        for state in states:
            offices.setdefault(state, []).append(office)
    return {
        state: SPLIT_STATES[state] if len(found) > 1 else found[0]
        for state, found in offices.items()
    }


# state -> the field office whose area it is in (its default office where it is split)
OFFICE_OF_STATE: dict[str, str] = _office_of_state()


def is_field_office(code: str) -> bool:
    return code in FIELD_OFFICES


def area_of_state(state: str) -> str | None:
    """The field office whose area of responsibility holds a jurisdiction of `state` (a
    split state's default office); None for a state no office covers."""
    return OFFICE_OF_STATE.get(state)


def states_of_area(area: str) -> tuple[str, ...]:
    """The states whose jurisdictions are in `area` (a split state only under its default
    office), sorted; () for an unknown area or one that holds only parts of split states."""
    return tuple(sorted(state for state, office in OFFICE_OF_STATE.items() if office == area))
