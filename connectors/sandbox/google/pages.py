"""Opaque page and sync tokens: small JSON states, base64url without padding."""

from __future__ import annotations

import base64
import binascii
import json

from keepwarm.connectors.sandbox.google.errors import bad_request

__all__ = ["decode_token", "encode_token", "int_param"]


def encode_token(state: dict[str, object]) -> str:
    """An opaque token carrying `state`."""
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, object] | None:
    """The state of a token made by `encode_token`; None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return state if isinstance(state, dict) else None


def int_param(value: str | None, name: str, *, default: int, maximum: int) -> int:
    """A positive integer query parameter, capped at `maximum` as Google caps page sizes.

    Raises ApiError 400 for a value that is not a positive integer.
    """
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"Invalid value '{value}' for {name}") from None
    if number < 1:
        raise bad_request(f"Invalid value '{value}' for {name}")
    return min(number, maximum)
