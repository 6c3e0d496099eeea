"""The mock's pytest plugin, registered through the `pytest11` entry point (`incident_mock`).

Fixtures:
- `incident_mock` (session): an `IncidentMock`. It starts one mock on a free loopback port for the session
  (one per pytest-xdist worker), or drives an already running one given by `--incident-mock-url` or the
  `INCIDENT_MOCK_URL` environment variable (with `--incident-mock-admin-token` or
  `INCIDENT_MOCK_ADMIN_TOKEN` when it has an admin token, or only the create-only token it was given with
  `--sandbox-create-token`: `--incident-mock-create-token` or `INCIDENT_MOCK_SANDBOX_CREATE_TOKEN`).
  Each sandbox is then managed with its own control token.
- `incident_sandbox` (function): a fresh `Sandbox` of that mock for each test, deleted after it. The marker
  `@pytest.mark.incident_sandbox(seed=7, frozen_at="2026-01-01T00:00:00Z", fixtures=None)` on a test (or
  its class or module) makes it as `IncidentMock.sandbox` would with those arguments: ids seeded, clock
  frozen (an RFC 3339 string or a timezone-aware datetime), its own fixtures document.
- `incident_webhooks` (function): a `WebhookReceiver` on a free loopback port, registered with the test's
  sandbox for every event type (`receiver.endpoint`), that verifies and collects each delivery
  (`receiver.wait_for(event_type)`). The mock must be able to reach 127.0.0.1 on this machine.

Loading it costs next to nothing: this module imports only pytest; the testing kit (and with it httpx,
Connexion and uvicorn) is imported when a test first asks for a fixture. Disable it with
`-p no:incident_mock`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from incident_mock.testing import IncidentMock, Sandbox, WebhookReceiver

URL_ENV = "INCIDENT_MOCK_URL"
ADMIN_TOKEN_ENV = "INCIDENT_MOCK_ADMIN_TOKEN"
CREATE_TOKEN_ENV = "INCIDENT_MOCK_SANDBOX_CREATE_TOKEN"
MARKER = "incident_sandbox"
MARKER_OPTIONS = ("fixtures", "seed", "frozen_at")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(seed=None, frozen_at=None, fixtures=None): how the incident_sandbox fixture makes the "
        "test's sandbox (ids seeded by seed, clock frozen at frozen_at, an RFC 3339 string or a datetime)",
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("incident_mock", "incident-contract mock")
    group.addoption(
        "--incident-mock-url",
        default=None,
        metavar="URL",
        help=f"drive the mock running at URL instead of starting one (or set {URL_ENV})",
    )
    group.addoption(
        "--incident-mock-admin-token",
        default=None,
        metavar="TOKEN",
        help=f"the admin token of the mock at --incident-mock-url (or set {ADMIN_TOKEN_ENV})",
    )
    group.addoption(
        "--incident-mock-create-token",
        default=None,
        metavar="TOKEN",
        help=f"instead of the admin token: the mock's sandbox-create token (or set {CREATE_TOKEN_ENV})",
    )


@pytest.fixture(scope="session")
def incident_mock(request: pytest.FixtureRequest) -> Iterator[IncidentMock]:
    """The session's mock: started on a free loopback port, or the one at --incident-mock-url."""
    from incident_mock.testing import IncidentMock

    url = request.config.getoption("--incident-mock-url") or os.environ.get(URL_ENV)
    if url:
        token = request.config.getoption("--incident-mock-admin-token") or os.environ.get(ADMIN_TOKEN_ENV)
        maker = request.config.getoption("--incident-mock-create-token") or os.environ.get(CREATE_TOKEN_ENV)
        with IncidentMock.connect(
            str(url), admin_token=str(token) if token else None, create_token=str(maker) if maker else None
        ) as mock:
            yield mock
    else:
        with IncidentMock() as mock:
            yield mock


def sandbox_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The arguments of the test's `incident_sandbox` marker (the closest one), checked."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    unknown = sorted(set(marker.kwargs) - set(MARKER_OPTIONS))
    if marker.args or unknown:
        given = [*map(repr, marker.args), *unknown]
        pytest.fail(
            f"@pytest.mark.{MARKER} takes the keywords {', '.join(MARKER_OPTIONS)}; not {', '.join(given)}",
            pytrace=False,
        )
    options = dict(marker.kwargs)
    if isinstance(options.get("frozen_at"), str):
        try:
            options["frozen_at"] = dt.datetime.fromisoformat(options["frozen_at"])
        except ValueError:
            pytest.fail(
                f"@pytest.mark.{MARKER}: frozen_at {options['frozen_at']!r} is not an RFC 3339 instant",
                pytrace=False,
            )
    return options


@pytest.fixture
def incident_sandbox(incident_mock: IncidentMock, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A fresh sandbox of the session's mock, deleted after the test; made as the test's
    `@pytest.mark.incident_sandbox(seed=..., frozen_at=..., fixtures=...)` asks, when it has one."""
    with incident_mock.sandbox(**sandbox_options(request)) as sandbox:
        yield sandbox


@pytest.fixture
def incident_webhooks(incident_sandbox: Sandbox) -> Iterator[WebhookReceiver]:
    """A receiver registered with the test's sandbox: it verifies and keeps every delivery."""
    from incident_mock.testing import WebhookReceiver

    with WebhookReceiver() as receiver:
        endpoint = incident_sandbox.webhooks.register(receiver.url)
        receiver.secret = endpoint.secret
        receiver.endpoint = endpoint
        yield receiver
