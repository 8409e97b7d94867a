"""The token signing key: rotated without cutting off live tokens, and a token that stops
counting the moment its agency is revoked."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from api_world import START, Served
from sqlalchemy import select
from typer.testing import CliRunner

from scomm.api.errors import InvalidToken
from scomm.api.tokens import TOKEN_SECONDS, TokenKeys, previous_keys, rotate_key
from scomm.cli import app
from scomm.services import agencies
from scomm.store.models import AuditEntryRow

runner = CliRunner()


def _jail(served: Served) -> agencies.Agency:
    found = agencies.find_agency(served.system.db, "jail-a")
    assert found is not None
    return found


def test_a_rotated_keys_tokens_verify_until_they_expire(served: Served, tmp_path: Path) -> None:
    path = tmp_path / "api-key.pem"
    before = TokenKeys.from_file(path, create=True)
    now = int(time.time())
    token = before.issue(_jail(served), now)
    old, new = rotate_key(path, now)
    after = TokenKeys.from_file(path)
    assert (old, new) == (before.kid, after.kid) and old != new
    assert after.verify(token, now + 60).client_id == "jail-a"  # the old key's token
    assert after.verify(after.issue(_jail(served), now), now).client_id == "jail-a"
    with pytest.raises(InvalidToken):
        after.verify(token, now + TOKEN_SECONDS + 1)  # expired all the same
    # a second rotation, a token's lifetime later, drops the first key: its tokens are dead
    (kept,) = previous_keys(path)
    os.utime(kept, (now - TOKEN_SECONDS - 10, now - TOKEN_SECONDS - 10))
    rotate_key(path, now)
    assert [p.name for p in previous_keys(path)] == [f"api-key.previous-{new}.pem"]
    with pytest.raises(InvalidToken):
        TokenKeys.from_file(path).verify(token, now + 60)


def test_keys_cli_shows_and_rotates_the_key_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scomm.db'}"
    first = TokenKeys.from_file(tmp_path / "api-key.pem", create=True).kid
    shown = runner.invoke(app, ["keys", "show", "-d", url])
    assert shown.exit_code == 0 and first in shown.output.replace("\n", "")
    rotated = runner.invoke(app, ["keys", "rotate", "-d", url])
    assert rotated.exit_code == 0, rotated.output
    assert TokenKeys.from_file(tmp_path / "api-key.pem").kid != first
    listed = runner.invoke(app, ["keys", "show", "-d", url]).output.replace("\n", "")
    assert f"api-key.previous-{first}.pem" in listed
    missing = runner.invoke(app, ["keys", "show", "-d", f"sqlite:///{tmp_path / 'x' / 'y.db'}"])
    assert missing.exit_code == 2 and "Traceback" not in missing.output


def test_a_revoked_agencys_live_token_is_refused_at_once(served: Served) -> None:
    headers = served.headers("jail-a")
    url = f"/v1/jurisdictions/{served.ori}/switches"
    assert served.client.get(url, headers=headers).status_code == 200
    agencies.revoke_agency(served.system.db, START, "jail-a")
    refused = served.client.get(url, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the agency is revoked or locked"
    assert _failed_authentications(served)[-1] == {
        "client_id": "jail-a", "remote": "testclient", "outcome": "agency-inactive",
    }  # fmt: skip


def test_every_refused_bearer_token_is_a_failed_authentication_in_the_chain(
    served: Served,
) -> None:
    """AU-2: a token that is malformed, expired or signed by another key is refused and
    written to the audit chain, with where it came from."""
    url = f"/v1/jurisdictions/{served.ori}/switches"
    for token in ("not.a.jwt", TokenKeys.generate().issue(_jail(served), int(time.time()))):
        answer = served.client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401
    assert (
        _failed_authentications(served)
        == [{"client_id": "", "remote": "testclient", "outcome": "invalid-token"}] * 2
    )


def _failed_authentications(served: Served) -> list[dict[str, object]]:
    with served.system.db.sessions() as session:
        rows = session.scalars(
            select(AuditEntryRow)
            .where(AuditEntryRow.kind == "access", AuditEntryRow.name == "AUTH_FAILED")
            .order_by(AuditEntryRow.seq)
        )
        return [json.loads(row.payload) for row in rows]


def test_the_token_endpoint_ignores_parameters_it_does_not_know(served: Served) -> None:
    """RFC 6749 3.2: unrecognised parameters are ignored (schemathesis found a form of 11
    fields refused as malformed)."""
    form = {f"extra{n}": str(n) for n in range(12)}
    form |= {"grant_type": "client_credentials", "client_id": "jail-a",
             "client_secret": served.secrets["jail-a"]}  # fmt: skip
    answer = served.client.post("/v1/oauth/token", data=form)
    assert answer.status_code == 200, answer.text
