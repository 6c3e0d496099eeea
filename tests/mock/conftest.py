"""One mock app per session (Connexion's start-up is slow), a fresh default sandbox for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import yaml

from incident_mock.app import DEFAULT_FIXTURES, create_app
from incident_mock.resources.organisation import Rules, Store
from incident_mock.testing import IncidentMock, Sandbox
from tests.mock.seed import MAJOR
from tests.servers import serve


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    """The packaged seed data, parsed (a module's tests may not change it)."""
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        return yaml.safe_load(fh)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rules(spec: dict[str, Any]) -> Rules:
    return Rules.from_spec(spec)


@pytest.fixture(scope="module")
def mock() -> Iterator[IncidentMock]:
    """The testing kit's mock on a loopback port, for a module of tests (a module may define its own)."""
    with IncidentMock(validate_responses=True) as running:
        yield running


@pytest.fixture
def sandbox(mock: IncidentMock) -> Iterator[Sandbox]:
    """A fresh sandbox of `mock` for each test, deleted after it."""
    with mock.sandbox() as made:
        yield made


FULL = {"Authorization": "Bearer mock-key-full"}
CREATOR = {"Authorization": "Bearer mock-key-creator"}
VIEWER = {"Authorization": "Bearer mock-key-viewer"}


@pytest.fixture(scope="session")
def app() -> Any:
    """The mock with response validation on: any drift from the contract becomes a 500 and fails tests."""
    return create_app(validate_responses=True)


@pytest.fixture
def store(app: Any) -> Store:
    """The default sandbox, reset; every other sandbox deleted."""
    for sandbox in app.sandboxes:
        if sandbox is not app.holder:
            app.sandboxes.delete(sandbox.id)
    app.sandboxes.reset("default")
    return app.holder.store  # type: ignore[no-any-return]


@pytest.fixture
async def client(app: Any, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as c:
        yield c


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """A separate mock behind uvicorn on 127.0.0.1, started once; yields its base URL."""
    with serve(create_app(validate_responses=True)) as url:
        yield url


@pytest.fixture
def live_url(live_server: str) -> str:
    """The live mock, reset to its fixtures through its own control plane."""
    httpx.post(f"{live_server}/_mock/reset").raise_for_status()
    return live_server


def incident_body(key: str, **extra: Any) -> dict[str, Any]:
    return {"idempotency_key": key, "severity_id": MAJOR, "visibility": "public", **extra}
