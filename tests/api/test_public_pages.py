"""The public pages over HTTP (scomm.api.public): the published folder, read without a token,
GET only, nothing outside the folder, nothing written to the audit chain."""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from pathlib import Path

import pytest
from api_world import Served
from sqlalchemy import func, select

from scomm.api.public import published_file
from scomm.reports.site import write_site
from scomm.store.models import AuditEntryRow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reports"))
from public_release import write_release  # noqa: E402

SECRET = "the secret beside the published folder"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release and its pages in <tmp>/public, a secret file beside that folder and a link
    inside it pointing out of it."""
    folder = tmp_path_factory.mktemp("published")
    write_release(folder / "release")
    write_site(folder / "release", folder / "public")
    (folder / "outside.txt").write_text(SECRET)
    (folder / "public" / "escape.txt").symlink_to(folder / "outside.txt")
    return folder / "public"


def publish(served: Served, folder: Path | None) -> None:
    served.system.settings = dataclasses.replace(served.system.settings, public_dir=folder)


def _audit_entries(served: Served) -> int:
    with served.system.db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntryRow)) or 0)


def test_without_a_published_release_the_public_pages_answer_404_saying_so(
    served: Served, tmp_path: Path
) -> None:
    for folder in (None, tmp_path):  # unset, or a folder with no pages in it
        publish(served, folder)
        for url in ("/public/", "/public/index.html"):
            answer = served.client.get(url)
            assert answer.status_code == 404
            assert answer.headers["content-type"] == "application/problem+json"
            assert "no statistics release is published" in answer.json()["detail"]


def test_anyone_reads_the_published_pages_and_downloads_and_no_read_is_audited(
    served: Served, published: Path
) -> None:
    publish(served, published)
    before = _audit_entries(served)
    index = served.client.get("/public/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert index.text == (published / "index.html").read_text()
    assert served.client.get("/public/drilldown.html").text.count("state-list") == 1
    data = served.client.get("/public/data/release.js")
    assert data.status_code == 200 and data.text.startswith("window.SCOMM = ")
    assert "javascript" in data.headers["content-type"]
    assert data.headers["x-content-type-options"] == "nosniff"
    download = served.client.get("/public/files/statistics/cells.json")
    assert download.status_code == 200
    cells = published.parent / "release" / "statistics" / "cells.json"
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(cells.read_bytes()).digest()
    assert served.client.get("/public/files/secret.key").status_code == 404  # never copied
    assert _audit_entries(served) == before  # public reads are not audit events


OUTSIDE = (
    "/public/..%2Foutside.txt",
    "/public/files/..%2F..%2Foutside.txt",
    "/public/%2E%2E/outside.txt",
    "/public/%2Fetc%2Fpasswd",
    "/public//etc/passwd",
    "/public/..%5Coutside.txt",
    "/public/escape.txt",  # a link inside the folder to a file outside it
    "/public/nothing-here.html",
)


def test_nothing_outside_the_published_folder_is_served(served: Served, published: Path) -> None:
    publish(served, published)
    for url in OUTSIDE:
        answer = served.client.get(url)
        assert answer.status_code == 404, url
        assert answer.headers["content-type"] == "application/problem+json"
        assert SECRET not in answer.text


def test_published_file_refuses_dot_dot_and_absolute_paths(published: Path) -> None:
    assert published_file(published, "index.html") == (published / "index.html").resolve()
    assert published_file(published, "") == (published / "index.html").resolve()
    outside = ("../outside.txt", "/etc/passwd", "files/../../outside.txt", "a\x00b", "escape.txt")
    for path in outside:
        assert published_file(published, path) is None, path


def test_the_public_pages_only_answer_get(served: Served, published: Path) -> None:
    publish(served, published)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        answer = served.client.request(method, "/public/index.html")
        assert answer.status_code == 405, method
        assert answer.headers["content-type"] == "application/problem+json"


def test_the_published_folder_is_the_setting_scomm_public_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scomm.config import load_settings

    monkeypatch.delenv("SCOMM_PUBLIC_DIR", raising=False)
    assert load_settings().public_dir is None
    monkeypatch.setenv("SCOMM_PUBLIC_DIR", str(tmp_path))
    assert load_settings().public_dir == tmp_path
