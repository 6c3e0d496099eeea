"""app.py: the stages run in the order create_app lists them, and each request is authenticated once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from connexion.apps.asynchronous import AsyncASGIApp
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware

from incident_mock.http.admission import Admission
from incident_mock.http.control_stage import Control
from incident_mock.http.dispatch import Dispatch
from incident_mock.http.intake import Intake
from incident_mock.http.journaling import Recording
from incident_mock.kit.sandboxes import Sandboxes
from tests.mock.conftest import FULL, VIEWER, incident_body
from tests.mock.test_dispatch import stack


async def test_the_stages_run_in_the_documented_order(app: Any, client: httpx.AsyncClient) -> None:
    assert (await client.get("/_mock/health")).status_code == 200
    order = [
        Intake,
        Control,
        Recording,
        RoutingMiddleware,
        SecurityMiddleware,  # runs incident_mock.http.authentication.BearerAuthentication
        Admission,
        RequestValidationMiddleware,  # runs incident_mock.http.validation's validators
        Dispatch,
        AsyncASGIApp,  # Connexion's terminal app: never reached by a routed operation
    ]
    layers = stack(app)
    positions = [next(i for i, layer in enumerate(layers) if isinstance(layer, kind)) for kind in order]
    assert positions == sorted(positions)


class CountingLookups:
    """Counts token lookups: each authentication looks the token up exactly once."""

    def __init__(self, sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.original = sandboxes.lookup
        monkeypatch.setattr(sandboxes, "lookup", self.lookup)

    def lookup(self, token: str) -> Any:
        self.calls += 1
        return self.original(token)


async def test_a_request_is_authenticated_once(
    app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = CountingLookups(app.sandboxes, monkeypatch)
    for method, url, body in [
        ("GET", "/v1/severities", None),
        ("GET", "/v2/incidents", None),
        ("POST", "/v2/incidents", incident_body("auth-once")),
    ]:
        counter.calls = 0
        response = await client.request(method, url, headers=FULL, json=body)
        assert response.status_code == 200, response.text
        assert counter.calls == 1, (method, url)


async def test_a_refused_key_is_looked_up_once_and_nothing_after_runs(
    app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = CountingLookups(app.sandboxes, monkeypatch)
    bad = {"Authorization": "Bearer not-a-key"}
    response = await client.post("/v2/incidents", headers=bad, content=b"{not json")
    assert (response.status_code, counter.calls) == (401, 1)
    counter.calls = 0
    response = await client.post("/v1/severities", headers=VIEWER, content=b"{not json")
    assert (response.status_code, counter.calls) == (403, 1)


def test_the_package_exports_its_public_surface() -> None:
    import incident_mock
    from incident_mock import app
    from incident_mock.kit import sandboxes
    from incident_mock.resources import organisation as store

    assert incident_mock.create_app is app.create_app
    assert (incident_mock.Store, incident_mock.StoreHolder) == (store.Store, store.StoreHolder)
    assert (incident_mock.Sandboxes, incident_mock.Sandbox) == (sandboxes.Sandboxes, sandboxes.SandboxState)
    assert incident_mock.DEFAULT_FIXTURES == store.DEFAULT_FIXTURES
    assert set(incident_mock.__all__) == {
        "DEFAULT_FIXTURES",
        "Sandbox",
        "Sandboxes",
        "Store",
        "StoreHolder",
        "create_app",
    }
