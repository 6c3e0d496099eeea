"""openapi.yaml, Idempotent creation: replay, reuse, concurrency, rejected creates, distinct keys."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_mock.resources.organisation import Store
from tests.mock.conftest import CREATOR, FULL, incident_body

ASYNC = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


async def test_replay_returns_the_same_incident_with_the_header(
    client: httpx.AsyncClient, store: Store
) -> None:
    body = incident_body("replay-me", name="Disk full")
    first = await client.post("/v2/incidents", json=body, headers=FULL)
    again = await client.post("/v2/incidents", json=dict(reversed(list(body.items()))), headers=FULL)
    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["incident"]["id"] == first.json()["incident"]["id"]
    assert len(store.incidents) == 2


async def test_reuse_with_a_different_payload_is_422_and_changes_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    first = (await client.post("/v2/incidents", json=incident_body("reuse", name="A"), headers=FULL)).json()
    reused = await client.post("/v2/incidents", json=incident_body("reuse", name="B"), headers=FULL)
    assert reused.status_code == 422
    error = reused.json()["errors"][0]
    assert (error["code"], error["source"]["field"]) == ("idempotency_key_reused", "idempotency_key")
    shown = (await client.get(f"/v2/incidents/{first['incident']['id']}", headers=FULL)).json()["incident"]
    assert shown["name"] == "A"
    assert len(store.incidents) == 2


async def test_a_rejected_create_does_not_consume_the_key(client: httpx.AsyncClient) -> None:
    rejected = await client.post(
        "/v2/incidents", json=incident_body("retry", severity_id="nope"), headers=FULL
    )
    assert rejected.status_code == 422
    corrected = await client.post("/v2/incidents", json=incident_body("retry"), headers=FULL)
    assert corrected.status_code == 200
    assert "idempotent-replayed" not in corrected.headers


async def test_200_concurrent_same_key_creates_make_one_incident(
    client: httpx.AsyncClient, store: Store
) -> None:
    body = incident_body("stampede", name="Thundering herd")
    responses = await asyncio.gather(
        *(client.post("/v2/incidents", json=body, headers=CREATOR) for _ in range(200))
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["incident"]["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 199
    assert len(store.incidents) == 2


payloads = st.fixed_dictionaries(
    {"visibility": st.sampled_from(["public", "private"])},
    optional={
        "name": st.text(min_size=1, max_size=40),
        "summary": st.text(max_size=80),
        "mode": st.sampled_from(["standard", "retrospective", "test", "tutorial"]),
        "severity_id": st.sampled_from(["01JGZ0SEV0000000000000M1N0", "01JGZ0SEV0000000000000MAJ0"]),
    },
)
keys = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=255)


def with_key(key: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"severity_id": "01JGZ0SEV00000000000CR1T00", **payload, "idempotency_key": key}


@ASYNC
@given(key=keys, payload=payloads)
async def test_property_a_replay_always_returns_the_same_id(
    client: httpx.AsyncClient, app: Any, key: str, payload: dict[str, Any]
) -> None:
    app.holder.reset()
    body = with_key(key, payload)
    first = await client.post("/v2/incidents", json=body, headers=FULL)
    second = await client.post("/v2/incidents", json=body, headers=FULL)
    assert first.status_code == 200, first.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["incident"]["id"] == first.json()["incident"]["id"]
    assert len(app.holder.store.incidents) == 2


@ASYNC
@given(key=keys, payload=payloads, suffix=st.text(min_size=1, max_size=20))
async def test_property_a_changed_payload_always_422s(
    client: httpx.AsyncClient, app: Any, key: str, payload: dict[str, Any], suffix: str
) -> None:
    app.holder.reset()
    body = with_key(key, payload)
    first = await client.post("/v2/incidents", json=body, headers=FULL)
    assert first.status_code == 200, first.text
    response = await client.post(
        "/v2/incidents", json={**body, "name": body.get("name", "") + suffix}, headers=FULL
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    shown = await client.get(f"/v2/incidents/{first.json()['incident']['id']}", headers=FULL)
    assert shown.json()["incident"] == first.json()["incident"]
    assert len(app.holder.store.incidents) == 2


@ASYNC
@given(keys=st.lists(keys, min_size=1, max_size=8))
async def test_property_count_grows_by_one_per_distinct_key(
    client: httpx.AsyncClient, app: Any, keys: list[str]
) -> None:
    app.holder.reset()
    for key in keys:
        response = await client.post(
            "/v2/incidents", json=with_key(key, {"visibility": "public"}), headers=FULL
        )
        assert response.status_code == 200
    assert len(app.holder.store.incidents) == 1 + len(set(keys))
