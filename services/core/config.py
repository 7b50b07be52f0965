"""The one settings object, built at the entry points and passed down as values."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "keepwarm"


class Settings(BaseSettings):
    """Everything keepwarm reads from the environment.

    Without `DATABASE_URL` and `REDIS_URL` it runs embedded: a SQLite file under `KEEPWARM_HOME`
    and an in-process broker and worker. With them it runs against PostgreSQL and Redis.
    """

    model_config = SettingsConfigDict(env_prefix="KEEPWARM_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=_default_home)
    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    redis_url: SecretStr | None = Field(default=None, validation_alias="REDIS_URL")
    # Dramatiq keys live under this prefix, so several deployments (or test runs) can share Redis.
    queue_namespace: str = "keepwarm"

    # What counts as a relationship (README, "What makes a relationship").
    floor_months: float = Field(default=3.0, gt=0)
    bulk_recipients: int = Field(default=10, ge=1)
    large_meeting_attendees: int = Field(default=8, ge=1)
    cooldown_days: int = Field(default=30, ge=0)
    # The learned queue order: a prior file other than the packaged one (bench/quality.py
    # scores each shared mailbox with a prior fitted without it), and whether the owner's
    # answers (done, talked, snooze, stop) are examples in their fit.
    ranker_prior: Path | None = None
    learn_from_answers: bool = True

    # Recurring events are expanded over this window around the import date.
    calendar_years_back: int = Field(default=25, ge=0)
    calendar_days_ahead: int = Field(default=365, ge=0)

    worker_threads: int = Field(default=2, ge=1)

    # OAuth tokens are encrypted at rest with this Fernet key; production refuses to run
    # without one. Google OAuth client credentials (the sandbox accepts any).
    token_key: SecretStr | None = None
    google_client_id: str = "keepwarm-local"
    google_client_secret: SecretStr = SecretStr("keepwarm-local-secret")
    sync_interval_minutes: int = Field(default=15, ge=1)
    # Gmail allows 250 units per user per second; a little headroom absorbs clock skew.
    gmail_units_per_second: int = Field(default=240, ge=5)
    backfill_years: float = Field(default=3.0, gt=0)
    # How long one Google call may wait for an answer before it counts as a transient failure.
    google_timeout_seconds: float = Field(default=30.0, gt=0)
    # The Microsoft app registration (Entra ID): its application (client) id, the secret of a
    # confidential (web) client or none for a public one, and the tenant: "common" (work and
    # personal accounts), "organizations", "consumers" or a tenant id. The sandbox accepts any.
    microsoft_client_id: str = "keepwarm-local"
    microsoft_client_secret: SecretStr | None = None
    microsoft_tenant: str = "common"
    microsoft_timeout_seconds: float = Field(default=30.0, gt=0)
    # Outlook allows 10,000 requests per 10 minutes and 4 at once per app and mailbox; every
    # worker shares these (in Redis when set), with headroom under the first.
    graph_requests_per_10_minutes: int = Field(default=9000, ge=10, le=10_000)
    graph_concurrent_requests: int = Field(default=4, ge=1, le=4)

    # Weekly digest and post-meeting prompts.
    # One-click links are signed with this key; production refuses to start without one.
    secret_key: SecretStr | None = None
    # Where the links in emails point: the address `keepwarm serve` is reachable at.
    public_url: str = "http://127.0.0.1:8000"
    digest_size: int = Field(default=6, ge=3, le=10)
    # A digest missed at its hour (scheduler down) still goes out within this many hours;
    # later, the week is recorded as missed rather than sent at an odd hour.
    digest_catch_up_hours: float = Field(default=12.0, gt=0)
    # No digest from data older than this: the user is told which account is behind instead.
    stale_after_hours: float = Field(default=48.0, gt=0)
    prompt_delay_minutes: int = Field(default=30, ge=0)
    # Meetings that ended longer ago than this never prompt (e.g. those a first sync brings).
    prompt_window_hours: float = Field(default=24.0, gt=0)
    link_max_age_days: int = Field(default=30, ge=1)
    # How often the scheduler asks "is any digest or prompt due?".
    tick_minutes: float = Field(default=5.0, gt=0)
    delivery_max_attempts: int = Field(default=6, ge=1)
    # A send claimed longer ago than this by a worker that never finished is taken over.
    delivery_claim_minutes: float = Field(default=10.0, gt=0)

    # Outgoing mail. Without an SMTP host, emails are written to KEEPWARM_HOME/outbox as .eml.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str = "keepwarm <keepwarm@localhost>"

    # The web app. Who may sign up: addresses and domains ("example.com, jane@gmail.com"), or
    # "*" for anyone; empty admits nobody new (an embedded install's own user still signs in
    # from this machine, see `local_signin`). Sessions last `session_days` from sign-in.
    signup_allowed: str = ""
    session_days: int = Field(default=30, ge=1, le=365)
    # Embedded only: a browser on this machine, talking to a loopback address, may open the
    # dashboard as the CLI's one user without a provider (no password is involved anywhere).
    local_signin: bool = True
    # How long the web process may reuse a user's built queue while nothing it was built from
    # changed (services.web.queue_cache); 0: never.
    queue_cache_seconds: float = Field(default=60.0, ge=0)

    # A worker killed mid-sync (SIGKILL, OOM, a lost machine). Its per-account sync leases name
    # it and are free once it has not shown it is alive for `worker_liveness_seconds` (a live
    # process says so every third of that, whatever it is doing, so a long wait never loses a
    # lease). Dramatiq hands the job it was running to another worker once it has sent Redis no
    # heartbeat for `broker_heartbeat_timeout_seconds`, checked on about
    # `broker_maintenance_per_million` of every million broker commands. The heartbeat timeout
    # must be the longer: a job handed over while the lease still looks held is dropped as
    # "syncing elsewhere" (the scheduler's next sync would pick the account up again).
    worker_liveness_seconds: float = Field(default=15.0, gt=0)
    broker_heartbeat_timeout_seconds: float = Field(default=60.0, gt=0)
    broker_maintenance_per_million: int = Field(default=1000, ge=1, le=1_000_000)

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(days=self.session_days)

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure when the public URL is https (behind a TLS proxy)."""
        return self.public_url.lower().startswith("https://")

    @property
    def embedded(self) -> bool:
        """True when no external database is configured."""
        return self.database_url is None

    @property
    def sqlite_path(self) -> Path:
        """Where the embedded database lives."""
        return self.home / "keepwarm.sqlite3"

    def sqlalchemy_url(self) -> str:
        """The database URL SQLAlchemy should use, with psycopg 3 for PostgreSQL."""
        if self.database_url is None:
            return f"sqlite:///{self.sqlite_path}"
        url = self.database_url.get_secret_value()
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    @model_validator(mode="after")
    def _leases_free_before_jobs_move(self) -> Settings:
        if self.broker_heartbeat_timeout_seconds <= self.worker_liveness_seconds:
            raise ValueError(
                "KEEPWARM_BROKER_HEARTBEAT_TIMEOUT_SECONDS must exceed "
                "KEEPWARM_WORKER_LIVENESS_SECONDS"
            )
        return self
