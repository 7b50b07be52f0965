"""OpenID Connect: who signed in, from the ID token a provider's token endpoint returned.

The ID token comes straight from the token endpoint over TLS in the authorization-code flow
with a confidential client, so its signature need not be checked (OpenID Connect Core 1.0,
3.1.3.7, item 6: TLS server validation may stand in for it); its issuer, audience and expiry
are. Any provider's connector can use this.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from keepwarm.connectors.errors import ConsentRefused

__all__ = ["IdClaims", "id_token_claims"]

# Clocks differ a little between us and the provider.
LEEWAY_SECONDS = 300


@dataclass(frozen=True, slots=True)
class IdClaims:
    """The claims keepwarm uses: the stable subject, and the address and name if given."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def _segment(part: str) -> dict[str, Any]:
    padded = part + "=" * (-len(part) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as exc:
        raise ConsentRefused("the provider's ID token could not be read") from exc
    if not isinstance(value, dict):
        raise ConsentRefused("the provider's ID token could not be read")
    return value


def id_token_claims(
    token: str, *, audience: str, issuers: Collection[str], now: float | None = None
) -> IdClaims:
    """The claims of `token` once its issuer, audience and lifetime check out.

    Raises ConsentRefused when the token is malformed, from another issuer, for another client
    or expired: a sign-in must not go ahead on it.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ConsentRefused("the provider's ID token could not be read")
    claims = _segment(parts[1])
    moment = time.time() if now is None else now
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if claims.get("iss") not in issuers:
        raise ConsentRefused(f"the ID token is from an unexpected issuer {claims.get('iss')!r}")
    if audience not in audiences:
        raise ConsentRefused("the ID token was issued to another client")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp + LEEWAY_SECONDS < moment:
        raise ConsentRefused("the ID token has expired")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise ConsentRefused("the ID token names no subject")
    email = claims.get("email")
    name = claims.get("name")
    return IdClaims(
        subject,
        email.lower() if isinstance(email, str) else None,
        claims.get("email_verified") is True,
        name if isinstance(name, str) else None,
    )
