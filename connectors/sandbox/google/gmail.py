"""Gmail v1 methods: profile, messages.list/get, threads.get, history.list, labels.list.

Only metadata is served: `snippet` is always "" and `format=full|raw` is refused, with Gmail's
403 under the gmail.metadata scope (which also refuses `q`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeAlias

from keepwarm.connectors.sandbox.google.errors import ApiError, bad_request, forbidden, not_found
from keepwarm.connectors.sandbox.google.labels import is_hidden
from keepwarm.connectors.sandbox.google.mailbox import (
    HistoryGone,
    HistoryRecord,
    Mailbox,
    StoredMessage,
)
from keepwarm.connectors.sandbox.google.pages import decode_token, encode_token, int_param
from keepwarm.connectors.sandbox.google.scopes import GMAIL_METADATA, GMAIL_READ, require
from keepwarm.connectors.sandbox.google.wire import Caller, Request, Response

__all__ = ["Handler", "match"]

Handler: TypeAlias = Callable[[Request, Caller, Mailbox, str], Response]

_ID = re.compile(r"^[0-9a-f]{1,32}$")
_HISTORY_TYPES = {"messageAdded", "messageDeleted", "labelAdded", "labelRemoved"}
_FORMATS = {"minimal", "full", "raw", "metadata"}
_THREAD_FORMATS = {"minimal", "full", "metadata"}  # threads.get has no `raw` (discovery enum)


def match(request: Request) -> tuple[str, Handler, str] | None:
    """(discovery method id, handler, path argument) for a Gmail GET path; None otherwise."""
    if request.method != "GET":
        return None
    found = _ROUTE.match(request.path)
    if found is None:
        return None
    user, collection, item = found.groups()
    key = (collection, item is not None)
    if key not in _ROUTES:
        return None
    method, handler = _ROUTES[key]
    return method, _for_user(user, handler), item or ""


def _for_user(user: str, handler: Handler) -> Handler:
    def checked(request: Request, caller: Caller, mailbox: Mailbox, item: str) -> Response:
        require(caller.scopes, GMAIL_READ)
        if user != "me" and user.lower() != caller.user.lower():
            raise forbidden(f"Delegation denied for {caller.user}")
        return handler(request, caller, mailbox, item)

    return checked


def _profile(request: Request, caller: Caller, mailbox: Mailbox, item: str) -> Response:
    messages, threads = mailbox.totals()
    return Response.json(
        200,
        {
            "emailAddress": mailbox.owner,
            "messagesTotal": messages,
            "threadsTotal": threads,
            "historyId": str(mailbox.history_id),
        },
    )


def _labels(request: Request, caller: Caller, mailbox: Mailbox, item: str) -> Response:
    return Response.json(200, {"labels": mailbox.labels.resource()})


def _list_messages(request: Request, caller: Caller, mailbox: Mailbox, item: str) -> Response:
    if request.param("q") is not None:
        _no_search(caller)
    size = int_param(request.param("maxResults"), "maxResults", default=100, maximum=500)
    wanted = request.params("labelIds")
    for label in wanted:
        if not mailbox.labels.known(label):
            raise bad_request(f"Invalid label: {label}")
    include_hidden = request.param("includeSpamTrash") == "true" or is_hidden(wanted)
    after = _cursor(request.param("pageToken"))
    matching = [
        message
        for message in mailbox.newest_first()
        if all(label in message.label_ids for label in wanted)
        and (include_hidden or not is_hidden(message.label_ids))
    ]
    if after is not None:
        matching = [m for m in matching if (m.internal_date, m.id) < after]
    page = matching[:size]
    body: dict[str, object] = {}
    if page:
        body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
    if len(matching) > size:
        body["nextPageToken"] = encode_token({"d": page[-1].internal_date, "i": page[-1].id})
    # Gmail leaves "messages" out of an empty result rather than sending [].
    body["resultSizeEstimate"] = len(matching)
    return Response.json(200, body)


def _get_message(request: Request, caller: Caller, mailbox: Mailbox, item: str) -> Response:
    fmt = _format(request, caller)
    message = _message(mailbox, item)
    return Response.json(200, _render(message, fmt, request.params("metadataHeaders")))


def _get_thread(request: Request, caller: Caller, mailbox: Mailbox, item: str) -> Response:
    """Every message of the thread, oldest first, whatever its labels: Gmail's threads.get
    also returns the thread's messages in Spam and Trash (threads.list filters, get does not)."""
    fmt = _format(request, caller, _THREAD_FORMATS)
    if not _ID.match(item):
        raise bad_request("Invalid id value")
    messages = mailbox.thread(item)
    if not messages:
        raise not_found()
    headers = request.params("metadataHeaders")
    return Response.json(
        200,
        {
            "id": item,
            "historyId": str(max(message.history_id for message in messages)),
            "messages": [_render(message, fmt, headers) for message in messages],
        },
    )


def _list_history(request: Request, caller: Caller, mailbox: Mailbox, item: str) -> Response:
    start_text = request.param("startHistoryId")
    if start_text is None or not start_text.isdigit():
        raise bad_request("Invalid startHistoryId")
    types = set(request.params("historyTypes"))
    if types - _HISTORY_TYPES:
        raise bad_request(f"Invalid historyTypes: {sorted(types - _HISTORY_TYPES)[0]}")
    label = request.param("labelId")
    size = int_param(request.param("maxResults"), "maxResults", default=100, maximum=500)
    try:
        records = mailbox.history_since(int(start_text))
    except HistoryGone:
        raise not_found() from None
    after = _history_cursor(request.param("pageToken"))
    chosen = [
        record
        for record in records
        if record.id > after
        and (not types or record.kind in types)
        and (label is None or label in record.label_ids)
    ]
    page = chosen[:size]
    body: dict[str, object] = {}
    if page:
        body["history"] = [_render_history(record, mailbox) for record in page]
    if len(chosen) > size:
        body["nextPageToken"] = encode_token({"after": page[-1].id})
    body["historyId"] = str(mailbox.history_id)
    return Response.json(200, body)


def _format(request: Request, caller: Caller, allowed: set[str] = _FORMATS) -> str:
    """The requested format; Gmail's default is `full`, which the metadata scope refuses."""
    fmt = (request.param("format") or "full").lower()
    if fmt not in allowed:
        raise bad_request(f"Invalid value at 'format' ({fmt})")
    if fmt in ("full", "raw"):
        if GMAIL_METADATA in caller.scopes:
            raise forbidden(f"Metadata scope doesn't allow format {fmt.upper()}")
        raise ApiError(
            400,
            f"keepwarm sandbox keeps no message bodies: format {fmt.upper()} is not served; "
            "use format=metadata or minimal",
            "failedPrecondition",
        )
    return fmt


def _no_search(caller: Caller) -> None:
    if GMAIL_METADATA in caller.scopes:
        raise forbidden("Metadata scope does not support 'q' parameter")
    raise bad_request("keepwarm sandbox does not implement search ('q')")


def _message(mailbox: Mailbox, message_id: str) -> StoredMessage:
    if not _ID.match(message_id):
        raise bad_request("Invalid id value")
    message = mailbox.get(message_id)
    if message is None:
        raise not_found()
    return message


def _render(message: StoredMessage, fmt: str, wanted: list[str]) -> dict[str, object]:
    body: dict[str, object] = {"id": message.id, "threadId": message.thread_id}
    if message.label_ids:
        body["labelIds"] = list(message.label_ids)
    body["snippet"] = ""
    if fmt == "metadata":
        names = {name.lower() for name in wanted}
        headers = [
            {"name": name, "value": value}
            for name, value in message.headers
            if not names or name.lower() in names
        ]
        body["payload"] = {
            "partId": "",
            "mimeType": message.mime_type,
            "filename": "",
            "headers": headers,
        }
    body["sizeEstimate"] = message.size
    body["historyId"] = str(message.history_id)
    body["internalDate"] = str(message.internal_date)
    return body


def _render_history(record: HistoryRecord, mailbox: Mailbox) -> dict[str, object]:
    ref = {"id": record.message_id, "threadId": record.thread_id}
    current = mailbox.get(record.message_id)
    labels = list(current.label_ids) if current is not None else list(record.label_ids)
    body: dict[str, object] = {"id": str(record.id), "messages": [ref]}
    if record.kind == "messageAdded":
        body["messagesAdded"] = [{"message": {**ref, "labelIds": labels}}]
    else:
        body["labelsAdded"] = [
            {"message": {**ref, "labelIds": labels}, "labelIds": list(record.label_ids)}
        ]
    return body


def _cursor(token: str | None) -> tuple[int, str] | None:
    """The (internalDate, id) a messages.list page ended at."""
    if token is None:
        return None
    state = decode_token(token) or {}
    date, message_id = state.get("d"), state.get("i")
    if not isinstance(date, int) or not isinstance(message_id, str):
        raise bad_request("Invalid pageToken")
    return date, message_id


def _history_cursor(token: str | None) -> int:
    """The history record id a history.list page ended at (0 for the first page)."""
    if token is None:
        return 0
    after = (decode_token(token) or {}).get("after")
    if not isinstance(after, int):
        raise bad_request("Invalid pageToken")
    return after


_ROUTE = re.compile(
    r"^/gmail/v1/users/([^/]+)/(profile|messages|threads|history|labels)(?:/([^/]+))?$"
)
_ROUTES: dict[tuple[str, bool], tuple[str, Handler]] = {
    ("profile", False): ("gmail.users.getProfile", _profile),
    ("labels", False): ("gmail.users.labels.list", _labels),
    ("messages", False): ("gmail.users.messages.list", _list_messages),
    ("messages", True): ("gmail.users.messages.get", _get_message),
    ("threads", True): ("gmail.users.threads.get", _get_thread),
    ("history", False): ("gmail.users.history.list", _list_history),
}
