"""A user's own settings: the digest's schedule and size, the silence floor, prompts, and
addresses and domains never to suggest. Validation names the field at fault."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from keepwarm.services.core.errors import InvalidInput, NotFound
from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.models import Exclusion, User
from keepwarm.services.notify.schedule import WEEKDAYS, parse_timezone, parse_weekday
from keepwarm.services.reconnect import QueueRules

__all__ = [
    "FLOOR_RANGE",
    "SIZE_RANGE",
    "Preferences",
    "parse_exclusion",
    "preferences",
    "queue_rules_for",
    "update_preferences",
]

FLOOR_RANGE = (0.5, 60.0)  # months
SIZE_RANGE = (3, 10)  # people per digest, as KEEPWARM_DIGEST_SIZE
MAX_EXCLUSIONS = 500
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a user has chosen, with the operator's defaults filled in."""

    email: str | None
    timezone: str
    digest_weekday: str
    digest_hour: int
    digests_enabled: bool
    prompts_enabled: bool
    floor_months: float
    digest_size: int
    excluded: tuple[str, ...]


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def preferences(session: Session, user_id: int, defaults: QueueRules, size: int) -> Preferences:
    """The user's settings; None columns fall back to `defaults` and `size` (the operator's)."""
    user = _user(session, user_id)
    excluded = session.scalars(
        select(Exclusion.pattern).where(Exclusion.user_id == user_id).order_by(Exclusion.pattern)
    )
    return Preferences(
        email=user.email,
        timezone=user.timezone,
        digest_weekday=WEEKDAYS[user.digest_weekday],
        digest_hour=user.digest_hour,
        digests_enabled=user.digests_enabled,
        prompts_enabled=user.prompts_enabled,
        floor_months=user.floor_months if user.floor_months is not None else defaults.floor_months,
        digest_size=user.digest_size if user.digest_size is not None else size,
        excluded=tuple(excluded),
    )


def parse_exclusion(text: str) -> str:
    """ "jane@example.com" stays an address; "example.com" or "@example.com" becomes
    "@example.com". Raises InvalidInput naming the field "excluded"."""
    value = text.strip().lower()
    if "@" in value and not value.startswith("@"):
        address = normalize_address(value)
        if address is None:
            raise InvalidInput(f"excluded: not an address or a domain: {text!r}", "excluded")
        return address
    domain = value.removeprefix("@")
    if not _DOMAIN.match(domain):
        raise InvalidInput(f"excluded: not an address or a domain: {text!r}", "excluded")
    return "@" + domain


def _number(value: Any, name: str, low: float, high: float, integer: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{name}: expected a number", name)
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        raise InvalidInput(f"{name}: expected a number, got {value!r}", name) from None
    if not low <= number <= high:
        raise InvalidInput(f"{name}: must be between {low:g} and {high:g}", name)
    return number


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidInput(f"{name}: expected true or false", name)


def update_preferences(session: Session, user_id: int, changes: Mapping[str, Any]) -> None:
    """Apply `changes` (any of Preferences' fields); all are checked before any is stored.

    Raises InvalidInput naming the first field at fault, NotFound for an unknown user.
    """
    user = _user(session, user_id)
    unknown = set(changes) - set(Preferences.__slots__)
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(f"{name}: not a setting", name)
    staged: dict[str, Any] = {}
    for name, value in changes.items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(f"{name}: contains a NUL character", name)
        if name == "email":
            if value in (None, ""):
                staged[name] = None
            elif not isinstance(value, str) or normalize_address(value) is None:
                raise InvalidInput(f"email: not an email address: {value!r}", name)
            else:
                staged[name] = value.strip()
        elif name == "timezone":
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput("timezone: give an IANA time zone, e.g. Europe/Berlin", name)
            try:
                parse_timezone(value.strip())
            except InvalidInput as exc:
                raise InvalidInput(str(exc), name) from None
            staged[name] = value.strip()
        elif name == "digest_weekday":
            try:
                staged[name] = parse_weekday(str(value))
            except InvalidInput as exc:
                raise InvalidInput(str(exc).replace("weekday", name, 1), name) from None
        elif name == "digest_hour":
            staged[name] = int(_number(value, name, 0, 23, True))
        elif name in ("digests_enabled", "prompts_enabled"):
            staged[name] = _flag(value, name)
        elif name == "floor_months":
            staged[name] = _number(value, name, *FLOOR_RANGE, False)
        elif name == "digest_size":
            staged[name] = int(_number(value, name, *SIZE_RANGE, True))
        elif name == "excluded":
            staged[name] = _exclusions(value)
    for name, value in staged.items():
        if name == "excluded":
            _replace_exclusions(session, user_id, value)
        else:
            setattr(user, name, value)
    session.flush()


def _exclusions(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\s,;]+", value)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("excluded: expected a list of addresses and domains", "excluded")
    patterns = sorted({parse_exclusion(v) for v in value if v.strip()})
    if len(patterns) > MAX_EXCLUSIONS:
        raise InvalidInput(f"excluded: at most {MAX_EXCLUSIONS} entries", "excluded")
    return patterns


def _replace_exclusions(session: Session, user_id: int, patterns: Iterable[str]) -> None:
    session.execute(delete(Exclusion).where(Exclusion.user_id == user_id))
    session.add_all(Exclusion(user_id=user_id, pattern=p) for p in patterns)


def queue_rules_for(session: Session, user_id: int, defaults: QueueRules) -> QueueRules:
    """The operator's queue rules with the user's own silence floor, if they chose one."""
    user = session.get(User, user_id)
    if user is None or user.floor_months is None:
        return defaults
    return replace(defaults, floor_months=user.floor_months)
