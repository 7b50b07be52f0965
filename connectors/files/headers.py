"""The one header parser every mail format shares: header block bytes in, `MailMessage` out.

Speed matters more than generality here (a mailbox has hundreds of thousands of messages), so we
never build an `email.message.Message`. We split the header block ourselves, keep only the fields
a `MailMessage` needs, and parse them with the helpers the compat32 policy relies on
(`getaddresses`, `parsedate_to_datetime`), with a regex fast path for the two address shapes
nearly all mail uses. `policy=default` would build rich header objects: six times slower.

Nothing here raises on bad content: a header block that is not a message becomes `Unreadable`,
and a message with a broken field keeps its other fields and records the damage in `problems`.
"""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime
from typing import Protocol, TypeAlias

from keepwarm.connectors.files.folders import is_sent_folder, is_sent_label
from keepwarm.connectors.text import one_line
from keepwarm.connectors.types import Address, MailMessage, Unreadable

__all__ = [
    "HEADER_LIMIT",
    "Readable",
    "decode_words",
    "enron_names",
    "parse_header_block",
    "read_header_block",
    "split_addresses",
]

# A header block longer than this is not one (real ones, even with 500 recipients, stay far
# below); it also bounds the memory a single garbage file can take.
HEADER_LIMIT = 1 << 20
_CHUNK = 16 * 1024

# Dates at or before the DOS epoch are what broken clients write for "no date" (Enron has
# 1979-12-31T16:00-08:00), and dates after 2100 are typos; neither says when mail was sent.
_EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
_LATEST_YEAR = 2100

# How far a sender's clock may run ahead of the receiving server's before its Date is not
# believed (see believed_sent_at).
CLOCK_SKEW = timedelta(days=1)

# The fields a MailMessage is built from; every other header line is skipped unparsed.
_WANTED = frozenset(
    {
        b"from",
        b"sender",
        b"to",
        b"cc",
        b"bcc",
        b"reply-to",
        b"date",
        b"subject",
        b"message-id",
        b"in-reply-to",
        b"list-id",
        b"list-unsubscribe",
        b"precedence",
        b"auto-submitted",
        b"content-type",
        b"x-autoreply",
        b"x-autorespond",
        b"x-gmail-labels",
        b"x-gm-thrid",
        b"x-from",
        b"x-to",
        b"x-cc",
        b"received",
    }
)

# A header line: a field name of printable ASCII without colon, optional blanks (obsolete syntax
# still found in old mail), then the colon.
_FIELD = re.compile(rb"([!-9;-~]+)[ \t]*:")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_MSG_ID = re.compile(r"<([^<>]*)>")
_LABEL = re.compile(r'"([^"]*)"|([^,]+)')
# One comma-separated entry of an address list, commas inside quoted strings included.
_ENTRY = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^",])+')
# The two shapes nearly every entry has: a bare `local@domain`, or a phrase or quoted string
# followed by `<local@domain>`; no escapes, comments, groups or routes (those take the slow path).
_ATOM_ADDRESS = r'[^\s"()<>\[\]:;@\\,]+@[^\s"()<>\[\]:;@\\,]+'
_SIMPLE_ENTRY = re.compile(
    rf'\s*(?:({_ATOM_ADDRESS})|(?:"([^"\\]*)"|([^"()<>\[\]:;@\\,]*?))\s*<({_ATOM_ADDRESS})>)\s*'
)
_ADDRESS_FIELDS = frozenset({"From", "Sender", "To", "Cc", "Bcc", "Reply-To"})
# The bracket after each name in Exchange-style X- lists: `</O=ENRON/...>` or, for outside
# people, `<addr@host>`.
_X_BRACKET = re.compile(r"\s*<[^<>]*>\s*,?\s*")
# Notes gateway residue after an address: `"Zeringue,Oswald J" <ojzeringue@tva.gov> @ ENRON`.
_X_GATEWAY = re.compile(r">\s*@\s*[\w.-]+")

# Python 3.11.10+ and 3.12+ default to strict address parsing, which turns a header with one
# malformed mailbox into no addresses at all; real mail needs the tolerant parse.
_LENIENT: dict[str, bool] = (
    {"strict": False} if "strict" in inspect.signature(getaddresses).parameters else {}
)

_Fields: TypeAlias = dict[bytes, list[list[bytes]]]


class Readable(Protocol):
    """Anything with a binary `read`: a raw or buffered file, a GzipFile."""

    def read(self, size: int, /) -> bytes | None: ...


def read_header_block(stream: Readable) -> tuple[bytes, str | None]:
    """Read one message's header block: from the stream's position up to the first blank line.

    Only the header bytes (plus at most one read-ahead chunk) are read, never the body. Returns
    the block and None, or the block read so far and why it is incomplete ("truncated inside the
    headers", "header block over 1 MiB"). A block that ends at end of input right after a
    complete line is a message without body and counts as complete.

    Raises OSError from the stream.
    """
    buf = b""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            if buf and not buf.endswith(b"\n"):
                return buf, "truncated inside the headers"
            return buf, None
        searched = max(0, len(buf) - 2)
        buf += chunk
        if buf[:1] == b"\n" or buf[:2] == b"\r\n":
            return b"", None
        found = _BLANK_LINE.search(buf, searched)
        if found is not None:
            return buf[: found.start()], None
        if len(buf) > HEADER_LIMIT:
            return buf[:HEADER_LIMIT], "header block over 1 MiB"


def parse_header_block(
    block: bytes,
    *,
    source: str,
    folder: str | None = None,
    incomplete: str | None = None,
) -> MailMessage | Unreadable:
    """Build a MailMessage from one header block (the bytes before the first blank line).

    `folder` is where the message was filed; `incomplete` is the reason `read_header_block` (or
    the mbox splitter) gave for a block it could not finish. A leading mbox "From " line is
    skipped. Returns Unreadable, never raises, when the block is not a message: binary data, no
    header lines, truncated, or no sender and no recipient address.
    """
    if not block.strip():
        return Unreadable(source, "empty: no headers")
    if b"\x00" in block:
        return Unreadable(source, "binary data, not a message")
    if incomplete is not None:
        return Unreadable(source, incomplete)
    fields, count = _split_fields(block)
    if count == 0:
        return Unreadable(source, "no header lines: not a message")
    try:
        return _build(fields, source, folder)
    except Exception as exc:  # the contract is "never raise on content"
        # Every helper below is written not to raise; this is the last line of defence so one
        # message the stdlib chokes on in some unforeseen way cannot stop a whole import.
        return Unreadable(source, f"unparseable headers: {type(exc).__name__}")


def _split_fields(block: bytes) -> tuple[_Fields, int]:
    """Unfold the header lines; returns the wanted fields (raw, per occurrence) and the count of
    header lines seen. A line that is neither a header nor a continuation ends the headers, as in
    the stdlib parser (the body started without a blank line)."""
    fields: _Fields = {}
    count = 0
    current: list[bytes] | None = None
    lines = block.replace(b"\r\n", b"\n").split(b"\n")
    if lines[0].startswith((b"From ", b">From ")):  # mbox envelope line, not a header
        del lines[0]
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                current.append(line)
            continue
        match = _FIELD.match(line)
        if match is None:
            break
        count += 1
        name = match.group(1).lower()
        if name in _WANTED:
            current = [line[match.end() :]]
            fields.setdefault(name, []).append(current)
        else:
            current = None
    return fields, count


def _build(fields: _Fields, source: str, folder: str | None) -> MailMessage | Unreadable:
    problems: list[str] = []
    undecodable: list[str] = []

    def text(name: bytes) -> str | None:
        occurrences = fields.get(name)
        if not occurrences:
            return None
        return _decode(b"".join(occurrences[0]), name, problems, undecodable)

    def addresses(name: bytes, x_name: bytes | None = None) -> tuple[Address, ...]:
        occurrences = fields.get(name)
        if not occurrences:
            return ()
        values = [_decode(b"".join(raw), name, problems, undecodable) for raw in occurrences]
        strict_ascii = name.decode().title() in undecodable
        x_value = text(x_name) if x_name is not None and x_name in fields else None
        return _addresses(values, x_value, strict_ascii=strict_ascii)

    from_ = addresses(b"from", b"x-from")
    sender = from_[0] if from_ else next(iter(addresses(b"sender")), None)
    to = addresses(b"to", b"x-to")
    cc = addresses(b"cc", b"x-cc")
    bcc = addresses(b"bcc")
    if sender is None and not (to or cc or bcc):
        broken = [name for name in undecodable if name in _ADDRESS_FIELDS]
        if broken:
            return Unreadable(source, f"undecodable header: {', '.join(broken)}")
        return Unreadable(source, "no sender or recipient address")

    received_at = _received_at(fields)
    sent_at = believed_sent_at(_date(text(b"date"), problems), received_at, problems)
    subject = _one_line(decode_words(text(b"subject") or ""))
    labels = _labels(text(b"x-gmail-labels"))
    content_type = text(b"content-type")
    return MailMessage(
        source=source,
        message_id=_msg_id(text(b"message-id")),
        sent_at=sent_at,
        subject=subject or None,
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=addresses(b"reply-to"),
        in_reply_to=_msg_id(text(b"in-reply-to")),
        folder=folder,
        labels=labels,
        in_sent_folder=is_sent_folder(folder) or is_sent_label(labels),
        list_id=_one_line(decode_words(text(b"list-id") or "")) or None,
        list_unsubscribe=b"list-unsubscribe" in fields,
        precedence=_lower(text(b"precedence")),
        auto_submitted=_lower(text(b"auto-submitted")),
        content_type=_lower(content_type.split(";", 1)[0]) if content_type else None,
        # Only headers that exist for nothing but marking auto-replies. Exchange's
        # X-Auto-Response-Suppress is not one: Outlook sets it on ordinary mail too, and its real
        # auto-replies also carry Auto-Submitted, which is kept above.
        auto_reply_header=b"x-autoreply" in fields or b"x-autorespond" in fields,
        thread_id=_lower(text(b"x-gm-thrid")),
        received_at=received_at,
        problems=tuple(problems),
    )


def _decode(raw: bytes, name: bytes, problems: list[str], undecodable: list[str]) -> str:
    """Header bytes to text: UTF-8 (RFC 6532) or, for legacy 8-bit mail, Latin-1, noted."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        label = name.decode().title()
        if label not in undecodable:
            undecodable.append(label)
            problems.append(f"not UTF-8, read as Latin-1: {label}")
        return raw.decode("latin-1")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words ("=?utf-8?q?Jos=C3=A9?="); garbage stays as it was.

    Unknown charsets and broken encodings are decoded with replacement characters. Never raises.
    """
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # unknown charset names, bad base64, ... in real mail
        pass
    try:
        chunks = []
        for chunk, charset in decode_header(value):
            if isinstance(chunk, str):
                chunks.append(chunk)
            else:
                chunks.append(_lenient_decode(chunk, charset))
        return "".join(chunks)
    except Exception:
        return value


def _lenient_decode(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "ascii", "replace")
    except LookupError:
        return data.decode("latin-1")


def _addresses(
    values: list[str], x_value: str | None, *, strict_ascii: bool
) -> tuple[Address, ...]:
    """Parse address header values; fill missing display names from Enron's X- header.

    `strict_ascii` drops addresses containing non-ASCII characters: they came from bytes that
    were not UTF-8, and a guessed address would be a wrong person.
    """
    pairs = [pair for pair in split_addresses(values) if pair[0] or pair[1]]
    x_names: list[str | None] = []
    if x_value is not None and any(not name for name, _ in pairs):
        x_names = enron_names(x_value)
        if len(x_names) != len(pairs):  # positional matching only when the counts agree
            x_names = []
    result: list[Address] = []
    for index, (raw_name, raw_email) in enumerate(pairs):
        email = raw_email.strip().strip("<>").strip().lower()
        if "@" not in email or " " in email:
            continue
        if strict_ascii and not email.isascii():
            continue
        name = _display_name(raw_name)
        if name is None and x_names:
            name = x_names[index]
        result.append(Address(email, name))
    return tuple(result)


def split_addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, address) pairs of address header values, as `getaddresses` gives them.

    `getaddresses` walks every character in Python and dominates an import's time, yet nearly
    all real entries are `addr@host` or `Name <addr@host>`: those are matched with one regex
    each, everything else (groups, comments, escapes, obsolete routes) goes to `getaddresses`.
    """
    pairs: list[tuple[str, str]] = []
    for value in values:
        if "(" in value or "\\" in value or value.count('"') % 2:
            # Comments, escapes and unbalanced quotes: exactly as the stdlib reads them.
            pairs.extend(getaddresses([value], **_LENIENT))
            continue
        for entry in _ENTRY.findall(value):
            simple = _SIMPLE_ENTRY.fullmatch(entry)
            if simple is not None:
                bare, quoted, phrase, address = simple.groups()
                pairs.append((quoted or phrase or "", bare or address))
            elif entry.strip():
                pairs.extend(getaddresses([entry], **_LENIENT))
    return pairs


def _display_name(raw: str) -> str | None:
    if not raw:
        return None
    name = _one_line(decode_words(raw)).strip("\"' ")
    if not name or ("@" in name and " " not in name):  # the address again, not a name
        return None
    return name


def enron_names(value: str) -> list[str | None]:
    """Display names from an Enron `X-From`/`X-To`/`X-cc` header, one per listed mailbox.

    Three shapes occur: Exchange `Chapman, Kay </O=ENRON/OU=NA/CN=RECIPIENTS/CN=KCHAPMA>`
    (becomes "Kay Chapman"), RFC 822 `"Name" <addr>` and Notes' plain `Mike Curry, Tim Belden`.
    An entry that is an address or a Notes path rather than a name gives None.
    """
    value = _one_line(value)
    if not value:
        return []
    if "</o=" in value.lower():
        entries = [entry for entry in _X_BRACKET.split(value) if entry.strip(" ,")]
        return [_enron_name(entry, last_first=True) for entry in entries]
    if "<" in value:
        return [
            _enron_name(name, last_first=True) if name else None
            for name, address in getaddresses([_X_GATEWAY.sub(">", value)], **_LENIENT)
            if name or address
        ]
    # Plain Notes lists are "First Last, First Last": here a comma separates people.
    return [_enron_name(entry, last_first=False) for entry in value.split(",")]


def _enron_name(entry: str, *, last_first: bool) -> str | None:
    name = entry.strip("\"' ")
    if not name or name.lower().startswith("/o="):
        return None
    if "@" in name:
        # Notes writes external lists as "Enron In Action@ENRON"; a bare address has no name.
        left = name.split("@", 1)[0].strip()
        if " " not in left:
            return None
        name = left
    if "/" in name:  # Notes hierarchical name "David W Delainey/HOU/ECT"
        name = name.split("/", 1)[0].strip()
        if " " not in name:
            return None
    if last_first and name.count(",") == 1:  # "Last, First" as Exchange displays it
        last, first = name.split(",", 1)
        name = f"{first.strip()} {last.strip()}".strip()
    return name or None


def _date(raw: str | None, problems: list[str]) -> datetime | None:
    if raw is None:
        problems.append("no Date header")
        return None
    shown = _one_line(raw)[:80]
    try:
        parsed = parsedate_to_datetime(raw)
    except Exception:  # ValueError/TypeError/IndexError depending on the garbage
        problems.append(f"unparseable date: {shown}")
        return None
    try:
        # A naive result means "-0000": UTC with the sender's zone unknown (RFC 5322 3.3).
        utc = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        problems.append(f"impossible date: {shown}")
        return None
    if utc <= _EARLIEST or utc.year > _LATEST_YEAR:
        problems.append(f"impossible date: {shown}")
        return None
    return utc


def _received_at(fields: _Fields) -> datetime | None:
    """When the last server accepted the message: the date after the `;` of the topmost
    `Received:` line (RFC 5321 4.4), or None. Not an mbox envelope line's date: tools write
    placeholders there (keepwarm's own demo sample has one date for every message)."""
    received = fields.get(b"received")
    if received:
        raw = b"".join(received[0]).decode("latin-1")
        _, semicolon, when = raw.rpartition(";")
        if semicolon:
            return _date(when.strip(), [])
    return None


def believed_sent_at(
    sent_at: datetime | None, received_at: datetime | None, problems: list[str]
) -> datetime | None:
    """The time a message counts as sent: its `Date`, unless the receiving side says otherwise.

    A `Date` later than the receipt time (beyond clock skew) is the sender's word against the
    server's, and a date in the future would hold a contact's silence clock at zero: the
    receipt time is used instead, and noted. An older `Date` stays (delayed and forwarded mail
    was written when it says); no `Date` at all takes the receipt time.
    """
    if received_at is None:
        return sent_at
    if sent_at is None:
        problems.append("no usable Date: the receipt time is used")
        return received_at
    if sent_at > received_at + CLOCK_SKEW:
        problems.append("Date later than receipt: the receipt time is used")
        return received_at
    return sent_at


def _msg_id(raw: str | None) -> str | None:
    """The first message id of a Message-ID/In-Reply-To value, without angle brackets."""
    if raw is None:
        return None
    found = _MSG_ID.search(raw)
    value = found.group(1) if found else raw
    value = "".join(value.split())
    return value or None


def _labels(raw: str | None) -> tuple[str, ...]:
    """Takeout's X-Gmail-Labels: comma separated, labels with commas double-quoted."""
    if not raw:
        return ()
    labels = []
    for quoted, plain in _LABEL.findall(_one_line(raw)):
        label = _one_line(decode_words(quoted or plain))
        if label:
            labels.append(label)
    return tuple(labels)


def _one_line(value: str) -> str:
    return one_line(value)


def _lower(value: str | None) -> str | None:
    if value is None:
        return None
    return _one_line(value).lower() or None
