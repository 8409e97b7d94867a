"""Repositories: each actor's records behind a small typed interface, in SQL here and in
memory in the handler tests (`tests/services/fakes.py`).

Who owns what: the jail its bookings; CJIS its submissions and the criminal repository's
identities; IDENT the immigration repository's identities; LESC its USCIS look-up (the
benefit records); ICE and the jail the detainer record (ICE lodges it, the jail answers
on it) and ICE its officer decisions. The case file, the ORI directory (jurisdictions)
and the switch settings are the flow's shared records.
"""

from scomm.store.repositories.benefits import Benefits, SqlBenefits
from scomm.store.repositories.bookings import Bookings, SqlBookings
from scomm.store.repositories.detainers import (
    Detainers,
    OfficerDecisions,
    SqlDetainers,
    SqlOfficerDecisions,
)
from scomm.store.repositories.identities import Identities, SqlIdentities
from scomm.store.repositories.shared import (
    Cases,
    Jurisdictions,
    SqlCases,
    SqlJurisdictions,
    SqlSwitchSettings,
    SwitchSettings,
)
from scomm.store.repositories.submissions import CriminalSubmissions, SqlCriminalSubmissions

__all__ = [
    "Benefits",
    "Bookings",
    "Cases",
    "CriminalSubmissions",
    "Detainers",
    "Identities",
    "Jurisdictions",
    "OfficerDecisions",
    "SqlBenefits",
    "SqlBookings",
    "SqlCases",
    "SqlCriminalSubmissions",
    "SqlDetainers",
    "SqlIdentities",
    "SqlJurisdictions",
    "SqlOfficerDecisions",
    "SqlSwitchSettings",
    "SwitchSettings",
]
