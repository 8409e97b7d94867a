"""The authorisation table (issue 15, item 4): every /v1 route and method of the app, asked by
each kind of principal, answers the status that EXPECTED names. The routes come from
`app.routes`: a route that the table does not cover fails the test, so none can skip it."""

from __future__ import annotations

import os
from typing import Any

import pytest
from api_world import Served, add_principals, allow_callbacks, car, expect_a_match
from fastapi.routing import APIRoute

from scomm.api.transactions import task_id
from scomm.domain.ids import derived_id

POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")

# Who asks: the jail of the ORI in the path (and of the CAR), a jail of another ORI, the
# bureau of another state, an operator, no token at all, and a token without the route's
# scope (an auditor's: scomm.audit.read only).
PRINCIPALS = {
    "jail": "jail-a",
    "other_jail": "jail-b",
    "other_bureau": "bureau-other",
    "operator": "operator",
    "no_token": None,
    "no_scope": "auditor",
}

# (method, route path) -> principal -> expected status. The token endpoint takes client
# credentials, not a bearer token: without them (a form with no grant) it answers 400 to all.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("POST", "/v1/oauth/token"): dict.fromkeys(PRINCIPALS, 400),
    ("POST", "/v1/transactions"): {
        "jail": 202, "other_jail": 403, "other_bureau": 403, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    ("GET", "/v1/transactions/{tcn}"): {
        "jail": 200, "other_jail": 404, "other_bureau": 404, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    ("GET", "/v1/transactions/{tcn}/response"): {
        "jail": 200, "other_jail": 404, "other_bureau": 404, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    ("GET", "/v1/jurisdictions/{ori}/switches"): {
        "jail": 200, "other_jail": 404, "other_bureau": 404, "operator": 200,
        "no_token": 401, "no_scope": 403,
    },
    ("PUT", "/v1/jurisdictions/{ori}/switches/{switch}"): {
        "jail": 200, "other_jail": 404, "other_bureau": 403, "operator": 200,
        "no_token": 401, "no_scope": 403,
    },
    # an agency's own callback ("me"): the other jail has no host allowed, so its URL is refused
    ("GET", "/v1/agencies/me/callback"): {
        "jail": 200, "other_jail": 200, "other_bureau": 403, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    ("PUT", "/v1/agencies/me/callback"): {
        "jail": 200, "other_jail": 422, "other_bureau": 403, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    ("GET", "/v1/tasks/{task_id}"): {
        "jail": 200, "other_jail": 404, "other_bureau": 404, "operator": 404,
        "no_token": 401, "no_scope": 403,
    },
    # the jail's callback failed every attempt during the flow: a redelivery is queued
    ("POST", "/v1/tasks/{task_id}/redeliver"): {
        "jail": 202, "other_jail": 404, "other_bureau": 403, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    # the jail's side of its bookings (scomm.api.jail): reads need scomm.transaction.read, a
    # bureau reads its state's only; reports need scomm.booking.write (jails only)
    ("GET", "/v1/bookings/{tcn}"): {
        "jail": 200, "other_jail": 404, "other_bureau": 404, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    ("GET", "/v1/bookings/{tcn}/responses"): {
        "jail": 200, "other_jail": 404, "other_bureau": 404, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    ("GET", "/v1/bookings/{tcn}/responses/{message_id}"): {
        "jail": 200, "other_jail": 404, "other_bureau": 404, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    ("POST", "/v1/bookings/{tcn}/dispositions"): {
        "jail": 202, "other_jail": 404, "other_bureau": 403, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    # the flow ran to its end before (its release timer at 72 h released the person): the
    # jail's report passes authorisation and is refused as coming too late
    ("POST", "/v1/bookings/{tcn}/release"): {
        "jail": 409, "other_jail": 404, "other_bureau": 403, "operator": 403,
        "no_token": 401, "no_scope": 403,
    },
    # the audit log (scomm.api.audit): scomm.audit.read, which auditors ("no_scope" is one)
    # and operators hold
    ("GET", "/v1/audit/entries"): {
        "jail": 403, "other_jail": 403, "other_bureau": 403, "operator": 200,
        "no_token": 401, "no_scope": 200,
    },
    ("GET", "/v1/audit/verify"): {
        "jail": 403, "other_jail": 403, "other_bureau": 403, "operator": 200,
        "no_token": 401, "no_scope": 200,
    },
}  # fmt: skip

# ICE (issue 15 items 2 and 4): LESC (sees every case), the ERO field office whose area of
# responsibility holds the jail of the CAR ("ero"), and another area's office. The CAR's
# subject matches in IDENT (`expect_a_match`), so LESC has its IAQ and IAR, and the
# simulated officer lodges a detainer; the world runs without officer review, so a person's
# decision answers 409 (tests/api/test_ero_endpoints.py decides one).
ICE_PRINCIPALS = {"lesc": "lesc", "ero": "ero-own", "other_ero": "ero-other"}
PRINCIPALS.update(ICE_PRINCIPALS)
EXPECTED[("POST", "/v1/oauth/token")].update(dict.fromkeys(ICE_PRINCIPALS, 400))
for _route, _answers in {
    ("POST", "/v1/transactions"): (403, 403, 403),
    ("GET", "/v1/transactions/{tcn}"): (200, 404, 404),
    ("GET", "/v1/transactions/{tcn}/response"): (200, 404, 404),
    ("GET", "/v1/jurisdictions/{ori}/switches"): (403, 403, 403),
    ("PUT", "/v1/jurisdictions/{ori}/switches/{switch}"): (403, 403, 403),
    ("GET", "/v1/agencies/me/callback"): (403, 403, 403),
    ("PUT", "/v1/agencies/me/callback"): (403, 403, 403),
    ("GET", "/v1/tasks/{task_id}"): (200, 404, 404),
    ("POST", "/v1/tasks/{task_id}/redeliver"): (403, 403, 403),
    ("GET", "/v1/bookings/{tcn}"): (404, 404, 404),
    ("GET", "/v1/bookings/{tcn}/responses"): (404, 404, 404),
    ("GET", "/v1/bookings/{tcn}/responses/{message_id}"): (404, 404, 404),
    ("POST", "/v1/bookings/{tcn}/dispositions"): (403, 403, 403),
    ("POST", "/v1/bookings/{tcn}/release"): (403, 403, 403),
    ("GET", "/v1/audit/entries"): (403, 403, 403),
    ("GET", "/v1/audit/verify"): (403, 403, 403),
}.items():
    EXPECTED[_route].update(zip(ICE_PRINCIPALS, _answers, strict=True))
_NOT_ICE = {
    "jail": 403,
    "other_jail": 403,
    "other_bureau": 403,
    "operator": 403,
    "no_token": 401,
    "no_scope": 403,
}
_LESC = {**_NOT_ICE, "lesc": 200, "ero": 403, "other_ero": 403}
_ERO_LIST = {**_NOT_ICE, "lesc": 403, "ero": 200, "other_ero": 200}  # another area's: empty
_ERO_ONE = {**_NOT_ICE, "lesc": 403, "ero": 200, "other_ero": 404}
EXPECTED.update({
    ("GET", "/v1/lesc/iaqs"): _LESC,
    ("GET", "/v1/lesc/iaqs/{case_id}"): _LESC,
    ("GET", "/v1/lesc/iars"): _LESC,
    ("GET", "/v1/lesc/iars/{case_id}"): _LESC,
    ("GET", "/v1/ero/matches"): _ERO_LIST,
    ("GET", "/v1/ero/matches/{case_id}"): _ERO_ONE,
    ("POST", "/v1/ero/matches/{case_id}/decision"): {**_ERO_ONE, "ero": 409},
    ("GET", "/v1/ero/decisions"): _ERO_LIST,
    ("GET", "/v1/ero/detainers"): _ERO_LIST,
    ("GET", "/v1/ero/detainers/{detainer_id}"): _ERO_ONE,
})  # fmt: skip


def ice_values(tcn: str) -> dict[str, str]:
    """The path values of ICE's routes: the CAR's case and the detainer lodged on it."""
    case_id = task_id(tcn)
    return {"case_id": case_id, "detainer_id": derived_id("det", case_id)}


ICE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/ero/matches/{case_id}/decision"): {
        "json": {"action": "no_action", "reason": "authorisation table", "officer": "t-1"},
    },
}


@pytest.fixture
def database_url(both_databases: str) -> str:
    return both_databases


def v1_routes(served: Served) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in served.client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith("/v1")
        for method in route.methods
    }


def test_every_v1_route_is_in_the_table_and_answers_each_principal_as_it_says(
    served: Served,
) -> None:
    add_principals(served)
    allow_callbacks(served)  # jail-a's callback URL: a closed port on loopback
    expect_a_match(served, conviction="AGGRAVATED ASSAULT")
    routes = v1_routes(served)
    assert routes == set(EXPECTED), "a /v1 route the authorisation table does not cover"
    raw, tcn, ori = car()
    assert ori == served.ori
    headers = {
        kind: {"Authorization": f"Bearer {served.token(client)}"} if client else {}
        for kind, client in PRINCIPALS.items()
    }
    values = {"tcn": tcn, "ori": ori, "switch": "D", "task_id": task_id(tcn), **ice_values(tcn)}
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/v1/transactions"): {
            "content": raw, "headers": {"Content-Type": "application/x-ansi-nist"},
        },
        ("PUT", "/v1/jurisdictions/{ori}/switches/{switch}"): {
            "json": {"enabled": True, "reason": "authorisation table"},
        },
        ("PUT", "/v1/agencies/me/callback"): {"json": {"url": "http://127.0.0.1:9/again"}},
        **ICE_BODIES,
        ("POST", "/v1/bookings/{tcn}/dispositions"): {"json": {"outcome": "convicted"}},
    }  # fmt: skip
    # the submissions first: the reads then find the CAR booked and its SRE delivered
    order = sorted(EXPECTED, key=lambda route: (route[1] != "/v1/transactions", route))
    seen: dict[tuple[str, str], dict[str, int]] = {}
    for method, route in order:
        url = route.format(**values)
        for kind in PRINCIPALS:
            extra = dict(bodies.get((method, route), {}))
            request_headers = {**headers[kind], **extra.pop("headers", {})}
            answer = served.client.request(method, url, headers=request_headers, **extra)
            seen.setdefault((method, route), {})[kind] = answer.status_code
            if answer.status_code >= 400:
                assert answer.headers["content-type"] == "application/problem+json"
        if route == "/v1/transactions":
            served.system.run_until(None)  # SIB, CJIS, and the SRE back to the jail
            got = served.client.get(f"/v1/bookings/{tcn}/responses", headers=headers["jail"])
            values["message_id"] = got.json()["responses"][0]["id"]  # the SRE's
    assert seen == EXPECTED


# The routes outside /v1, each exempt from the table above by name, with the reason. The
# published statistics pages (scomm.api.public) are public by design, the public role with no
# login: aggregates under disclosure control and case tables without personal data, published
# deliberately by an operator (`scomm stats site --out $SCOMM_PUBLIC_DIR`); GET only.
PUBLIC_PAGES = "public statistics pages: no personal data, under disclosure control"
EXEMPT: dict[tuple[str, str], str] = {
    ("GET", "/public/"): PUBLIC_PAGES,
    ("GET", "/public/{path:path}"): PUBLIC_PAGES,
}


def test_every_route_outside_v1_is_exempt_by_name_and_answers_every_principal_alike(
    served: Served,
) -> None:
    add_principals(served)
    others = {
        (method, route.path)
        for route in served.client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and not route.path.startswith("/v1")
        for method in route.methods
    }
    assert others == set(EXEMPT), "a route outside /v1 that is neither in the table nor exempt"
    for _, route in sorted(EXEMPT):
        url = route.replace("{path:path}", "index.html")
        seen = {
            kind: served.client.get(
                url, headers={"Authorization": f"Bearer {served.token(client)}"} if client else {}
            ).status_code
            for kind, client in PRINCIPALS.items()
        }
        assert seen == dict.fromkeys(PRINCIPALS, 404)  # nothing published in this world
