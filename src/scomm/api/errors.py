"""ApiError: the family of errors the HTTP interface raises (see scomm.errors)."""

from __future__ import annotations

from typing import Any

from scomm.errors import ScommError


class ApiError(ScommError):
    """Something the service refuses or cannot do for a request."""


class Problem(ApiError):
    """An answer as `application/problem+json` (RFC 9457): an HTTP status, a short title,
    the detail, and members of its own (`errt`, `error`)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        headers: dict[str, str] | None = None,
        **members: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.members = members


class InvalidToken(ApiError):
    """A bearer token that is malformed, not signed by a key of this service, or expired."""


class ApiKeyError(ApiError):
    """The service's token signing key cannot be read or made."""


class AcceptorStartError(ApiError):
    """An acceptor process of `scomm serve --acceptors N` started without the settings of
    the process that starts them."""
