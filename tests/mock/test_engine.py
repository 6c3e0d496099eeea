"""The resource engine: a resource declared in the contract (x-resources) is served with no Python written
for it. The contract here is the real one plus "widgets" (tests/widgets.py), written to a temporary file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from incident_contract.document import load_spec
from incident_contract.resources import declared, schema_of
from incident_mock.app import DEFAULT_FIXTURES, create_app
from incident_mock.domain.limits import Limits
from incident_mock.kit.sandboxes import SCHEMA_OF
from tests.mock.conftest import FULL, VIEWER
from tests.mock.seed import MAJOR, MINOR
from tests.widgets import write_widget_contract

SEEDED = "01WIDGETSEED00000000000000"


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_widget_contract(tmp_path_factory.mktemp("widgets"))


@pytest.fixture(scope="module")
def widget_fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged fixtures plus a `widgets` table: the table the widgets' declaration names."""
    data = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    data["widgets"] = [{"id": SEEDED, "name": "Seeded", "severity_id": MINOR,
                        "created_at": "2026-01-01T00:00:00.000000Z", "updated_at": "2026-01-01T00:00:00.000000Z"}]  # fmt: skip
    path = tmp_path_factory.mktemp("fixtures") / "fixtures.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def widget_app(contract: Path, widget_fixtures: Path) -> Any:
    return create_app(widget_fixtures, spec_file=contract, validate_responses=True, limits=Limits(max_rows=3))


@pytest.fixture
async def widgets(widget_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    widget_app.sandboxes.reset("default")
    transport = httpx.ASGITransport(app=widget_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=FULL) as client:
        yield client


async def test_a_declared_resource_is_created_shown_listed_updated_and_deleted(
    widgets: httpx.AsyncClient,
) -> None:
    made = await widgets.post("/v1/widgets", json={"name": "Gear", "severity_id": MAJOR})
    assert made.status_code == 201, made.text  # the create's documented success status
    widget = made.json()["widget"]
    assert widget["name"] == "Gear" and widget["severity_id"] == MAJOR and widget["id"]
    assert widget["created_at"] == widget["updated_at"]
    shown = await widgets.get(f"/v1/widgets/{widget['id']}")
    assert shown.status_code == 200 and shown.json() == {"widget": widget}
    listed = (await widgets.get("/v1/widgets")).json()["widgets"]
    assert [w["name"] for w in listed] == ["Gear", "Seeded"]  # the declared order: by name
    changed = await widgets.put(f"/v1/widgets/{widget['id']}", json={"name": "Cog", "severity_id": MINOR})
    assert changed.status_code == 200, changed.text
    assert changed.json()["widget"]["name"] == "Cog" and changed.json()["widget"]["id"] == widget["id"]
    assert (await widgets.get(f"/v1/widgets/{widget['id']}")).json()["widget"]["severity_id"] == MINOR
    gone = await widgets.delete(f"/v1/widgets/{widget['id']}")
    assert (gone.status_code, gone.content) == (204, b"")  # 204 as its responses say; severities' is 202
    missing = await widgets.get(f"/v1/widgets/{widget['id']}")
    assert missing.status_code == 404 and "No widget with id" in missing.text


async def test_the_declared_rules_hold(widgets: httpx.AsyncClient) -> None:
    unknown = await widgets.post("/v1/widgets", json={"name": "Gear", "severity_id": "nope"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["source"]["field"] == "severity_id"
    twice = await widgets.post("/v1/widgets", json={"name": "SEEDED", "severity_id": MAJOR})
    assert twice.status_code == 422 and twice.json()["errors"][0]["source"]["field"] == "name"
    used = await widgets.delete(f"/v1/severities/{MINOR}")  # the seeded widget refers to it: refused
    assert used.status_code == 422 and "widgets still use this severity" in used.text
    assert (await widgets.get(f"/v1/severities/{MINOR}")).status_code == 200
    for n in range(2):  # max_rows=3, one seeded
        assert (
            await widgets.post("/v1/widgets", json={"name": f"w{n}", "severity_id": MAJOR})
        ).status_code == 201
    full = await widgets.post("/v1/widgets", json={"name": "one too many", "severity_id": MAJOR})
    assert full.status_code == 422 and full.json()["errors"][0]["code"] == "capacity_reached"
    assert "max_rows" in full.text and "--max-rows" in full.text


async def test_a_declared_resource_gets_the_kits_caps_auth_and_text_budget(
    widgets: httpx.AsyncClient, widget_app: Any
) -> None:
    refused = await widgets.post(
        "/v1/widgets", json={"name": "x", "severity_id": MAJOR}, headers=VIEWER
    )  # the operation's scopes, from its x-rbac-scopes
    assert refused.status_code == 403
    assert (await widgets.get("/v1/widgets", headers={"Authorization": ""})).status_code == 401
    store = widget_app.holder.store
    before = store.text
    assert (
        await widgets.post("/v1/widgets", json={"name": "Ω" * 50, "severity_id": MAJOR})
    ).status_code == 201
    assert store.text > before  # the name is counted against the text budget


def test_the_fixtures_tables_and_their_schemas_come_from_the_declarations(contract: Path) -> None:
    spec = yaml.safe_load(contract.read_text(encoding="utf-8"))
    assert schema_of(spec)["widgets"] == "WidgetV1"
    assert schema_of(load_spec()) == SCHEMA_OF
    engine_tables = {
        r.fixtures for r in declared(load_spec()).values() if r.storage == "engine" and r.table == r.name
    }
    assert set(SCHEMA_OF) == engine_tables
    assert SCHEMA_OF["severities"] == "SeverityV1"
