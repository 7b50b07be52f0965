"""Delta rounds, the machinery behind `messages/delta` and `calendarView/delta`.

A collection (one mail folder, the calendar view) numbers every change from one counter: an
item carries the number of its last change, and an item that left (deleted, moved elsewhere,
out of the view) leaves a tombstone with the number of its leaving. A round is every change in
`(base, snapshot]`, `snapshot` being the counter when the round began: the first round
(`initial`) lists the items present, later rounds the items changed since and the tombstones
(`@removed`). A page resumes after the last position it delivered, so items that change while
a round is paged are simply left to the next round. The skip and delta tokens are opaque JSON
states (base64url); they carry the collection's epoch, and an expired epoch is Graph's 410
SyncStateNotFound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from keepwarm.connectors.sandbox.google.pages import decode_token, encode_token
from keepwarm.connectors.sandbox.microsoft.errors import bad_request

__all__ = ["DeltaState", "Page", "Tombstone", "decode_state", "run_page"]

T = TypeVar("T")
# Items per page unless `Prefer: odata.maxpagesize` (or `$top`) says otherwise, and the most a
# page holds whatever is asked. Graph's documented default for message delta is 10; the cap of
# 1,000 is an assumption (Graph caps `$top` of message lists at 1,000).
DEFAULT_PAGE = 10
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Tombstone:
    """An item that left the collection at change number `change`."""

    id: str
    change: int


@dataclass
class DeltaState:
    """What a skip or delta token encodes.

    `key` names the collection (a folder id, "calendar"); `query` is whatever the first request
    asked for (selected fields, order, filter, the calendar's range), replayed from the token.
    `after` is the position the last page ended at (None at the start of a round) and `count`
    how many items the round has delivered. `initial` marks the first round, which lists what
    is present rather than what changed.
    """

    key: str
    base: int
    snapshot: int
    epoch: int
    initial: bool
    query: dict[str, Any] = field(default_factory=dict)
    after: list[Any] | None = None
    count: int = 0

    def skip_token(self) -> str:
        return encode_token(
            {
                "k": self.key,
                "b": self.base,
                "s": self.snapshot,
                "e": self.epoch,
                "i": self.initial,
                "q": self.query,
                "a": self.after,
                "n": self.count,
            }
        )

    def delta_token(self) -> str:
        """The token of the next round: changes after this round's snapshot."""
        return encode_token(
            {
                "k": self.key,
                "b": self.snapshot,
                "s": None,
                "e": self.epoch,
                "i": False,
                "q": self.query,
            }
        )


def decode_state(token: str) -> DeltaState:
    """The state in a skip or delta token. Raises GraphError 400 for a token we never issued."""
    state: dict[str, Any] | None = decode_token(token)
    try:
        assert state is not None
        snapshot = state.get("s")
        after = state.get("a")
        return DeltaState(
            key=str(state["k"]),
            base=int(state["b"]),
            snapshot=-1 if snapshot is None else int(snapshot),
            epoch=int(state["e"]),
            initial=bool(state.get("i")),
            query=dict(state.get("q") or {}),
            after=list(after) if isinstance(after, list) else None,
            count=int(state.get("n") or 0),
        )
    except (AssertionError, KeyError, TypeError, ValueError):
        raise bad_request(
            "The value of the delta token is not valid.", code="ErrorInvalidUrlQuery"
        ) from None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page: the items and tombstones in order, and the state to continue with (`more`
    False: the round is over and `state.delta_token()` starts the next)."""

    entries: list[T | Tombstone]
    state: DeltaState
    more: bool


def run_page(
    state: DeltaState,
    *,
    present: Sequence[T],
    tombstones: Sequence[Tombstone],
    change_of: Callable[[T], int],
    order_of: Callable[[T], list[Any]],
    size: int,
    limit: int | None = None,
) -> Page[T]:
    """The next page of the round `state` describes (whose `snapshot` is already set).

    The first round lists `present` items changed at or before the snapshot in `order_of`
    order (at most `limit` of them in all); later rounds list items and tombstones changed in
    `(base, snapshot]` in order of change.
    """
    entries: list[tuple[list[Any], T | Tombstone]]
    if state.initial:
        entries = [(order_of(item), item) for item in present if change_of(item) <= state.snapshot]
    else:
        window = range(state.base + 1, state.snapshot + 1)
        entries = [([change_of(item)], item) for item in present if change_of(item) in window]
        entries += [([stone.change], stone) for stone in tombstones if stone.change in window]
    entries.sort(key=lambda entry: entry[0])
    if state.after is not None:
        after = state.after
        entries = [entry for entry in entries if entry[0] > after]
    budget = size if limit is None else max(min(size, limit - state.count), 0)
    chosen = entries[:budget]
    more = len(entries) > len(chosen) and (limit is None or state.count + len(chosen) < limit)
    following = DeltaState(
        key=state.key,
        base=state.base,
        snapshot=state.snapshot,
        epoch=state.epoch,
        initial=state.initial,
        query=state.query,
        after=chosen[-1][0] if chosen else state.after,
        count=state.count + len(chosen),
    )
    return Page([entry for _, entry in chosen], following, more)
