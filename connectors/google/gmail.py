"""Gmail metadata through google-api-python-client: listing, batched gets and threads,
history; every call paced so Gmail's per-user window is never overdrawn."""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import google.oauth2.credentials
from googleapiclient.http import BatchHttpRequest

from keepwarm.connectors.files.headers import believed_sent_at, parse_header_block
from keepwarm.connectors.google.gmail_fetch import THREAD, Call, Outcome, in_batches, plan_calls
from keepwarm.connectors.google.pacing import ServedWindow
from keepwarm.connectors.google.translate import (
    HTTP_TIMEOUT,
    authorized_service,
    calling_google,
    execute,
)
from keepwarm.connectors.text import one_line
from keepwarm.connectors.types import MailMessage, Unreadable

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
# Gmail's per-user limit (developers.google.com/gmail/api/reference/quota: 15,000 units a
# minute, formerly stated as 250 a second "moving average").
GMAIL_UNITS_PER_SECOND = 250
# Units per batch: 8 metadata gets, or 4 threads. Small, for three reasons:
# - Paced on completion (connectors.google.pacing), a batch's latency is lost once per window;
#   8 gets answer in about 20 ms from the sandbox, 46 took 50-80 ms.
# - The shared budget (keepwarm.services.core.quota, 240 units/s by default) holds a whole number of
#   batches per second: two of 125 units do not fit in 240, so they ran at 125 units/s;
#   40 divides both 240 and 200.
# - Google runs a batch's calls concurrently and refuses large batches for concurrency
#   (25 calls per batch is reported to work, 100 to fail).
BATCH_UNITS = 40
# threads.get costs 10 units for a whole thread: cheaper than 5 per message from 3 wanted
# messages on (2 cost the same, and a thread also brings messages that are then discarded).
THREAD_MIN_MESSAGES = 3


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


def _received_at(data: dict[str, Any]) -> datetime | None:
    """Gmail's internalDate (epoch milliseconds, as a string): when Google accepted the mail."""
    try:
        return datetime.fromtimestamp(int(data["internalDate"]) / 1000, UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def to_mail_message(data: dict[str, Any]) -> MailMessage | Unreadable:
    """A Gmail `format=metadata` message as a MailMessage, parsed by the same code as files.

    Google's receipt time (`internalDate`) is `received_at`, and judges the sender's `Date`
    as for files (connectors.files.headers.believed_sent_at).
    """
    payload = data.get("payload") or {}
    # Gmail hands each header unfolded; a CR or LF inside a value (or a name) would start
    # another header in the block below, so each is cleaned to one line first.
    lines = [
        f"{one_line(str(h.get('name', '')))}: {one_line(str(h.get('value', '')))}"
        for h in payload.get("headers", [])
    ]
    block = "\r\n".join(lines).encode("utf-8", "surrogateescape")
    parsed = parse_header_block(block, source=f"gmail:{data.get('id')}")
    if isinstance(parsed, Unreadable):
        return parsed
    labels = tuple(data.get("labelIds") or ())
    received = _received_at(data)
    problems = list(parsed.problems)
    sent_at = believed_sent_at(parsed.sent_at, received, problems)
    return dataclasses.replace(
        parsed,
        sent_at=sent_at,
        received_at=received,
        problems=tuple(problems),
        labels=labels,
        in_sent_folder="SENT" in labels,
        provider_id=str(data.get("id")),
        thread_id=data.get("threadId"),
    )


class GmailReader:
    """Reads one user's Gmail metadata; never requests bodies (`format=metadata` only).

    Every call is paced on its completion (connectors.google.pacing) against Gmail's per-user
    window of `units_per_second`, so Gmail has no reason to refuse one for rate. `spend(units)`
    is also called before each call with its quota cost, so the caller can share the user's
    budget between processes (a limiter in Redis in production). `timeout` is the seconds a
    call may wait for an answer. Every failure is raised as a connectors.errors.ProviderError
    subclass; a timeout is ProviderUnavailable.

    The reader remembers the threadId of each message of the page it last listed (or read
    from history), which lets `get_messages` fetch a thread at once where that is cheaper.
    """

    def __init__(
        self,
        credentials: google.oauth2.credentials.Credentials,
        *,
        api_base: str | None = None,
        timeout: float = HTTP_TIMEOUT,
        spend: Callable[[int], None] = lambda units: None,
        units_per_second: int = GMAIL_UNITS_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_rounds: int = 6,
    ) -> None:
        self._sleep, self._max_rounds = sleep, max_rounds
        endpoint = api_base.rstrip("/") + "/" if api_base else None
        self._service, self._http = authorized_service(
            "gmail", "v1", credentials, endpoint, timeout
        )
        self._spend = spend
        self._window = ServedWindow(units_per_second, clock=clock, sleep=sleep)
        self._batch_units = min(BATCH_UNITS, units_per_second)
        self._thread_of: dict[str, str] = {}
        self.units = 0
        # new_batch_http_request posts to the discovery document's batch URL and ignores
        # api_endpoint, so against another base the batch URL is given explicitly.
        self._batch_uri = api_base.rstrip("/") + "/batch/gmail/v1" if api_base else None

    def close(self) -> None:
        """Close the connections to the provider."""
        self._http.close()

    @contextmanager
    def _paid(self, units: int) -> Iterator[None]:
        # Our own window first: once it has room, nothing of ours can take that room before
        # the call goes out, however long the shared budget then makes us wait.
        with self._window.calling(units):
            self._spend(units)
            self.units += units
            yield

    def profile(self) -> tuple[str, str]:
        """The mailbox's address and current historyId."""
        with self._paid(COST["profile"]):
            data = execute(self._service.users().getProfile(userId="me"))
        return str(data["emailAddress"]), str(data["historyId"])

    def list_page(
        self, *, label: str | None, page_token: str | None, max_results: int = 500
    ) -> ListPage:
        """One page of message ids, newest first, optionally only those with `label`."""
        kwargs: dict[str, Any] = {"userId": "me", "maxResults": max_results}
        if label:
            kwargs["labelIds"] = [label]
        if label in {"TRASH", "SPAM"}:
            kwargs["includeSpamTrash"] = True
        if page_token:
            kwargs["pageToken"] = page_token
        with self._paid(COST["list"]):
            data = execute(self._service.users().messages().list(**kwargs))
        ids = tuple((m["id"], m.get("threadId", m["id"])) for m in data.get("messages", []))
        self._thread_of = dict(ids)
        return ListPage(ids, data.get("nextPageToken"))

    def history_page(self, start_history_id: str, page_token: str | None) -> HistoryPage:
        """Messages added since `start_history_id`; raises CursorExpired on Gmail's 404."""
        kwargs: dict[str, Any] = {
            "userId": "me",
            "startHistoryId": start_history_id,
            "historyTypes": ["messageAdded"],
            "maxResults": 500,
        }
        if page_token:
            kwargs["pageToken"] = page_token
        with self._paid(COST["history"]):
            data = execute(self._service.users().history().list(**kwargs), cursor_statuses=(404,))
        added: dict[str, str] = {}
        for record in data.get("history", []):
            for item in record.get("messagesAdded", []):
                message = item.get("message", {})
                mid = message.get("id")
                if mid and mid not in added:
                    added[mid] = message.get("threadId", mid)
        self._thread_of = added
        return HistoryPage(tuple(added), data.get("nextPageToken"), str(data["historyId"]))

    def get_messages(self, ids: Sequence[str]) -> list[MailMessage | Unreadable]:
        """Metadata of `ids`, in their order; a message gone meanwhile is skipped.

        Ids of the last listed page that share a thread with at least THREAD_MIN_MESSAGES
        others come from one threads.get; the rest from messages.get; all in batches. Inner
        calls refused for rate (429 inside a 200 batch) are sent again after the Retry-After
        Gmail gave, keeping what the batch already returned; after `max_rounds` refused
        batches in a row, or on any other failure, the classified error is raised.
        """
        pending = deque(
            plan_calls(
                ids,
                self._thread_of,
                get_units=COST["get"],
                thread_units=COST["thread"],
                thread_min=THREAD_MIN_MESSAGES,
            )
        )
        found: dict[str, dict[str, Any]] = {}
        refused_in_a_row = 0
        while pending:
            batch = next(in_batches(pending, self._batch_units))
            for _ in batch:
                pending.popleft()
            outcome = self._batch(batch)
            if outcome.failure is not None:
                raise outcome.failure
            found.update(outcome.found)
            retry = [call for call, _ in outcome.limited] + outcome.again
            pending.extendleft(reversed(retry))
            if not outcome.limited:
                refused_in_a_row = 0
                continue
            refused_in_a_row += 1
            if refused_in_a_row >= self._max_rounds:
                raise outcome.limited[0][1]
            self._sleep(max(error.retry_after for _, error in outcome.limited))
        return [to_mail_message(found[mid]) for mid in ids if mid in found]

    def _batch(self, calls: list[Call]) -> Outcome:
        outcome = Outcome(get_units=COST["get"])
        by_request = {call.request_id: call for call in calls}

        def collect(request_id: str, response: Any, exception: Exception | None) -> None:
            outcome.collect(by_request[request_id], response, exception)

        batch = (
            BatchHttpRequest(callback=collect, batch_uri=self._batch_uri)
            if self._batch_uri
            else self._service.new_batch_http_request(callback=collect)
        )
        users = self._service.users()  # built once per batch: building resources is not cheap
        messages, threads = users.messages(), users.threads()
        headers = list(METADATA_HEADERS)
        for call in calls:
            source = threads if call.kind == THREAD else messages
            batch.add(
                source.get(userId="me", id=call.key, format="metadata", metadataHeaders=headers),
                request_id=call.request_id,
            )
        with self._paid(sum(call.units for call in calls)), calling_google():
            batch.execute()
        return outcome
