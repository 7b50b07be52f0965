"""One connected Microsoft account as the seam's `AccountSources`: its mailbox and calendar,
sharing one Graph client, one token source and the mailbox's limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import httpx

from keepwarm.connectors.base import AccountSources
from keepwarm.connectors.microsoft.auth import MicrosoftAuth
from keepwarm.connectors.microsoft.calendar import GraphCalendarSource
from keepwarm.connectors.microsoft.graph import GRAPH_TIMEOUT, GraphClient
from keepwarm.connectors.microsoft.mail import PAGE_SIZE, GraphMailSource

__all__ = ["open_microsoft"]


def open_microsoft(
    auth: MicrosoftAuth,
    tokens: Mapping[str, Any],
    *,
    owner: str,
    slot: Callable[[], AbstractContextManager[object]] = nullcontext,
    spend: Callable[[int], None] = lambda requests: None,
    timeout: float = GRAPH_TIMEOUT,
    page_size: int = PAGE_SIZE,
    max_wait: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> AccountSources:
    """The sources of the account whose grant is `tokens` and whose address is `owner`.

    `slot` holds one of the mailbox's concurrent places around each request and `spend`
    draws each request from the shared budget (services provides both, in Redis when several
    workers run). Nothing is sent before the first read.
    """
    source = auth.tokens(tokens)
    graph = GraphClient(
        auth.endpoints.graph,
        source,
        timeout=timeout,
        transport=transport,
        slot=slot,
        spend=spend,
        sleep=sleep,
        max_wait=max_wait,
    )
    mail = GraphMailSource(graph, page_size=page_size)

    def close() -> None:
        mail.close()
        graph.close()

    return AccountSources(
        mail=mail,
        calendar=GraphCalendarSource(graph, owner, page_size=page_size),
        current_tokens=source.current_tokens,
        close=close,
    )
