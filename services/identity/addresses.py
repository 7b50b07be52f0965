"""Turning the addresses and names written in headers into keys that identify people."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["PUBLIC_MAIL_DOMAINS", "identity_key", "normalize_address", "normalize_name"]

# Providers that ignore dots in the local part (Gmail only) and that deliver "user+tag" to
# "user" (documented subaddressing). Other domains may treat either as a different mailbox.
_DOTLESS = {"gmail.com", "googlemail.com"}
_PLUS = {
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
    "fastmail.fm",
    "proton.me",
    "protonmail.com",
    "pm.me",
}
# Mailbox providers anyone can sign up to: sharing one with the user says nothing about
# working with them, so these are never anyone's "own" domain.
PUBLIC_MAIL_DOMAINS = _PLUS | {
    "yahoo.com",
    "ymail.com",
    "aol.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "mail.com",
    "hey.com",
}
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_WORD = re.compile(r"[^\w\s]+")


def normalize_address(raw: str) -> str | None:
    """Return the comparable form of an address, or None when it is not an address at all.

    Addresses are compared case-insensitively (every provider we read treats them so) and in
    Unicode NFC, so the same mailbox typed two ways is one key.
    """
    address = unicodedata.normalize("NFC", raw.strip().strip("<>").strip()).lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or " " in address:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in address):  # control characters: no mailbox
        return None
    return address


def identity_key(address: str) -> str:
    """The mailbox an address delivers to, by its provider's own rules.

    `John.Smith+news@gmail.com` and `johnsmith@googlemail.com` are one Gmail mailbox; on a
    company domain `john.smith` and `johnsmith` may be two people, so nothing is folded there.
    """
    local, _, domain = address.rpartition("@")
    if domain in _PLUS:
        local = local.split("+", 1)[0]
    if domain in _DOTLESS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def normalize_name(name: str | None) -> str | None:
    """A display name reduced for comparison: 'Dean, Clint (E-mail)' -> 'clint dean'.

    Parenthesised and bracketed notes go, "Last, First" is turned round, accents and case
    are folded. Returns None for names that are empty or are really an address.
    """
    if not name or "@" in name:
        return None
    text = _PAREN.sub(" ", name)
    if text.count(",") == 1:
        last, first = text.split(",")
        text = f"{first} {last}"
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = _NON_WORD.sub(" ", text.lower()).split()
    return " ".join(words) or None
