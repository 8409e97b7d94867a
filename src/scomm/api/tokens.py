"""Short-lived access tokens: JWTs signed with the service's Ed25519 key (JWS alg "Ed25519",
RFC 9864; EdDSA on Ed25519), each naming its key by `kid` so that keys can rotate.

A token carries `sub` (the client id), `scope` (space-separated, OAuth2), the agency's
`kind` and its `ori`, `state` or `area`, `iat`, `exp` (15 minutes) and `jti`."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

from scomm.api.errors import ApiKeyError, InvalidToken
from scomm.domain.agencies import Agency, AgencyKind

ALGORITHM = "Ed25519"
ISSUER = "scomm"
TOKEN_LIFETIME = timedelta(minutes=15)
TOKEN_SECONDS = int(TOKEN_LIFETIME.total_seconds())
KEY_FILE = "api-key.pem"  # beside a SQLite database, when no SCOMM_API_KEY names one
PREVIOUS = ".previous-"  # api-key.previous-<kid>.pem: the public key of a key rotated out


@dataclass(frozen=True)
class Principal:
    """Who a valid token says is calling."""

    client_id: str
    kind: AgencyKind
    scopes: frozenset[str]
    scope_value: str | None

    @property
    def ori(self) -> str | None:
        return self.scope_value if self.kind is AgencyKind.JAIL else None


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip


class TokenKeys:
    """The key that signs new tokens, and the public keys that tokens may be verified with
    (the signing key's, and those of keys rotated out while their tokens may still live)."""

    def __init__(
        self,
        signing: Ed25519PrivateKey,
        previous: Sequence[Ed25519PublicKey] = (),
        retired_at: Sequence[float] = (),
    ) -> None:
        self.public_key = signing.public_key()
        self.kid = key_id(self.public_key)
        # kid of a key rotated out -> when (seconds since the epoch): it verifies only the
        # tokens it signed before then, and only for a token's lifetime after
        self.retired = {key_id(key): at for key, at in zip(previous, retired_at, strict=False)}
        self._signing = OKPKey.import_key(_pem(signing), {"kid": self.kid})
        verifying = [
            OKPKey.import_key(
                key.public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                ),
                {"kid": key_id(key)},
            )
            for key in previous
        ]
        self._verifying = KeySet([self._signing, *verifying])

    @classmethod
    def generate(cls) -> TokenKeys:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_file(cls, path: Path, *, create: bool = False) -> TokenKeys:
        """The key in the PEM file at `path`; with `create`, a new one written there (mode
        0600) when there is none."""
        if create and not path.exists():
            key = Ed25519PrivateKey.generate()
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.fchmod(descriptor, 0o600)
                os.write(descriptor, _pem(key))
            finally:
                os.close(descriptor)
            return cls(key)
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as error:
            raise ApiKeyError(f"API signing key {path}: {error.strerror}") from error
        except (ValueError, TypeError) as error:
            raise ApiKeyError(f"{path} is not an unencrypted PEM private key") from error
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ApiKeyError(f"{path} is not an Ed25519 key")
        kept = previous_keys(path)
        return cls(loaded, [_public(p) for p in kept], [p.stat().st_mtime for p in kept])

    def issue(self, agency: Agency, now: int) -> str:
        """A token for `agency`, issued at `now` (seconds since the epoch)."""
        claims: dict[str, object] = {
            "iss": ISSUER,
            "sub": agency.client_id,
            "kind": agency.kind.value,
            "scope": " ".join(agency.scopes),
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "jti": secrets.token_urlsafe(12),
        }
        for name in ("ori", "state", "area"):
            if (value := getattr(agency, name)) is not None:
                claims[name] = value
        return jwt.encode(
            {"alg": ALGORITHM, "kid": self.kid}, claims, self._signing, algorithms=[ALGORITHM]
        )

    def verify(self, token: str, now: int) -> Principal:
        """The principal of a valid token; InvalidToken otherwise."""
        try:
            decoded = jwt.decode(token, self._verifying, algorithms=[ALGORITHM])
            jwt.JWTClaimsRegistry(
                now=now,
                iss={"essential": True, "value": ISSUER},
                sub={"essential": True},
                exp={"essential": True},
                scope={"essential": True},
                kind={"essential": True},
            ).validate(decoded.claims)
            claims = decoded.claims
            retired = self.retired.get(str(decoded.header.get("kid", "")))
            if retired is not None and (
                not isinstance(claims.get("iat"), int)
                or claims["iat"] > retired
                or now > retired + TOKEN_SECONDS
            ):
                raise ValueError("signed by a key rotated out")
            kind = AgencyKind(claims["kind"])
            scopes = claims["scope"]
            value = next((claims[n] for n in ("ori", "state", "area") if n in claims), None)
            if not isinstance(scopes, str) or not isinstance(claims["sub"], str):
                raise ValueError("malformed claims")
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise InvalidToken(f"invalid token: {type(error).__name__}") from error
        return Principal(
            client_id=claims["sub"],
            kind=kind,
            scopes=frozenset(scopes.split()),
            scope_value=value if isinstance(value, str) else None,
        )


def previous_keys(path: Path) -> list[Path]:
    """The public keys of the keys rotated out of `path` (`rotate_key`), oldest first."""
    found = path.parent.glob(f"{path.stem}{PREVIOUS}*{path.suffix}")
    return sorted(found, key=lambda p: p.stat().st_mtime)


def _public(path: Path) -> Ed25519PublicKey:
    try:
        loaded = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise ApiKeyError(f"previous API key {path}: {error.strerror}") from error
    except ValueError as error:
        raise ApiKeyError(f"{path} is not a PEM public key") from error
    if not isinstance(loaded, Ed25519PublicKey):
        raise ApiKeyError(f"{path} is not an Ed25519 key")
    return loaded


def rotate_key(path: Path, now: float) -> tuple[str, str]:
    """Replace the signing key at `path` with a new one; the old key's public half stays
    beside it (`api-key.previous-<kid>.pem`) so that tokens it signed verify until they
    expire, and previous keys older than a token's lifetime are removed. Returns the old
    and the new kid. A running `scomm serve` takes the new key when it restarts."""
    old = TokenKeys.from_file(path)
    kept = path.with_name(f"{path.stem}{PREVIOUS}{old.kid}{path.suffix}")
    kept.write_bytes(
        old.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for stale in previous_keys(path):
        if stale != kept and now - stale.stat().st_mtime > TOKEN_SECONDS:
            stale.unlink()
    fresh = path.with_name(path.name + ".new")
    fresh.unlink(missing_ok=True)
    made = TokenKeys.from_file(fresh, create=True)
    fresh.replace(path)  # atomic: the key file is the old key or the new, never half of one
    return old.kid, made.kid
