"""Google batch requests: multipart/mixed in, multipart/mixed out.

googleapiclient's `BatchHttpRequest` sends parts of type `application/http` with a
`Content-ID: <base + n>` each, bare-LF line endings and the inner request line, headers and
body; the answer must carry `Content-ID: <response-base + n>` per part, and CRLF between each
inner response's headers and body (the client splits on "\\r\\n\\r\\n").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from http.client import responses

from keepwarm.connectors.sandbox.google.errors import ApiError, bad_request
from keepwarm.connectors.sandbox.google.wire import Request, Response, parse_target

__all__ = ["BATCH_LIMITS", "run_batch"]

# Inner calls allowed per batch by path: Gmail's documented 100, Calendar's 1000.
BATCH_LIMITS = {"/batch": 100, "/batch/gmail/v1": 100, "/batch/calendar/v3": 1000}
# A line break followed by blanks inside a header value is folding (RFC 5322 2.2.3): the
# client's MIME generator folds a Content-ID longer than 78 characters, and Google unfolds it.
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def run_batch(request: Request, handle: Callable[[Request], Response]) -> Response:
    """Split a batch, answer each part with `handle` in order, and join the answers.

    Raises ApiError 400 for a body that is not a batch or holds too many calls.
    """
    limit = BATCH_LIMITS.get(request.path.rstrip("/"), 100)
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("multipart/mixed"):
        raise bad_request("Invalid batch request: Content-Type must be multipart/mixed")
    envelope = BytesParser(policy=compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + request.body
    )
    parts = envelope.get_payload() if envelope.is_multipart() else None
    if not isinstance(parts, list) or not parts:
        raise bad_request("Invalid batch request: no parts")
    if len(parts) > limit:
        raise bad_request(
            f"Inner request count exceeds the limit. Received: {len(parts)}, Limit: {limit}"
        )
    boundary = "batch_" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for part in parts:
        assert isinstance(part, Message)
        content_id = _FOLD.sub("", part.get("Content-ID") or "").strip()
        try:
            inner = _inner_request(part)
        except ApiError as exc:
            answer = exc.response()
        else:
            if inner.path.startswith("/batch"):
                answer = bad_request("Nested batch requests are not allowed").response()
            else:
                answer = handle(inner)
        chunks.append(_part(boundary, content_id, answer))
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return Response(200, body, f"multipart/mixed; boundary={boundary}")


def _inner_request(part: Message) -> Request:
    """The HTTP request in one `application/http` part."""
    payload = part.get_payload(decode=False)
    if not isinstance(payload, str):
        raise bad_request("Invalid batch part")
    raw = payload.encode("utf-8", "surrogateescape").replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    lines = head.decode("utf-8", "replace").split("\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise bad_request(f"Invalid request line in batch part: {lines[0]!r}") from None
    headers: dict[str, str] = {}
    for line in _FOLD.sub("", "\n".join(lines[1:])).split("\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip()] = value.strip()
    return parse_target(method, target, headers, body)


def _part(boundary: str, content_id: str, answer: Response) -> bytes:
    if content_id.startswith("<") and content_id.endswith(">"):
        response_id = f"<response-{content_id[1:-1]}>"
    else:
        response_id = f"<response-{content_id}>"
    reason = responses.get(answer.status, "")
    lines = [
        f"--{boundary}",
        "Content-Type: application/http",
        f"Content-ID: {response_id}",
        "",
        f"HTTP/1.1 {answer.status} {reason}",
        f"Content-Type: {answer.content_type}",
        *(f"{name}: {value}" for name, value in answer.headers),
        f"Content-Length: {len(answer.body)}",
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + answer.body + b"\r\n"
