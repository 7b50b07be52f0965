"""Graph URL paths as the handlers see them: `/v1.0` stripped, `/users/{me}` folded into `/me`,
OData keys (`mailFolders('id')`) turned into path segments, navigation names lower-cased."""

from __future__ import annotations

import re
from dataclasses import dataclass

from keepwarm.connectors.sandbox.microsoft.errors import GraphError

__all__ = ["GRAPH_PREFIX", "Target", "parse"]

GRAPH_PREFIX = "/v1.0"
_KEYED = re.compile(r"^([A-Za-z.$]+)\('([^']*)'\)$")


@dataclass(frozen=True, slots=True)
class Target:
    """`names` are the path's navigation names (lower case) with `None` where a key stands;
    `keys` are those keys in order. `/me/mailFolders('X')/messages/delta` gives names
    ("me", "mailfolders", None, "messages", "delta") and keys ("X",)."""

    names: tuple[str | None, ...]
    keys: tuple[str, ...]


def parse(path: str, *, user: str, user_id: str) -> Target:
    """The target of a Graph path (without the `/v1.0` prefix).

    Raises GraphError 404 for another user's mailbox (`/users/{someone else}`).
    """
    segments: list[str] = []
    for raw in path.strip("/").split("/"):
        keyed = _KEYED.match(raw)
        if keyed is not None:
            segments.extend([keyed.group(1), "\x00" + keyed.group(2)])
        elif raw:
            segments.append(raw)
    if len(segments) >= 2 and segments[0].lower() == "users":
        who = segments[1].lstrip("\x00").lower()
        if who not in (user.lower(), user_id.lower()):
            raise GraphError(
                404,
                "ErrorInvalidUser",
                f"The requested user '{segments[1].lstrip(chr(0))}' is invalid.",
            )
        segments = ["me", *segments[2:]]
    names: list[str | None] = []
    keys: list[str] = []
    for index, segment in enumerate(segments):
        if segment.startswith("\x00"):
            names.append(None)
            keys.append(segment[1:])
        elif index > 0 and names[index - 1] in _COLLECTIONS and segment.lower() != "delta":
            names.append(None)  # /mailFolders/{id}: a plain segment after a collection is a key
            keys.append(segment)
        else:
            names.append(segment.lower())
    return Target(tuple(names), tuple(keys))


# Collections whose next plain segment is an item key, unless it is a function (`delta`).
_COLLECTIONS = frozenset({"mailfolders", "childfolders", "messages", "events"})
