"""Gmail-like conversation threading for seed messages.

Takeout's X-GM-THRID is Gmail's own thread id (in decimal; the API shows it in hex). Otherwise a
message joins the thread of any message it names in References/In-Reply-To, and failing that
the thread of the same subject once reply and forward prefixes are stripped (Enron mail has no
References). A message starting a thread gives it its own id, as in Gmail.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from keepwarm.connectors.types import MailMessage

__all__ = ["Threader", "normalized_subject"]

_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_MSG_ID = re.compile(r"<([^<>\s]+)>")


def normalized_subject(subject: str | None) -> str:
    """The subject without Re:/Fw:/Fwd: prefixes, blanks collapsed, lower case."""
    if not subject:
        return ""
    return " ".join(_PREFIX.sub("", subject).split()).lower()


class Threader:
    """Assigns thread ids to messages in arrival order (oldest first gives Gmail's ids)."""

    def __init__(self) -> None:
        self._by_message_id: dict[str, str] = {}
        self._by_subject: dict[str, str] = {}

    def assign(self, record: MailMessage, headers: Sequence[tuple[str, str]], own_id: str) -> str:
        """The thread id for `record`, whose own Gmail id is `own_id`."""
        subject = normalized_subject(record.subject)
        thread = _gmail_thread(record.thread_id)
        if thread is None:
            for reference in _references(record, headers):
                thread = self._by_message_id.get(reference)
                if thread is not None:
                    break
        if thread is None and subject:
            thread = self._by_subject.get(subject)
        if thread is None:
            thread = own_id
        if record.message_id:
            self._by_message_id.setdefault(record.message_id, thread)
        if subject:
            self._by_subject.setdefault(subject, thread)
        return thread


def _gmail_thread(value: str | None) -> str | None:
    if not value:
        return None
    return format(int(value), "x") if value.isdigit() else value


def _references(record: MailMessage, headers: Sequence[tuple[str, str]]) -> list[str]:
    found: list[str] = []
    for name, value in headers:
        if name.lower() == "references":
            found.extend(_MSG_ID.findall(value))
    found.reverse()  # the nearest ancestor is listed last
    if record.in_reply_to:
        found.insert(0, record.in_reply_to)
    return found
