"""openapi.yaml: Severities V1, and Errors (one error shape from every layer)."""

from __future__ import annotations

import httpx
import pytest

from tests.mock.conftest import FULL, VIEWER, incident_body
from tests.mock.seed import MAJOR, MINOR


async def test_severity_crud(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/v1/severities", json={"name": "Sev0", "description": "All down"}, headers=FULL
    )
    assert created.status_code == 201
    severity = created.json()["severity"]
    assert severity["rank"] == 4  # one above the highest seeded rank
    updated = await client.put(
        f"/v1/severities/{severity['id']}", json={"name": "SEV-0", "description": "All"}, headers=FULL
    )
    assert updated.json()["severity"]["rank"] == 4
    assert updated.json()["severity"]["name"] == "SEV-0"
    assert (await client.get(f"/v1/severities/{severity['id']}", headers=VIEWER)).json()["severity"][
        "name"
    ] == "SEV-0"
    deleted = await client.delete(f"/v1/severities/{severity['id']}", headers=FULL)
    assert deleted.status_code == 202
    assert deleted.content == b""
    assert (await client.get(f"/v1/severities/{severity['id']}", headers=FULL)).status_code == 404
    assert (await client.delete(f"/v1/severities/{severity['id']}", headers=FULL)).status_code == 404


@pytest.mark.parametrize("name", ["major", "Major", "MAJOR"])
async def test_duplicate_severity_name_is_422(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/v1/severities", json={"name": name, "description": "x"}, headers=FULL)
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["field"] == "name"
    renamed = await client.put(
        f"/v1/severities/{MINOR}", json={"name": name, "description": "x"}, headers=FULL
    )
    assert renamed.status_code == 422


async def test_severity_in_use_cannot_be_deleted_and_renames_show_on_incidents(
    client: httpx.AsyncClient,
) -> None:
    incident = (await client.post("/v2/incidents", json=incident_body("sev-use"), headers=FULL)).json()[
        "incident"
    ]
    refused = await client.delete(f"/v1/severities/{MAJOR}", headers=FULL)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["source"]["field"] == "id"
    await client.put(
        f"/v1/severities/{MAJOR}", json={"name": "Big", "description": "d", "rank": 9}, headers=FULL
    )
    shown = (await client.get(f"/v2/incidents/{incident['id']}", headers=FULL)).json()["incident"]
    assert shown["severity"]["name"] == "Big"
    assert shown["severity"]["rank"] == 9


@pytest.mark.parametrize(
    ("method", "path", "status", "kind"),
    [
        ("GET", "/v1/nothing-here", 404, "not_found"),
        ("GET", "/v2/incidents/nope", 404, "not_found"),
        ("DELETE", "/v2/incidents", 405, "method_not_allowed"),
        ("PATCH", "/v1/severities/x", 405, "method_not_allowed"),
        ("GET", "/v1/incident_types/nope", 404, "not_found"),
        ("GET", "/v1/incident_statuses/nope", 404, "not_found"),
        ("GET", "/v2/custom_fields/nope", 404, "not_found"),
        ("GET", "/v2/incident_roles/nope", 404, "not_found"),
    ],
)
async def test_every_layer_answers_in_the_error_shape(
    client: httpx.AsyncClient, method: str, path: str, status: int, kind: str
) -> None:
    response = await client.request(method, path, headers=FULL)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["type"], body["status"]) == (kind, status)
    assert body["request_id"] == response.headers["x-request-id"]
    if status == 405:
        assert set(response.headers["allow"].split(", ")) <= {"GET", "POST", "PUT", "DELETE"}
        assert method not in response.headers["allow"]


async def test_request_ids_are_unique_and_on_success_too(client: httpx.AsyncClient) -> None:
    responses = [await client.get("/v1/severities", headers=FULL) for _ in range(5)]
    assert len({r.headers["x-request-id"] for r in responses}) == 5


async def test_body_over_1_mib_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v2/incidents",
        content=b" " * (1024 * 1024 + 1),
        headers={**FULL, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"] == "payload_too_large"


async def test_an_unexpected_exception_is_a_500_in_the_error_shape(
    client: httpx.AsyncClient, app: object
) -> None:
    store = app.holder.store  # type: ignore[attr-defined]

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    store.rows = broken  # the engine's list of a declared resource
    response = await client.get("/v1/severities", headers=FULL)
    assert response.status_code == 500
    body = response.json()
    assert (body["type"], body["errors"][0]["code"]) == ("api_error", "api_error")
    assert "boom" not in response.text


async def test_reset_restores_the_fixtures(client: httpx.AsyncClient) -> None:
    async def total() -> int:
        listed = await client.get("/v2/incidents", headers=FULL)
        return int(listed.json()["pagination_meta"]["total_record_count"])

    await client.post("/v2/incidents", json=incident_body("gone"), headers=FULL)
    assert await total() == 2
    assert (await client.post("/_mock/reset")).status_code == 200
    assert await total() == 1
    assert (await client.get("/_mock/nothing")).status_code == 404
