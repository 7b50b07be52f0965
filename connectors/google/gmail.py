"""Gmail metadata through google-api-python-client: listing, batched gets, history."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import google.oauth2.credentials
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from connectors.errors import ProviderError, RateLimited
from connectors.files.headers import parse_header_block
from connectors.google.translate import (
    authorized_service,
    calling_google,
    classify_http_error,
    execute,
)
from connectors.types import MailMessage, Unreadable

__all__ = ["COST", "GmailReader", "HistoryPage", "ListPage"]

# Quota units per call (developers.google.com/gmail/api/reference/quota).
COST = {"get": 5, "list": 5, "history": 2, "profile": 1, "thread": 10}
# The headers keepwarm reads; Enron's X-From/X-To/X-cc carry the display names.
METADATA_HEADERS = (
    "From",
    "Sender",
    "To",
    "Cc",
    "Bcc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "List-Id",
    "List-Unsubscribe",
    "Precedence",
    "Auto-Submitted",
    "Content-Type",
    "X-Autoreply",
    "X-Autorespond",
    "X-From",
    "X-To",
    "X-cc",
    "X-bcc",
)
# Google allows 100 per batch and advises at most 50. One batch a second is what the quota
# allows: 46 gets (230 units) fill our 240-unit budget and leave room for a list or history
# call in the same second, under Gmail's 250 units/s.
BATCH_SIZE = 46


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of messages.list: (id, threadId) pairs and the next page token."""

    ids: tuple[tuple[str, str], ...]
    next_page_token: str | None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of history.list: ids of added messages, next token, the mailbox's historyId."""

    added: tuple[str, ...]
    next_page_token: str | None
    history_id: str


def to_mail_message(data: dict[str, Any]) -> MailMessage | Unreadable:
    """A Gmail `format=metadata` message as a MailMessage, parsed by the same code as files."""
    payload = data.get("payload") or {}
    lines = [f"{h.get('name', '')}: {h.get('value', '')}" for h in payload.get("headers", [])]
    block = "\r\n".join(lines).encode("utf-8", "surrogateescape")
    parsed = parse_header_block(block, source=f"gmail:{data.get('id')}")
    if isinstance(parsed, Unreadable):
        return parsed
    labels = tuple(data.get("labelIds") or ())
    return dataclasses.replace(
        parsed,
        labels=labels,
        in_sent_folder="SENT" in labels,
        provider_id=str(data.get("id")),
        thread_id=data.get("threadId"),
    )


class GmailReader:
    """Reads one user's Gmail metadata; never requests bodies (`format=metadata` only).

    `spend(units)` is called before each call with its quota cost, so the caller can keep under
    the user's quota (a shared rate limiter in production). Every failure is raised as a
    connectors.errors.ProviderError subclass.
    """

    def __init__(
        self,
        credentials: google.oauth2.credentials.Credentials,
        *,
        api_base: str | None = None,
        timeout: float = 30.0,
        spend: Callable[[int], None] = lambda units: None,
        sleep: Callable[[float], None] = time.sleep,
        max_rounds: int = 6,
    ) -> None:
        self._sleep, self._max_rounds = sleep, max_rounds
        endpoint = api_base.rstrip("/") + "/" if api_base else None
        self._service, self._http = authorized_service(
            "gmail", "v1", credentials, endpoint, timeout
        )
        self._spend = spend
        self.units = 0
        # new_batch_http_request posts to the discovery document's batch URL and ignores
        # api_endpoint, so against another base the batch URL is given explicitly.
        self._batch_uri = api_base.rstrip("/") + "/batch/gmail/v1" if api_base else None

    def close(self) -> None:
        """Close the connections to the provider."""
        self._http.close()

    def _charge(self, units: int) -> None:
        self._spend(units)
        self.units += units

    def profile(self) -> tuple[str, str]:
        """The mailbox's address and current historyId."""
        self._charge(COST["profile"])
        data = execute(self._service.users().getProfile(userId="me"))
        return str(data["emailAddress"]), str(data["historyId"])

    def list_page(
        self, *, label: str | None, page_token: str | None, max_results: int = 500
    ) -> ListPage:
        """One page of message ids, newest first, optionally only those with `label`."""
        self._charge(COST["list"])
        kwargs: dict[str, Any] = {"userId": "me", "maxResults": max_results}
        if label:
            kwargs["labelIds"] = [label]
        if label in {"TRASH", "SPAM"}:
            kwargs["includeSpamTrash"] = True
        if page_token:
            kwargs["pageToken"] = page_token
        data = execute(self._service.users().messages().list(**kwargs))
        ids = tuple((m["id"], m.get("threadId", m["id"])) for m in data.get("messages", []))
        return ListPage(ids, data.get("nextPageToken"))

    def history_page(self, start_history_id: str, page_token: str | None) -> HistoryPage:
        """Messages added since `start_history_id`; raises CursorExpired on Gmail's 404."""
        self._charge(COST["history"])
        kwargs: dict[str, Any] = {
            "userId": "me",
            "startHistoryId": start_history_id,
            "historyTypes": ["messageAdded"],
            "maxResults": 500,
        }
        if page_token:
            kwargs["pageToken"] = page_token
        data = execute(self._service.users().history().list(**kwargs), cursor_statuses=(404,))
        added: list[str] = []
        for record in data.get("history", []):
            for item in record.get("messagesAdded", []):
                mid = item.get("message", {}).get("id")
                if mid and mid not in added:
                    added.append(mid)
        return HistoryPage(tuple(added), data.get("nextPageToken"), str(data["historyId"]))

    def get_messages(self, ids: Sequence[str]) -> list[MailMessage | Unreadable]:
        """Metadata of `ids` in batches; a message gone meanwhile is skipped.

        Inner requests refused for rate (429 inside a 200 batch) are sent again after the
        Retry-After the provider gave, keeping what the batch already returned; after
        `max_rounds` such rounds, or on any other failure, the classified error is raised.
        """
        results: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), BATCH_SIZE):
            pending = list(ids[start : start + BATCH_SIZE])
            for round_ in range(self._max_rounds):
                limited, failure = self._batch(pending, results)
                if failure is not None:
                    raise failure
                if not limited:
                    break
                if round_ == self._max_rounds - 1:
                    raise limited[0][1]
                self._sleep(max(exc.retry_after for _, exc in limited))
                pending = [mid for mid, _ in limited]
        return [to_mail_message(results[mid]) for mid in ids if mid in results]

    def _batch(
        self, ids: list[str], results: dict[str, dict[str, Any]]
    ) -> tuple[list[tuple[str, RateLimited]], ProviderError | None]:
        limited: list[tuple[str, RateLimited]] = []
        failures: list[ProviderError] = []

        def collect(request_id: str, response: Any, exception: Exception | None) -> None:
            if exception is None:
                results[request_id] = response
                return
            if isinstance(exception, HttpError) and int(exception.resp.status) == 404:
                return  # deleted between listing and fetching
            error = (
                classify_http_error(exception)
                if isinstance(exception, HttpError)
                else ProviderError(str(exception))
            )
            if isinstance(error, RateLimited):
                limited.append((request_id, error))
            else:
                failures.append(
                    error if isinstance(error, ProviderError) else ProviderError(str(error))
                )

        batch = (
            BatchHttpRequest(callback=collect, batch_uri=self._batch_uri)
            if self._batch_uri
            else self._service.new_batch_http_request(callback=collect)
        )
        messages = self._service.users().messages()  # built once: building it is not cheap
        for mid in ids:
            batch.add(
                messages.get(
                    userId="me",
                    id=mid,
                    format="metadata",
                    metadataHeaders=list(METADATA_HEADERS),
                ),
                request_id=mid,
            )
        self._charge(COST["get"] * len(ids))
        with calling_google():
            batch.execute()
        return limited, (failures[0] if failures else None)
