"""Callbacks (OSIA's asynchrony): where an agency's task results are POSTed, which hosts they
may go to, how they are signed, and the task status that their delivery gives.

An operator allows an agency the hosts its callbacks may reach (`allowed_hosts`), and names
the few of them that may resolve to private, loopback or link-local addresses
(`private_hosts`, a test receiver on 127.0.0.1 or a jail's own network); the URL itself may
be set by the agency, and is checked against that list. A callback is signed with HMAC-SHA256
over `timestamp + "." + body` with the agency's callback secret (`signature`): the server
keeps that secret (HMAC needs the key on both sides), unlike the client secret, which it
keeps only as a hash.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit

from scomm.domain.errors import DomainError
from scomm.domain.messages import DeliveryStatus

SIGNATURE_VERSION = "v1"
TIMESTAMP_HEADER = "X-Scomm-Timestamp"
SIGNATURE_HEADER = "X-Scomm-Signature"
DELIVERY_HEADER = "X-Scomm-Delivery"  # the delivery's id: a receiver deduplicates on it
TASK_HEADER = "X-Scomm-Task"
MAX_URL = 2048
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


class TaskStatus(StrEnum):
    """A task's status as OSIA names it."""

    PENDING = "PENDING"  # no response yet
    RESPONSE_SCHEDULED = "RESPONSE_SCHEDULED"  # the response is queued for the callback
    RESPONSE_RETRY = "RESPONSE_RETRY"  # a callback attempt failed; another is due
    RESPONSE_ERROR = "RESPONSE_ERROR"  # every attempt failed (redeliver queues it again)
    COMPLETED = "COMPLETED"  # the response exists (and, with a callback, was delivered)


class CallbackRefused(DomainError, ValueError):
    """A callback URL or host that may not be used: not http(s), with user information, a
    host not on the agency's allow-list, or an address it may not reach."""


@dataclass(frozen=True)
class CallbackRegistration:
    """An agency's callback: its URL (None until one is set), the hosts it may name, those
    of them allowed private addresses, and the signing secret (never shown in a repr)."""

    client_id: str
    url: str | None
    allowed_hosts: tuple[str, ...]
    private_hosts: tuple[str, ...]
    secret: str = field(repr=False)
    updated_at: datetime


@dataclass(frozen=True)
class Target:
    """Where a callback goes: a checked URL, split."""

    scheme: str  # "http" or "https"
    host: str  # lower case, as on the allow-list
    port: int
    path: str  # path and query, at least "/"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"


def normal_host(host: str) -> str:
    """A host name as the allow-list keeps it (lower case, no trailing dot), or an IP
    address in its compressed form; CallbackRefused for anything else."""
    name = host.strip().lower().removesuffix(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if not HOST.fullmatch(name):
        raise CallbackRefused(f"{host[:80]!r} is not a host name")
    return name


def check_url(url: str, allowed_hosts: tuple[str, ...]) -> Target:
    """The callback target of `url`, if an agency allowed `allowed_hosts` may use it."""
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise CallbackRefused("a callback URL is at most 2048 characters, without spaces")
    try:
        parts: SplitResult = urlsplit(url)
    except ValueError as error:  # "http://[::1/": an unclosed IPv6 literal
        raise CallbackRefused(f"a callback URL that cannot be read: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise CallbackRefused(f"a callback URL is http or https, not {scheme or 'none'!r}")
    if "@" in parts.netloc:
        raise CallbackRefused("a callback URL carries no user information")
    if not parts.hostname:
        raise CallbackRefused("a callback URL names its host")
    host = normal_host(parts.hostname)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise CallbackRefused("a callback URL's port is 1-65535") from error
    if host not in allowed_hosts:
        raise CallbackRefused(f"host {host!r} is not on the agency's callback allow-list")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path)


def address_refused(address: str, private_allowed: bool) -> str | None:
    """Why a callback may not go to IP `address` (None when it may): only public unicast
    addresses, unless the host is allowed private ones (then still never unspecified or
    multicast)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return f"{ip} is not a unicast address"
    if not ip.is_global and not private_allowed:
        return f"{ip} is a private, loopback, link-local or reserved address"
    return None


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256, keyed with `secret`, of `timestamp` "." `body`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def signature_holds(secret: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether `header` is the signature of `timestamp` and `body` (in constant time)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header.strip())


def task_status(has_response: bool, delivery: tuple[str, int, str | None] | None) -> TaskStatus:
    """A task's status from whether its response exists and its latest callback delivery
    (outbox status, attempts, last error; None when none was queued)."""
    if delivery is None:
        return TaskStatus.COMPLETED if has_response else TaskStatus.PENDING
    status, attempts, last_error = delivery
    if status == DeliveryStatus.DELIVERED.value:
        return TaskStatus.COMPLETED
    if status == DeliveryStatus.DEAD.value:
        return TaskStatus.RESPONSE_ERROR
    if attempts > 0 and last_error is not None:
        return TaskStatus.RESPONSE_RETRY
    return TaskStatus.RESPONSE_SCHEDULED
