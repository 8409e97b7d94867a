"""The public pages at /public/: the published statistics release, read by anyone without a
login (the public role). They are the static files `scomm stats site --out $SCOMM_PUBLIC_DIR`
wrote: aggregates under disclosure control and case tables without names, no personal data.
Publishing is an operator's deliberate act; the service never computes a statistic on a
request, it only serves the folder (GET only; nothing outside the folder: a path with `..`,
an absolute path or one that leaves the folder through a link answers 404). Public reads are
not written to the audit chain (docs/CJIS.md says why)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse

from scomm.api.common import service_of
from scomm.api.errors import Problem

PUBLIC = "/public"
NOT_PUBLISHED = "no statistics release is published here (SCOMM_PUBLIC_DIR is not set or empty)"
HEADERS = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}


def published_file(root: Path, path: str) -> Path | None:
    """The file under `root` that `path` (as the URL gives it, decoded) names, or None: a
    folder gives its index.html; `..`, an absolute path, a backslash or a NUL give None, and
    so does anything that resolves outside `root` (a symbolic link out of it)."""
    if "\\" in path or "\x00" in path:
        return None
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    base = root.resolve()
    candidate = (base / relative).resolve()
    if candidate != base and base not in candidate.parents:
        return None
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def add_public_routes(app: FastAPI) -> None:
    """GET /public/ and /public/{path}: the published pages and downloads, without a token."""

    def serve(request: Request, path: str) -> FileResponse:
        root = service_of(request).system.settings.public_dir
        if root is None or not (root / "index.html").is_file():
            raise Problem(404, "not found", NOT_PUBLISHED)
        found = published_file(root, path)
        if found is None:
            raise Problem(404, "not found", "no such file in the published release")
        return FileResponse(found, headers=HEADERS)

    @app.get(PUBLIC + "/", tags=["public"], include_in_schema=True)
    def public_index(request: Request) -> FileResponse:
        """The published release's index page."""
        return serve(request, "")

    @app.get(PUBLIC + "/{path:path}", tags=["public"])
    def public_file(request: Request, path: str) -> FileResponse:
        """A page, data file or download of the published release."""
        return serve(request, path)
