"""Turning the addresses written in headers into the keys people are stored under."""

from __future__ import annotations

import unicodedata

__all__ = ["normalize_address"]


def normalize_address(raw: str) -> str | None:
    """Return the comparable form of an address, or None when it is not an address at all.

    Addresses are compared case-insensitively (every provider we read treats them so) and in
    Unicode NFC, so the same mailbox typed two ways is one key.
    """
    address = unicodedata.normalize("NFC", raw.strip().strip("<>").strip()).lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or " " in address:
        return None
    return address
