"""Keys an embedded install keeps for itself under KEEPWARM_HOME, readable only by its owner.

Embedded (no DATABASE_URL), keepwarm must work without exporting keys: the token-encryption
key and the link-signing key are generated on first use and kept in files of mode 0600 in a
home of mode 0700. Production takes both from the environment and refuses to start without
them (a key made up on the spot would lose the tokens, or the links, at the next restart).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from keepwarm.services.core.crypto import TokenCipher, TokenKeyError
from keepwarm.services.core.private import private_dir, private_file

__all__ = [
    "MIN_SECRET_CHARS",
    "check_secret",
    "check_token_key",
    "home_key",
    "home_secret",
    "home_token_key",
]

# A secret shorter than this can be guessed, and with it anyone can forge links for any user.
MIN_SECRET_CHARS = 32


def home_key(home: Path, name: str, make: Callable[[], str]) -> str:
    """The key in `home/name`, made with `make` and stored (0600) the first time.

    Raises TokenKeyError, naming the file, when it exists but is empty or unreadable: a key
    silently replaced would lose what the old one protects.
    """
    path = home / name
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        private_dir(home)
        key = make()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return home_key(home, name, make)
        with os.fdopen(fd, "w") as out:
            out.write(key)
        return key
    except OSError as exc:
        raise TokenKeyError(f"{path}: cannot read the key ({exc.strerror or exc})") from None
    private_file(path)  # a key file left readable by others (an older install) is tightened
    if not key:
        raise TokenKeyError(f"{path} is empty: restore the key, or remove the file for a new one")
    return key


def check_secret(secret: str, where: str) -> str:
    """`secret` when it is long enough to sign links with; raises TokenKeyError naming `where`
    (the setting or the file) otherwise. An empty or short secret would let anyone forge a
    link for any user."""
    if not secret.strip():
        raise TokenKeyError(
            f"{where} is empty: set a random secret of at least {MIN_SECRET_CHARS} characters"
        )
    if len(secret) < MIN_SECRET_CHARS:
        raise TokenKeyError(
            f"{where} is {len(secret)} characters long; at least {MIN_SECRET_CHARS} are needed"
        )
    return secret


def check_token_key(key: str, where: str) -> str:
    """`key` when it is a Fernet key; raises TokenKeyError naming `where` otherwise."""
    if not key.strip():
        raise TokenKeyError(f"{where} is empty: set the Fernet key the tokens were sealed with")
    try:
        TokenCipher(key)
    except TokenKeyError:
        raise TokenKeyError(f"{where} is not a Fernet key (32 url-safe base64 bytes)") from None
    return key


def home_token_key(home: Path) -> str:
    """The Fernet key that seals OAuth tokens in an embedded install."""
    key = home_key(home, "token_key", TokenCipher.generate_key)
    return check_token_key(key, str(home / "token_key"))  # a damaged file is named


def home_secret(home: Path) -> str:
    """The secret that signs links in an embedded install."""
    secret = home_key(home, "secret_key", lambda: secrets.token_urlsafe(MIN_SECRET_CHARS))
    return check_secret(secret, str(home / "secret_key"))
