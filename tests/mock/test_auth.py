"""openapi.yaml, Authentication: keys, roles (`x-api-key-roles`) and scopes (`x-rbac-scopes`), before the body."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from incident_contract.document import load_spec
from incident_contract.operations import operations
from incident_mock.domain.errors import Forbidden, Unauthorized
from incident_mock.http.permissions import Policy
from incident_mock.resources.organisation import Store
from tests.mock.conftest import CREATOR, FULL, VIEWER, incident_body


def concrete(path: str) -> str:
    return path.replace("{id}", "01JGZ0SEV0000000000000MAJ0")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic bW9jazprZXk="},
        {"Authorization": "Bearer "},
        {"Authorization": "mock-key-full"},
    ],
    ids=["none", "basic", "empty-token", "no-scheme"],
)
async def test_missing_authorization_material_is_401_with_challenge(
    client: httpx.AsyncClient, spec: dict[str, Any], headers: dict[str, str]
) -> None:
    for op in operations(spec).values():
        if headers and op.raw.get("security") != [{"bearerAuth": []}] and op.raw.get("security") is not None:
            continue  # an alert source's token, which Basic may carry: tests/mock/test_alerts.py
        response = await client.request(op.method, concrete(op.path), headers=headers)
        assert response.status_code == 401, (op.method, op.path)
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        assert (body["type"], body["errors"][0]["code"]) == (
            "authentication_error",
            "missing_authorization_material",
        )


async def test_unknown_key_is_401_invalid_authorization(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/severities", headers={"Authorization": "Bearer mock-key-fulll"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_authorization"


async def test_scopes_come_from_the_roles_table(client: httpx.AsyncClient, spec: dict[str, Any]) -> None:
    """The viewer key gets 403 on exactly the operations whose scope its role does not grant."""
    viewer_scopes = set(spec["x-api-key-roles"]["viewer"]["scopes"])
    for opid, op in operations(spec).items():
        response = await client.request(op.method, concrete(op.path), headers=VIEWER, json={})
        needed = set(op.scopes)
        if needed <= viewer_scopes:
            assert response.status_code != 403, opid
        else:
            assert response.status_code == 403, opid
            error = response.json()["errors"][0]
            assert error["code"] == "missing_scope"
            scope = next(iter(needed))
            granting = [r for r, v in spec["x-api-key-roles"].items() if scope in v["scopes"]]
            assert scope in error["message"] and all(r in error["message"] for r in granting)


async def test_creator_key_runs_the_getting_started_flow(client: httpx.AsyncClient) -> None:
    severities = (await client.get("/v1/severities", headers=CREATOR)).json()["severities"]
    body = incident_body("getting-started", severity_id=severities[0]["id"])
    response = await client.post("/v2/incidents", json=body, headers=CREATOR)
    assert response.status_code == 200
    assert response.json()["incident"]["creator"]["api_key"]["name"] == "Alertmanager bridge"


async def test_bad_key_with_bad_body_is_401_not_400(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": "Bearer nope", "Content-Type": "application/json"}
    response = await client.post("/v2/incidents", content=b"{not json", headers=headers)
    assert response.status_code == 401


async def test_key_without_scope_gets_403_whatever_its_body(client: httpx.AsyncClient) -> None:
    for content in (b"{not json", b'{"visibility": "secret"}', b"\xff\xfe"):
        response = await client.post(
            "/v2/incidents", content=content, headers={**VIEWER, "Content-Type": "application/json"}
        )
        assert response.status_code == 403, content


@pytest.mark.parametrize(
    ("headers", "roles"),
    [(FULL, len(load_spec()["x-api-key-roles"])), (CREATOR, 1), (VIEWER, 1)],
)
async def test_identity_reports_the_key_roles(
    client: httpx.AsyncClient, headers: dict[str, str], roles: int
) -> None:
    identity = (await client.get("/v1/identity", headers=headers)).json()["identity"]
    assert len(identity["roles"]) == roles
    assert set(identity) >= {"name", "roles", "team_roles", "teams", "dashboard_url"}


async def test_rate_limit_answers_429_with_retry_after() -> None:
    from incident_mock.app import create_app

    app = create_app(rate_limit=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as c:
        statuses = [(await c.get("/v1/severities", headers=FULL)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = await c.get("/v1/severities", headers=FULL)
        assert int(limited.headers["retry-after"]) >= 1
        body = limited.json()
        assert body["type"] == "too_many_requests"
        assert body["rate_limit"]["limit"] == 2 and body["rate_limit"]["remaining"] == 0
        # Another key has its own bucket.
        assert (await c.get("/v1/severities", headers=VIEWER)).status_code == 200


# --- auth.py on its own: the policy, with no HTTP ---------------------------------------------------


def test_the_policy_authenticates_a_bearer_key_and_unions_its_roles_scopes(
    spec: dict[str, Any], app: Any, store: Store
) -> None:
    policy = Policy(spec)
    caller = policy.authenticate(app.sandboxes, "bearer  mock-key-creator ")
    assert caller.key.token == "mock-key-creator"
    assert caller.scopes == set(spec["x-api-key-roles"]["incident_creator"]["scopes"])
    assert not caller.private_ok
    for header, code in [(None, "missing_authorization_material"), ("Basic x", "missing_authorization_material"),
                         ("Bearer nope", "invalid_authorization")]:  # fmt: skip
        with pytest.raises(Unauthorized) as caught:
            policy.authenticate(app.sandboxes, header)
        assert caught.value.code == code and caught.value.headers == {"WWW-Authenticate": "Bearer"}


def test_the_policy_names_the_missing_scope_and_who_grants_it(
    spec: dict[str, Any], app: Any, store: Store
) -> None:
    policy = Policy(spec)
    viewer = policy.authenticate(app.sandboxes, "Bearer mock-key-viewer")
    policy.authorize(viewer, "Severities V1#List")
    with pytest.raises(Forbidden, match=r"organisation_settings\.update.*manage_settings"):
        policy.authorize(viewer, "Severities V1#Create")
