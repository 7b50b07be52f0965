"""The REST API's request and response bodies (pydantic): the OpenAPI document is made from
these. Times are ISO 8601 strings in UTC ("2001-02-28T23:59:59Z"), as the CLI's --json."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "AccountOut",
    "AccountPage",
    "AnswerIn",
    "AnswerOut",
    "ContactDetail",
    "ContactOut",
    "ContactPage",
    "ContactRef",
    "DeleteIn",
    "DeletedOut",
    "DisconnectIn",
    "DisconnectOut",
    "ErrorBody",
    "ErrorOut",
    "FollowUpIn",
    "FollowUpOut",
    "IdentityOut",
    "IntroOut",
    "IntroPage",
    "MeOut",
    "MonthOut",
    "NoteIn",
    "NoteOut",
    "SettingsIn",
    "SettingsOut",
    "SuggestionOut",
    "SuggestionPage",
    "TimelineEntry",
    "TimelinePage",
    "TokenCreated",
    "TokenIn",
    "TokenOut",
]

MAX_ID = 2**31 - 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _In(BaseModel):
    # Strict: `true` is no hour and "7" no number; JSON's own types only.
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # No text field anywhere may hold NUL: PostgreSQL cannot store it.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("contains a NUL character")
        return value


class ErrorBody(_Out):
    code: str = Field(description="stable: invalid_input, not_found, not_signed_in, ...")
    message: str
    field: str | None = Field(description="the field at fault, when one is")


class ErrorOut(_Out):
    error: ErrorBody


class ContactRef(_Out):
    id: int
    name: str | None
    addresses: list[str]


class SuggestionOut(_Out):
    contact: ContactRef
    last_interaction_at: str
    months_silent: float
    typical_gap_days: float | None
    emails_sent: int
    emails_received: int
    meetings: int
    last_subject: str | None
    score: float
    why: str
    level: Literal["due", "overdue", "dormant"]
    threshold_days: float


class SuggestionPage(_Out):
    items: list[SuggestionOut]
    next_cursor: str | None


class ContactOut(_Out):
    id: int
    name: str | None
    addresses: list[str]
    last_interaction_at: str
    first_interaction_at: str
    emails_sent: int
    emails_received: int
    meetings: int
    talked_elsewhere: int
    typical_gap_days: float | None
    strength: float


class ContactPage(_Out):
    items: list[ContactOut]
    next_cursor: str | None


class NoteOut(_Out):
    at: str
    text: str


class FollowUpOut(_Out):
    id: int
    due_at: str
    set_at: str
    reason: str | None


class MonthOut(_Out):
    month: str
    sent: int
    received: int
    met: int
    elsewhere: int


class ContactDetail(_Out):
    id: int
    name: str | None
    addresses: list[str]
    relationship: bool
    last_interaction_at: str | None = None
    first_interaction_at: str | None = None
    emails_sent: int | None = None
    emails_received: int | None = None
    meetings: int | None = None
    talked_elsewhere: int | None = None
    typical_gap_days: float | None = None
    strength: float | None = None
    notes: list[NoteOut]
    follow_ups: list[FollowUpOut]
    months: list[MonthOut]


class TimelineEntry(_Out):
    at: str
    kind: Literal["sent", "received", "met", "elsewhere", "note"]
    subject: str | None
    group_size: int | None


class TimelinePage(_Out):
    items: list[TimelineEntry]
    next_cursor: str | None


class AnswerIn(_In):
    action: Literal["done", "talked", "snooze", "stop", "resume"]
    snooze_days: int | None = Field(
        default=None, ge=1, le=365, description="required with action=snooze"
    )


class AnswerOut(_Out):
    action: str
    until: str | None
    message: str


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=5000)


class FollowUpIn(_In):
    due_in_days: int = Field(ge=1, le=365)
    reason: str | None = Field(default=None, max_length=200)


class IntroOut(_Out):
    id: int | None
    name: str | None
    addresses: list[str]
    tie_strength: float
    threads: int
    meetings: int
    last_together: str
    score: float
    evidence: str


class IntroPage(_Out):
    items: list[IntroOut]


class RunOut(_Out):
    status: str
    seen: int
    imported: int
    events_seen: int
    events_imported: int
    failed: int
    filtered: dict[str, int]
    skipped: dict[str, int]
    error: str | None


class ProgressOut(_Out):
    running_since: str | None
    streams_done: int
    streams_started: int
    reached_back_to: str | None
    window_starts: str


class AccountOut(_Out):
    id: int
    provider: str
    email: str
    # token_key_mismatch: this server's KEEPWARM_TOKEN_KEY cannot open the account's tokens
    status: Literal["active", "reconnect_needed", "disconnected", "token_key_mismatch"]
    status_reason: str | None
    since: str
    phase: Literal["backfill", "incremental"]
    last_sync_at: str | None
    last_success_at: str | None
    messages: int
    filtered: dict[str, int]
    last_run: RunOut | None
    progress: ProgressOut | None


class AccountPage(_Out):
    items: list[AccountOut]


class DisconnectIn(_In):
    purge: bool = False


class DisconnectOut(_Out):
    email: str
    purged: bool


class SettingsOut(_Out):
    email: str | None
    timezone: str
    digest_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    digest_hour: int
    digests_enabled: bool
    prompts_enabled: bool
    floor_months: float
    digest_size: int
    excluded: list[str]


class SettingsIn(_In):
    """Any of the settings; the others stay as they are."""

    email: str | None = Field(default=None, max_length=320, description="null: first mailbox")
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    digest_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = None
    digest_hour: int | None = Field(default=None, ge=0, le=23)
    digests_enabled: bool | None = None
    prompts_enabled: bool | None = None
    floor_months: float | None = Field(default=None, ge=0.5, le=60)
    digest_size: int | None = Field(default=None, ge=3, le=10)
    excluded: list[str] | None = Field(default=None, max_length=500)


class TokenIn(_In):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(_Out):
    id: int
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class TokenCreated(TokenOut):
    token: str = Field(description="shown this once; keepwarm keeps only its digest")


class IdentityOut(_Out):
    provider: str
    email: str


class MeOut(_Out):
    id: int
    name: str | None
    identities: list[IdentityOut]
    accounts: int


class DeleteIn(_In):
    confirm: Literal["delete my account"]


class DeletedOut(_Out):
    accounts: int
    people: int
    messages: int
    interactions: int
