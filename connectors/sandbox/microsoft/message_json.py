"""Graph's `message` resource as JSON, with `$select` applied and permissions honoured.

Without `$select` Graph returns every property but `internetMessageHeaders` and `uniqueBody`;
with it, `id` and the named properties. Mail.ReadBasic never returns `body`, `bodyPreview` or
`uniqueBody` (the sandbox holds no bodies at all: with Mail.Read they come back empty).
`internetMessageHeaders` comes only when selected, without From/To/Cc/Bcc, and not for sent
items, as reported of Exchange (microsoft-graph-docs#3066, msgraph-sdk-dotnet#3025).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from keepwarm.connectors.sandbox.microsoft.errors import bad_request
from keepwarm.connectors.sandbox.microsoft.folders import Folder
from keepwarm.connectors.sandbox.microsoft.mailbox import MailItem
from keepwarm.connectors.types import Address

__all__ = ["MESSAGE_PROPERTIES", "check_select", "message_resource", "utc"]

# The message properties of Graph v1.0 (resources/message), in the order Graph writes them.
MESSAGE_PROPERTIES = (
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "conversationIndex",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "isRead",
    "isDraft",
    "webLink",
    "inferenceClassification",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "flag",
    "uniqueBody",
    "internetMessageHeaders",
)
_BODIES = frozenset({"body", "bodyPreview", "uniqueBody"})
_NOT_DEFAULT = frozenset({"uniqueBody", "internetMessageHeaders"})
_HIDDEN_HEADERS = frozenset({"from", "to", "cc", "bcc"})
_CANONICAL = {name.lower(): name for name in MESSAGE_PROPERTIES}


def check_select(raw: str | None) -> list[str] | None:
    """The properties `$select` names (Graph's spelling), None without `$select`.

    Raises GraphError 400 for a property the message resource does not have.
    """
    if raw is None:
        return None
    chosen: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if not name:
            continue
        canonical = _CANONICAL.get(name.lower())
        if canonical is None:
            raise bad_request(
                f"Could not find a property named '{name}' on type 'microsoft.graph.message'.",
                code="RequestBroker--ParseUri",
            )
        if canonical not in chosen:
            chosen.append(canonical)
    return chosen


def message_resource(
    item: MailItem,
    folder: Folder,
    select: Sequence[str] | None,
    *,
    bodies: bool,
    in_collection: bool,
) -> dict[str, object]:
    """The message as Graph renders it. `bodies` says the token may read bodies (Mail.Read);
    `in_collection` adds the `@odata.type` a delta page puts on every item.

    Raises GraphError 400 when bodies are selected with Mail.Read (the sandbox holds none).
    """
    wanted = [p for p in MESSAGE_PROPERTIES if p not in _NOT_DEFAULT] if select is None else select
    if not bodies:
        wanted = [p for p in wanted if p not in _BODIES]
    elif select is not None and _BODIES & set(select):
        raise bad_request(
            "keepwarm sandbox keeps no message bodies: body, bodyPreview and uniqueBody are "
            "not served"
        )
    body: dict[str, object] = {}
    if in_collection:
        body["@odata.type"] = "#microsoft.graph.message"
    body["@odata.etag"] = f'W/"{_change_key(item)}"'
    body["id"] = item.id
    for name in wanted:
        if name != "id":
            body[name] = _value(item, folder, name)
    return body


def utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with `Z`, whole seconds, as Graph writes DateTimeOffset values."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(item: MailItem, folder: Folder, name: str) -> object:
    if name == "internetMessageHeaders":
        if folder.well_known == "sentitems":
            return None
        return [
            {"name": key, "value": value}
            for key, value in item.headers
            if key.lower() not in _HIDDEN_HEADERS
        ]
    values: dict[str, object] = {
        "createdDateTime": utc(item.created),
        "lastModifiedDateTime": utc(item.modified),
        "changeKey": _change_key(item),
        "categories": [],
        "receivedDateTime": utc(item.received),
        "sentDateTime": utc(item.sent),
        "hasAttachments": False,
        "internetMessageId": item.internet_message_id,
        "subject": item.subject,
        "bodyPreview": "",
        "importance": "normal",
        "parentFolderId": item.folder_id,
        "conversationId": item.conversation_id,
        "conversationIndex": "AQHS" + item.conversation_id[6:22],
        "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False,
        "isRead": item.is_read,
        "isDraft": item.is_draft,
        "webLink": "https://outlook.office365.com/owa/?ItemID="
        + item.id.replace("=", "%3D")
        + "&exvsurl=1&viewmodel=ReadMessageItem",
        "inferenceClassification": item.inference,
        "body": {"contentType": "text", "content": ""},
        "uniqueBody": {"contentType": "text", "content": ""},
        "sender": _recipient(item.sender),
        "from": _recipient(item.from_),
        "toRecipients": [_recipient(a) for a in item.to],
        "ccRecipients": [_recipient(a) for a in item.cc],
        "bccRecipients": [_recipient(a) for a in item.bcc],
        "replyTo": [_recipient(a) for a in item.reply_to],
        "flag": {"flagStatus": "notFlagged"},
    }
    return values[name]


def _recipient(address: Address | None) -> dict[str, object] | None:
    """A recipient: Exchange shows the address as the name when it has no display name."""
    if address is None:
        return None
    return {"emailAddress": {"name": address.name or address.email, "address": address.email}}


def _change_key(item: MailItem) -> str:
    return "CQAAABYAAAA" + format(item.change, "x").rjust(8, "0") + "AAA"
