"""Building the MIME message and handing it to an SMTP server (or a folder, embedded)."""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Literal, Protocol

from keepwarm.services.core.errors import AppError
from keepwarm.services.notify.render import RenderedEmail

__all__ = [
    "FileTransport",
    "MailTransport",
    "SendFailed",
    "SmtpTransport",
    "build_message",
    "sender_domain",
]


class SendFailed(AppError):
    """The mail server did not take the message. `permanent`: retrying will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailTransport(Protocol):
    """Something that delivers a finished message or raises SendFailed."""

    def send(self, message: EmailMessage) -> None: ...


def sender_domain(mail_from: str) -> str:
    """The domain of the From address ("localhost" when it has none)."""
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


def build_message(
    email: RenderedEmail,
    *,
    mail_from: str,
    to: str,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML preferred).

    List-Unsubscribe with List-Unsubscribe-Post gives the RFC 8058 one-click button Gmail and
    Yahoo require of bulk senders; Auto-Submitted keeps vacation auto-replies from answering
    (RFC 3834). The Message-ID is the delivery's, stable across retries.
    """
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = Address(addr_spec=to)
    # A subject is one line: CR or LF from a meeting title would be refused by the header
    # API (or, written raw, start a header of the title's choosing).
    message["Subject"] = " ".join(email.subject.split())
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


@dataclass(frozen=True)
class SmtpTransport:
    """SMTP with STARTTLS (587), implicit TLS (465) or neither (a local relay)."""

    host: str
    port: int
    security: Literal["starttls", "tls", "none"]
    username: str | None
    password: str | None
    timeout: float

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        try:
            if self.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=context)
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(
                f"the mail server refused the recipient: {exc.recipients}", permanent=True
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(f"the mail server refused our login: {exc.smtp_code}") from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server saying "never"; 4xx "not now".
            permanent = 500 <= exc.smtp_code < 600
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise SendFailed(f"SMTP {exc.smtp_code}: {text}", permanent=permanent) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"could not reach {self.host}:{self.port}: {exc}") from exc


@dataclass(frozen=True)
class FileTransport:
    """Embedded mode without SMTP: each message becomes an .eml file in `folder`."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"]).strip("<>").replace("/", "_") + ".eml"
        # Written whole and renamed: a reader never sees half a message.
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(message.as_bytes())
        os.replace(tmp, self.folder / name)
