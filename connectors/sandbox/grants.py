"""Token bookkeeping both sandboxes' OAuth servers share: codes, refresh and access tokens.

What the identity providers say and decide (error names, which token a refresh returns, how a
grant dies) stays in each provider's `grants` module; this is the part that is the same: the
stores of codes and tokens, access tokens with an expiry on the sandbox's clock, finding every
grant of the user, and checking a PKCE verifier. Not thread-safe: the app locks around it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar

__all__ = ["AccessToken", "LiveGrant", "TokenBook", "pkce_matches"]


class LiveGrant(Protocol):
    """A provider's grant, as the book sees it."""

    @property
    def alive(self) -> bool:
        """False once the grant is revoked or has died."""
        ...


G = TypeVar("G", bound=LiveGrant)
C = TypeVar("C")
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class AccessToken(Generic[G]):
    """A bearer token: its grant, its scopes and its expiry (sandbox clock)."""

    token: str
    grant: G
    scopes: frozenset[str]
    expires_at: float


class TokenBook(Generic[G, C, S]):
    """The authorization codes (`C`, a provider's code entry), refresh and access tokens of the
    sandbox's user, and the clients seen at the token endpoint with the secret (`S`) each
    presented. A subclass names its access tokens' shape: `access_prefix` and
    `access_bytes` random bytes (base64url). An access token lives for `access_lifetime`
    seconds of `clock`."""

    access_prefix: ClassVar[str]
    access_bytes: ClassVar[int]

    def __init__(
        self, user: str, *, clock: Callable[[], float], access_lifetime: float = 3600.0
    ) -> None:
        self.user = user
        self.access_lifetime = access_lifetime
        self._clock = clock
        self.clients: dict[str, S] = {}  # client id -> the secret it presented
        self._codes: dict[str, C] = {}
        self._refresh: dict[str, G] = {}
        self._access: dict[str, AccessToken[G]] = {}

    def authenticate(self, token: str) -> AccessToken[G] | None:
        """The live access token `token`; None when unknown, expired or its grant is dead."""
        access = self._access.get(token)
        if access is None or not access.grant.alive or self._clock() >= access.expires_at:
            return None
        return access

    def _every_grant(self) -> Iterator[G]:
        """The grant behind every refresh token, then behind every access token."""
        yield from self._refresh.values()
        for access in self._access.values():
            yield access.grant

    def _new_access(self, grant: G, scopes: frozenset[str]) -> AccessToken[G]:
        token = self.access_prefix + secrets.token_urlsafe(self.access_bytes)
        access = AccessToken(token, grant, scopes, self._clock() + self.access_lifetime)
        self._access[token] = access
        return access


def pkce_matches(verifier: str, challenge: str) -> bool:
    """Whether `verifier` hashes to `challenge` (PKCE S256: base64url of SHA-256, unpadded)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return hmac.compare_digest(expected, challenge)
