"""Planning the metadata fetch of a page of Gmail ids: which calls, in which batches, and
what each answer means.

A page's ids come with their threadId (messages.list and history.list give both). Where three
or more wanted ids share a thread, one threads.get (10 units) answers them all instead of a
messages.get (5 units) each. A thread also holds messages that were not asked for (other
labels, Spam and Trash, older than the window, already stored); they are dropped here, so the
result is exactly what the per-message gets would have given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from googleapiclient.errors import HttpError

from keepwarm.connectors.errors import ProviderError, RateLimited
from keepwarm.connectors.google.translate import classify

__all__ = ["Call", "Outcome", "in_batches", "plan_calls"]

MESSAGE, THREAD = "message", "thread"
# Google's hard limit of calls in one batch.
MAX_BATCH_CALLS = 100


@dataclass(frozen=True, slots=True)
class Call:
    """One inner call of a batch: a message's metadata, or a thread's for its `wanted` ids."""

    kind: str  # MESSAGE or THREAD
    key: str  # the message id or the thread id
    wanted: tuple[str, ...]  # the message ids this call answers
    units: int

    @property
    def request_id(self) -> str:
        # Short on purpose: the client folds a Content-ID over 78 characters onto two lines.
        return f"{self.kind[0]}{self.key}"


def message_call(message_id: str, units: int) -> Call:
    """A messages.get of one id."""
    return Call(MESSAGE, message_id, (message_id,), units)


def plan_calls(
    ids: Sequence[str],
    thread_of: Mapping[str, str],
    *,
    get_units: int,
    thread_units: int,
    thread_min: int,
) -> list[Call]:
    """The calls that fetch `ids`: a threads.get for each thread with at least `thread_min` of
    them, a messages.get for every other id (and for ids whose thread is unknown). The order
    follows `ids` (a thread at its first wanted message), so newest-first pages stay so."""
    unique = list(dict.fromkeys(ids))
    by_thread: dict[str, list[str]] = {}
    for message_id in unique:
        thread = thread_of.get(message_id)
        if thread is not None:
            by_thread.setdefault(thread, []).append(message_id)
    calls: list[Call] = []
    planned: set[str] = set()
    for message_id in unique:
        thread = thread_of.get(message_id)
        wanted = by_thread.get(thread, []) if thread is not None else []
        if thread is not None and len(wanted) >= thread_min:
            if thread not in planned:
                planned.add(thread)
                calls.append(Call(THREAD, thread, tuple(wanted), thread_units))
        else:
            calls.append(message_call(message_id, get_units))
    return calls


def in_batches(calls: Iterable[Call], max_units: int) -> Iterator[list[Call]]:
    """`calls` in order, cut into batches of at most `max_units` units (and 100 calls)."""
    batch: list[Call] = []
    units = 0
    for call in calls:
        if batch and (units + call.units > max_units or len(batch) == MAX_BATCH_CALLS):
            yield batch
            batch, units = [], 0
        batch.append(call)
        units += call.units
    if batch:
        yield batch


@dataclass
class Outcome:
    """What one batch gave: message resources by id, and what is left to do.

    `again` are messages.get for ids a thread did not answer (the thread is gone, or the
    message left it), `limited` the calls refused for rate with their error, `failure` the
    first other failure.
    """

    get_units: int
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    again: list[Call] = field(default_factory=list)
    limited: list[tuple[Call, RateLimited]] = field(default_factory=list)
    failure: ProviderError | None = None

    def collect(self, call: Call, response: Any, exception: Exception | None) -> None:
        """Take one inner answer (the batch callback's arguments, the call resolved)."""
        if exception is None:
            if call.kind == MESSAGE:
                self.found[call.key] = response
                return
            wanted = set(call.wanted)
            answered = {
                str(message.get("id")): message
                for message in response.get("messages", [])
                if message.get("id") in wanted
            }
            self.found.update(answered)
            self.again.extend(
                message_call(mid, self.get_units) for mid in call.wanted if mid not in answered
            )
            return
        if isinstance(exception, HttpError) and int(exception.resp.status) == 404:
            if call.kind == THREAD:  # each message may still exist: ask for them one by one
                self.again.extend(message_call(mid, self.get_units) for mid in call.wanted)
            return  # a message deleted between listing and fetching is skipped
        error = classify(exception)
        if isinstance(error, RateLimited):
            self.limited.append((call, error))
        elif self.failure is None:
            self.failure = error if isinstance(error, ProviderError) else ProviderError(str(error))
