"""Graph v1.0 mail: `/me`, mail folders and their children, per-folder `messages/delta`, and
single messages.

`messages/delta` takes `$select`, `$top`, `$orderby=receivedDateTime desc`, `$filter=
receivedDateTime ge|gt <date>` (then at most 5,000 messages, as Graph documents) and
`changeType` on the first request only; later requests replay `@odata.nextLink` (a
`$skiptoken`) or `@odata.deltaLink` (a `$deltatoken`). `Prefer: odata.maxpagesize` sets the
page size on every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.microsoft.delta import (
    DEFAULT_PAGE,
    MAX_PAGE,
    DeltaState,
    Tombstone,
    decode_state,
    run_page,
)
from keepwarm.connectors.sandbox.microsoft.errors import (
    bad_request,
    not_found,
    sync_state_not_found,
)
from keepwarm.connectors.sandbox.microsoft.folders import Folder
from keepwarm.connectors.sandbox.microsoft.mailbox import Mailbox, MailItem
from keepwarm.connectors.sandbox.microsoft.message_json import check_select, message_resource
from keepwarm.connectors.sandbox.microsoft.routes import Target
from keepwarm.connectors.sandbox.microsoft.scopes import MAIL_ANY, MAIL_BODIES, USER_ANY, require
from keepwarm.connectors.sandbox.microsoft.wire import base_url, json_response, prefer

__all__ = ["Caller", "Handler", "match", "page_size"]

# Graph's cap of messages a filtered delta round returns (delta-query-messages).
FILTER_LIMIT = 5000
_FILTER = re.compile(r"^receivedDateTime\s+(ge|gt)\s+(\S+)$", re.IGNORECASE)
_ORDER = re.compile(r"^receivedDateTime(\s+desc)?$", re.IGNORECASE)
_CHANGE_TYPES = frozenset({"created", "updated", "deleted"})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a Graph request acts for: the user, their object id and display name, the app's
    client id and the permissions its token carries."""

    user: str
    user_id: str
    name: str | None
    client_id: str
    scopes: frozenset[str]


Handler: TypeAlias = Callable[[Request, Caller, Mailbox, tuple[str, ...]], Response]


def match(target: Target) -> tuple[str, Handler] | None:
    """(operation name, handler) for a mail path; None for anything else."""
    return _ROUTES.get(target.names)


def page_size(request: Request, initial: bool) -> int:
    """`Prefer: odata.maxpagesize` (or `$top` on a round's first request), capped."""
    wanted = prefer(request).get("odata.maxpagesize")
    if wanted is None and initial:
        wanted = request.param("$top")
    if wanted is None:
        return DEFAULT_PAGE
    try:
        size = int(wanted)
    except ValueError:
        raise bad_request(f"Invalid page size '{wanted}'.") from None
    if size < 1:
        raise bad_request(f"Invalid page size '{wanted}'.")
    return min(size, MAX_PAGE)


def _me(request: Request, caller: Caller, mailbox: Mailbox, keys: tuple[str, ...]) -> Response:
    require(caller.scopes, USER_ANY, directory=True)
    given, _, surname = (caller.name or "").rpartition(" ")
    user: dict[str, Any] = {
        "@odata.context": base_url(request) + "/v1.0/$metadata#users/$entity",
        "businessPhones": [],
        "displayName": caller.name or caller.user,
        "givenName": given or None,
        "jobTitle": None,
        "mail": caller.user,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": surname or None,
        "userPrincipalName": caller.user,
        "id": caller.user_id,
    }
    select = request.param("$select")
    if select:
        wanted = {name.strip() for name in select.split(",")}
        user = {k: v for k, v in user.items() if k in wanted or k in ("@odata.context", "id")}
    return json_response(200, user)


def _folders(request: Request, caller: Caller, mailbox: Mailbox, keys: tuple[str, ...]) -> Response:
    require(caller.scopes, MAIL_ANY)
    parent = _folder(mailbox, keys[0]) if keys else mailbox.root()
    children = [mailbox.folders[child] for child in parent.children]
    top = _int(request.param("$top"), "$top", default=10)
    skip = _int(request.param("$skip"), "$skip", default=0)
    page = children[skip : skip + top]
    path = f"/me/mailFolders('{parent.id}')/childFolders" if keys else "/me/mailFolders"
    body: dict[str, Any] = {
        "@odata.context": base_url(request)
        + f"/v1.0/$metadata#users('{caller.user_id}')/mailFolders"
        + ("" if not keys else f"('{parent.id}')/childFolders"),
        "value": [_folder_resource(mailbox, folder) for folder in page],
    }
    if skip + top < len(children):
        body["@odata.nextLink"] = f"{base_url(request)}/v1.0{path}?$top={top}&$skip={skip + top}"
    return json_response(200, body)


def _get_folder(
    request: Request, caller: Caller, mailbox: Mailbox, keys: tuple[str, ...]
) -> Response:
    require(caller.scopes, MAIL_ANY)
    folder = _folder(mailbox, keys[0])
    body = {
        "@odata.context": base_url(request)
        + f"/v1.0/$metadata#users('{caller.user_id}')/mailFolders/$entity",
        **_folder_resource(mailbox, folder),
    }
    return json_response(200, body)


def _get_message(
    request: Request, caller: Caller, mailbox: Mailbox, keys: tuple[str, ...]
) -> Response:
    require(caller.scopes, MAIL_ANY)
    item = mailbox.get(keys[-1])
    if item is None or (len(keys) == 2 and item.folder_id != _folder(mailbox, keys[0]).id):
        raise not_found()
    select = check_select(request.param("$select"))
    folder = mailbox.folders[item.folder_id]
    body = {
        "@odata.context": base_url(request)
        + f"/v1.0/$metadata#users('{caller.user_id}')/messages/$entity",
        **message_resource(
            item, folder, select, bodies=bool(caller.scopes & MAIL_BODIES), in_collection=False
        ),
    }
    return json_response(200, body)


def _delta(request: Request, caller: Caller, mailbox: Mailbox, keys: tuple[str, ...]) -> Response:
    require(caller.scopes, MAIL_ANY)
    folder = _folder(mailbox, keys[0])
    base = base_url(request)
    first = f"{base}/v1.0/me/mailfolders('{folder.id}')/messages/delta"
    skip, delta = request.param("$skiptoken"), request.param("$deltatoken")
    if skip is not None or delta is not None:
        state = decode_state(skip if skip is not None else delta or "")
        if state.key != folder.id:
            raise bad_request("The delta token belongs to another folder.", "ErrorInvalidUrlQuery")
        if state.epoch != folder.epoch:
            raise sync_state_not_found(state.epoch, first)
        if skip is None:  # a delta token: a new round of the changes since the last one
            state = DeltaState(
                folder.id, state.base, mailbox.change, state.epoch, False, state.query
            )
    else:
        state = DeltaState(
            folder.id, 0, mailbox.change, folder.epoch, True, _initial_query(request)
        )
    query = state.query
    present = mailbox.items(folder)
    tombstones: list[Tombstone] = list(mailbox.tombstones(folder))
    if state.initial and query.get("flt"):
        op, when = query["flt"]
        bound = datetime.fromisoformat(when)
        present = [i for i in present if i.received > bound or (op == "ge" and i.received == bound)]
    elif not state.initial and query.get("ct"):
        present, tombstones = _of_change_type(query["ct"], state.base, present, tombstones)
    descending = bool(query.get("ob"))
    page = run_page(
        state,
        present=present,
        tombstones=tombstones,
        change_of=lambda item: item.change,
        order_of=lambda item: (
            [-item.received.timestamp(), -item.order] if descending else [item.order]
        ),
        size=page_size(request, initial=skip is None and delta is None),
        limit=FILTER_LIMIT if state.initial and query.get("flt") else None,
    )
    select = query.get("sel")
    bodies = bool(caller.scopes & MAIL_BODIES)
    value: list[dict[str, Any]] = []
    for entry in page.entries:
        if isinstance(entry, Tombstone):
            value.append(
                {
                    "@odata.type": "#microsoft.graph.message",
                    "id": entry.id,
                    "@removed": {"reason": "deleted"},
                }
            )
        else:
            value.append(message_resource(entry, folder, select, bodies=bodies, in_collection=True))
            mailbox.delivered[entry.key] += 1
    body: dict[str, Any] = {"@odata.context": base + "/v1.0/$metadata#Collection(message)"}
    if page.more:
        body["@odata.nextLink"] = f"{first}?$skiptoken={page.state.skip_token()}"
    else:
        body["@odata.deltaLink"] = f"{first}?$deltatoken={page.state.delta_token()}"
    body["value"] = value
    return json_response(200, body)


def _initial_query(request: Request) -> dict[str, Any]:
    """What the first request of a round asks for, checked; replayed from its tokens."""
    query: dict[str, Any] = {"sel": check_select(request.param("$select"))}
    order = request.param("$orderby")
    if order is not None:
        found = _ORDER.match(order.strip())
        if found is None or not found.group(1):
            raise bad_request(
                "The only supported $orderby is receivedDateTime desc.", "ErrorInvalidUrlQuery"
            )
        query["ob"] = True
    text = request.param("$filter")
    if text is not None:
        found = _FILTER.match(text.strip())
        if found is None:
            raise bad_request(
                "The only supported $filter is receivedDateTime ge|gt {value}.",
                "ErrorInvalidUrlQuery",
            )
        try:
            bound = datetime.fromisoformat(found.group(2).replace("Z", "+00:00"))
        except ValueError:
            raise bad_request(f"Invalid date in $filter: {found.group(2)}") from None
        if bound.tzinfo is None:
            bound = bound.replace(tzinfo=UTC)
        query["flt"] = [found.group(1).lower(), bound.isoformat()]
    change = request.param("changeType")
    if change is not None:
        if change not in _CHANGE_TYPES:
            raise bad_request(f"Invalid changeType '{change}'.")
        query["ct"] = change
    if request.param("$search") is not None:
        raise bad_request("$search is not supported for delta queries.", "ErrorInvalidUrlQuery")
    return query


def _of_change_type(
    kind: str, base: int, present: list[MailItem], tombstones: list[Tombstone]
) -> tuple[list[MailItem], list[Tombstone]]:
    if kind == "created":
        return [i for i in present if i.created_change > base], []
    if kind == "updated":
        return [i for i in present if i.created_change <= base], []
    return [], tombstones


def _folder(mailbox: Mailbox, ref: str) -> Folder:
    folder = mailbox.resolve(ref)
    if folder is None:
        raise not_found()
    return folder


def _folder_resource(mailbox: Mailbox, folder: Folder) -> dict[str, Any]:
    items = mailbox.items(folder)
    return {
        "id": folder.id,
        "displayName": folder.display_name,
        "parentFolderId": folder.parent_id,
        "childFolderCount": len(folder.children),
        "unreadItemCount": sum(1 for item in items if not item.is_read),
        "totalItemCount": len(items),
        "sizeInBytes": 4096 * len(items),
        "isHidden": False,
    }


def _int(value: str | None, name: str, *, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"Invalid value '{value}' for query option '{name}'.") from None
    if number < 0:
        raise bad_request(f"Invalid value '{value}' for query option '{name}'.")
    return number


_K = None  # a key's place in a route
_ROUTES: dict[tuple[str | None, ...], tuple[str, Handler]] = {
    ("me",): ("user.get", _me),
    ("me", "mailfolders"): ("mailFolder.list", _folders),
    ("me", "mailfolders", _K): ("mailFolder.get", _get_folder),
    ("me", "mailfolders", _K, "childfolders"): ("mailFolder.childFolders", _folders),
    ("me", "mailfolders", _K, "messages", "delta"): ("message.delta", _delta),
    ("me", "messages", _K): ("message.get", _get_message),
    ("me", "mailfolders", _K, "messages", _K): ("message.get", _get_message),
}
