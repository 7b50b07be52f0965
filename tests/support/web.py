"""The web app under test: signing in through a provider sandbox as a browser would, reading
CSRF tokens off pages, and a user's data imported from the demo sample."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from keepwarm.services.core.jobs import Job
from keepwarm.services.demo import DEMO_CALENDAR, SAMPLE_MAILBOX
from keepwarm.services.mail.derivation import derive_pending
from keepwarm.services.mail.importing import ImportOptions, import_paths
from keepwarm.services.runtime import Runtime

__all__ = [
    "AS_OF",
    "JobList",
    "csrf_of",
    "follow_consent",
    "import_sample",
    "sign_in",
    "start_sign_in",
]

# The demo sample's queue is shown as of this moment (its sent mail stops after February 2001).
AS_OF = datetime(2001, 2, 28, 23, 59, 59, tzinfo=UTC)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class JobList:
    """A job sink that keeps what it is sent."""

    jobs: list[Job] = field(default_factory=list)

    def send(self, job: Job) -> None:
        self.jobs.append(job)


def csrf_of(html: str) -> str:
    """The CSRF token the page's forms carry."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def follow_consent(url: str) -> str:
    """What a browser does at the sandbox's consent URL (it approves at once): the redirect's
    target, i.e. our callback with `code` and `state`."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 302, response.status
    return response.getheader("Location") or ""


def start_sign_in(client: TestClient, path: str = "/auth/google", **form: str) -> str:
    """Open the sign-in page (or the page at `form`'s origin) and press the button; returns
    the provider's consent URL."""
    csrf = form.pop("csrf", None) or csrf_of(client.get("/signin").text)
    response = client.post(path, data={"csrf": csrf, **form})
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def sign_in(client: TestClient, provider: str = "google") -> Any:
    """The whole round trip: sign-in page, consent at the sandbox, the callback. Returns the
    callback's response (303 to /queue when signed in)."""
    back = urlsplit(follow_consent(start_sign_in(client, f"/auth/{provider}")))
    return client.get(f"{back.path}?{back.query}")


def import_sample(runtime: Runtime, user_id: int) -> None:
    """The demo sample (a real Enron mailbox's headers and a calendar) as this user's data."""
    import_paths(
        runtime.session_factory,
        user_id,
        [SAMPLE_MAILBOX, DEMO_CALENDAR],
        ImportOptions(),
        JobList(),
        runtime.clock,
    )
    derive_pending(runtime.session_factory, user_id, runtime.derivation_rules)


@dataclass
class Browser:
    """One person's browser on the app: a test client holding their session cookie."""

    client: TestClient
    user_id: int

    def csrf(self) -> str:
        return csrf_of(self.client.get("/settings").text)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """An API call from the dashboard's own script: the session cookie and its CSRF header."""
        headers = {"X-CSRF-Token": self.csrf(), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


@dataclass
class TwoUsers:
    """A signed in with the Enron sample as their data; B signed in with one contact."""

    runtime: Runtime
    jobs: JobList
    a: Browser
    b: Browser
    sandbox_a: Any
    sandbox_b: Any


def signed_in_user(client: TestClient, runtime: Runtime) -> int:
    """Sign in through the sandbox and return the user id the session now belongs to."""
    from sqlalchemy import select

    from keepwarm.services.models import Identity

    done = sign_in(client)
    assert done.status_code == 303, done.text
    with runtime.session_factory() as session:
        ids = session.scalars(select(Identity.user_id).order_by(Identity.id.desc())).all()
    return int(ids[0])


def app_routes(app: Any) -> list[Any]:
    """Every endpoint of the app (FastAPI's APIRoutes), those of included routers too."""
    from fastapi.routing import APIRoute

    found: list[Any] = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.append(route)
        else:  # an included router (FastAPI keeps it whole)
            inner = getattr(getattr(route, "original_router", None), "routes", [])
            found.extend(r for r in inner if isinstance(r, APIRoute))
    return found


@contextmanager
def serving(app: Any, port: int) -> Iterator[str]:
    """`app` on a real HTTP port (uvicorn in a thread); yields its base URL."""
    import threading

    import uvicorn

    from tests.support.sync import wait_for

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, "the web app to listen", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


SCREENSHOTS = Path(__file__).resolve().parents[1] / "web" / "screenshots"


def screenshot(page: Any, name: str) -> Path:
    """Save the page (whole length) under tests/web/screenshots (kept by CI as artefacts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
