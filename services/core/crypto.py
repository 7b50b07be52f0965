"""Encrypting OAuth tokens at rest (Fernet: AES-128-CBC with HMAC-SHA256)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from keepwarm.services.core.errors import AppError

__all__ = ["TokenCipher", "TokenKeyError"]


class TokenKeyError(AppError):
    """Raised when a key (the token key, the link secret, a key file) is missing, empty,
    short or malformed, or cannot open stored tokens; the message names the setting or file."""


class TokenCipher:
    """Seals token dictionaries for storage and opens them again."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise TokenKeyError(
                "KEEPWARM_TOKEN_KEY is not a Fernet key (32 url-safe base64 bytes)"
            ) from None

    @staticmethod
    def generate_key() -> str:
        """A fresh key, for a throwaway deployment such as the demo."""
        return Fernet.generate_key().decode()

    def seal(self, tokens: dict[str, Any]) -> str:
        """Encrypt `tokens` into a string safe to store."""
        return self._fernet.encrypt(json.dumps(tokens, sort_keys=True).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        """Decrypt what `seal` produced; raises TokenKeyError when the key does not fit."""
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise TokenKeyError(
                "stored tokens cannot be opened with this KEEPWARM_TOKEN_KEY"
            ) from None
        if not isinstance(data, dict):
            raise TokenKeyError("stored tokens are damaged")
        return data
