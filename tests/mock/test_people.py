"""People and access over real sockets: API keys made, changed, rotated and deleted through the API (with
the official SDK as the client), secrets whose values never come back, the IP allowlist, users and the
contract as JSON. Time-dependent behaviour (a rotated token's grace period) runs on the sandbox's clock,
which the tests move; nothing sleeps."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from incident_io import AuthenticatedClient
from incident_io.api.api_keys_v1 import (
    api_keys_v1_create,
    api_keys_v1_delete,
    api_keys_v1_list,
    api_keys_v1_rotate,
    api_keys_v1_show,
    api_keys_v1_update,
)
from incident_io.models import (
    APIKeysCreatePayloadV1,
    APIKeysCreateResultV1,
    APIKeysRotatePayloadV1,
    APIKeysRotateResultV1,
    APIKeysUpdatePayloadV1,
    ErrorResponse,
)

from incident_contract.document import load_spec
from incident_mock.domain.limits import text_bytes
from incident_mock.domain.settings import DEFAULT_FIXTURES
from incident_mock.testing import IncidentMock, Sandbox
from tests.mock.conftest import FULL, incident_body

VIEWER_KEY = "01JGZ0KEY00000000000V1EWER"
FULL_KEY = "01JGZ0KEY00000000000000FV1"
MANAGER = {"id": "01JGZ0KEY000000000MANAGER0", "token": "mock-key-manager", "name": "Key admin",
           "roles": ["api_keys_manage", "viewer"]}  # fmt: skip
ADA, MARY = "01JGZ0VSER000000000000ADA0", "01JGZ0VSER00000000000MARY0"
SECRET = "01JGZ0SECRET0000000PAGERDV"
FROZEN = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def sdk(sandbox: Sandbox, token: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=sandbox.base_url, token=token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_key(sandbox: Sandbox, token: str, name: str, roles: list[str]) -> Any:
    body = APIKeysCreatePayloadV1.from_dict(
        {"name": name, "role_names": roles, "team_ids": [], "team_role_names": []}
    )
    with sdk(sandbox, token) as client:
        return api_keys_v1_create.sync_detailed(client=client, body=body)


def status_with(sandbox: Sandbox, token: str, path: str = "/v1/severities") -> int:
    return httpx.get(f"{sandbox.base_url}{path}", headers=bearer(token), timeout=15).status_code


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, headers=bearer(sandbox.keys.full), timeout=15) as client:
        yield client


# --- API keys -----------------------------------------------------------------------------------------
def test_a_created_key_answers_its_token_once_and_calls_with_the_roles_it_was_given(sandbox: Sandbox) -> None:
    made = create_key(sandbox, sandbox.keys.full, "Grafana exporter", ["viewer"])
    assert made.status_code == 201 and isinstance(made.parsed, APIKeysCreateResultV1), made.content
    token, key = made.parsed.token, made.parsed.api_key
    assert [r.name for r in key.roles] == ["viewer"]
    assert key.creator.api_key is not None and key.creator.api_key.id == FULL_KEY

    assert status_with(sandbox, token) == 200  # severities.view: the viewer role grants it
    create = httpx.post(
        f"{sandbox.base_url}/v2/incidents", headers=bearer(token), json=incident_body("x"), timeout=15
    )
    assert create.status_code == 403 and create.json()["errors"][0]["code"] == "missing_scope"
    identity = httpx.get(f"{sandbox.base_url}/v1/identity", headers=bearer(token), timeout=15).json()
    assert identity["identity"]["name"] == "Grafana exporter" and identity["identity"]["roles"] == ["viewer"]

    with sdk(sandbox, sandbox.keys.full) as client:
        shown = api_keys_v1_show.sync_detailed(key.id, client=client)
        listed = api_keys_v1_list.sync_detailed(client=client, page_size=250)
    assert shown.status_code == 200 and listed.status_code == 200
    assert key.id in {k.id for k in listed.parsed.api_keys}  # type: ignore[union-attr]
    for answer in (shown.content, listed.content):  # no token is answered again, nor a fixture key's
        assert token.encode() not in answer and b'token"' not in answer
        assert sandbox.keys.full.encode() not in answer and b"mock-key" not in answer


def test_a_key_gives_only_roles_whose_scopes_it_holds(mock: IncidentMock) -> None:
    with mock.sandbox({"api_keys": [*default_keys(), MANAGER]}) as sandbox:
        manager = sandbox.keys["mock-key-manager"]
        made = create_key(sandbox, manager, "Reader", ["viewer"])
        assert made.status_code == 201, made.content
        for roles in (["incident_creator"], ["viewer", "catalog_editor"], ["api_keys_manage"]):
            refused = create_key(sandbox, manager, "Too much", roles)
            assert refused.status_code == 422, refused.content
            assert isinstance(refused.parsed, ErrorResponse)
            assert refused.parsed.errors[0].source.field == "role_names"  # type: ignore[union-attr]
        # not even the key holding every role gives api_keys_manage
        assert create_key(sandbox, sandbox.keys.full, "Admin", ["api_keys_manage"]).status_code == 422
        listed = httpx.get(
            f"{sandbox.base_url}/v1/api_keys", headers=bearer(manager), params={"page_size": 250}, timeout=15
        ).json()["api_keys"]
        assert [k["name"] for k in listed].count("Too much") == 0


def default_keys() -> list[dict[str, Any]]:
    """The packaged fixtures' keys: a sandbox's own api_keys table replaces them, so it lists them too."""
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        keys: list[dict[str, Any]] = yaml.safe_load(fh)["api_keys"]
    return keys


def test_an_update_changes_what_every_token_of_the_key_may_do_at_once(sandbox: Sandbox) -> None:
    viewer = sandbox.keys.viewer
    before = httpx.post(
        f"{sandbox.base_url}/v2/incidents",
        headers=bearer(viewer),
        json=incident_body("by viewer"),
        timeout=15,
    )
    assert before.status_code == 403
    body = APIKeysUpdatePayloadV1.from_dict(
        {"name": "Wall screen", "role_names": ["incident_creator"], "team_ids": [], "team_role_names": []}
    )
    with sdk(sandbox, sandbox.keys.full) as client:
        updated = api_keys_v1_update.sync_detailed(VIEWER_KEY, client=client, body=body)
        itself = api_keys_v1_update.sync_detailed(FULL_KEY, client=client, body=body)
    assert updated.status_code == 200, updated.content
    created = httpx.post(
        f"{sandbox.base_url}/v2/incidents",
        headers=bearer(viewer),
        json=incident_body("by viewer"),
        timeout=15,
    )
    assert created.status_code == 200, created.text
    identity = httpx.get(f"{sandbox.base_url}/v1/identity", headers=bearer(viewer), timeout=15).json()
    assert identity["identity"] == {
        **identity["identity"],
        "name": "Wall screen",
        "roles": ["incident_creator"],
    }
    assert itself.status_code == 422 and itself.parsed.errors[0].source.field == "id"  # type: ignore[union-attr]


def test_a_rotated_token_works_for_its_grace_period_on_the_sandbox_clock(mock: IncidentMock) -> None:
    with mock.sandbox(frozen_at=FROZEN) as sandbox:
        old = sandbox.keys.viewer
        with sdk(sandbox, sandbox.keys.full) as client:
            rotated = api_keys_v1_rotate.sync_detailed(
                VIEWER_KEY, client=client, body=APIKeysRotatePayloadV1(grace_period_minutes=10)
            )
        assert rotated.status_code == 201 and isinstance(rotated.parsed, APIKeysRotateResultV1)
        new = rotated.parsed.token
        assert new != old and rotated.parsed.api_key.token_last_issued_at == FROZEN
        assert status_with(sandbox, new) == 200 and status_with(sandbox, old) == 200
        sandbox.clock.advance(dt.timedelta(minutes=9, seconds=59))
        assert status_with(sandbox, old) == 200
        sandbox.clock.advance(1)
        assert status_with(sandbox, old) == 401 and status_with(sandbox, new) == 200
        # no grace: the old token is refused at once; a key never holds more than two tokens
        with sdk(sandbox, sandbox.keys.full) as client:
            again = api_keys_v1_rotate.sync_detailed(
                VIEWER_KEY, client=client, body=APIKeysRotatePayloadV1(grace_period_minutes=0)
            )
        assert status_with(sandbox, new) == 401
        assert status_with(sandbox, again.parsed.token) == 200  # type: ignore[union-attr]


def test_rotating_a_key_needs_every_scope_it_holds(mock: IncidentMock) -> None:
    with mock.sandbox({"api_keys": [*default_keys(), MANAGER]}) as sandbox:
        manager = sandbox.keys["mock-key-manager"]
        with sdk(sandbox, manager) as client:
            full = api_keys_v1_rotate.sync_detailed(
                FULL_KEY, client=client, body=APIKeysRotatePayloadV1(grace_period_minutes=0)
            )
            viewer = api_keys_v1_rotate.sync_detailed(
                VIEWER_KEY, client=client, body=APIKeysRotatePayloadV1(grace_period_minutes=0)
            )
        assert full.status_code == 403 and viewer.status_code == 201
        assert status_with(sandbox, sandbox.keys.full) == 200


def test_a_deleted_key_is_refused_at_once_with_its_grace_token(sandbox: Sandbox) -> None:
    made = create_key(sandbox, sandbox.keys.full, "Short-lived", ["viewer"]).parsed
    with sdk(sandbox, sandbox.keys.full) as client:
        rotated = api_keys_v1_rotate.sync_detailed(
            made.api_key.id, client=client, body=APIKeysRotatePayloadV1(grace_period_minutes=60)
        ).parsed
        assert status_with(sandbox, made.token) == 200
        assert api_keys_v1_delete.sync_detailed(made.api_key.id, client=client).status_code == 204
        gone = api_keys_v1_show.sync_detailed(made.api_key.id, client=client)
    assert gone.status_code == 404
    for token in (made.token, rotated.token):  # type: ignore[union-attr]
        answer = httpx.get(f"{sandbox.base_url}/v1/severities", headers=bearer(token), timeout=15)
        assert answer.status_code == 401 and answer.json()["errors"][0]["code"] == "invalid_authorization"


def test_a_key_created_in_one_sandbox_exists_in_no_other(mock: IncidentMock) -> None:
    with mock.sandbox() as mine, mock.sandbox() as neighbour:
        made = create_key(mine, mine.keys.full, "Mine only", ["viewer"]).parsed
        token, key_id = made.token, made.api_key.id
        # the token calls its own sandbox: its key list is mine's, which the neighbour's lacks
        seen = httpx.get(f"{mine.base_url}/v1/api_keys", headers=bearer(token), timeout=15)
        assert seen.status_code == 403  # a viewer may not list keys, but it is known (not 401)
        theirs = httpx.get(
            f"{neighbour.base_url}/v1/api_keys", headers=bearer(neighbour.keys.full), timeout=15
        ).json()["api_keys"]
        assert key_id not in {k["id"] for k in theirs}
        shown = httpx.get(
            f"{neighbour.base_url}/v1/api_keys/{key_id}", headers=bearer(neighbour.keys.full), timeout=15
        )
        assert shown.status_code == 404
        # a key the neighbour creates does not exist in mine either
        other = create_key(neighbour, neighbour.keys.full, "Theirs", ["viewer"]).parsed
        answer = httpx.get(f"{mine.base_url}/v1/api_keys/{other.api_key.id}", headers=bearer(mine.keys.full))
        assert answer.status_code == 404
        # resetting my sandbox forgets the key; the neighbour's key still works
        mine.reset()
        assert status_with(mine, token) == 401
        assert status_with(neighbour, other.token) == 200


def test_a_created_key_dies_with_its_sandbox(mock: IncidentMock) -> None:
    with mock.sandbox() as sandbox:
        token = create_key(sandbox, sandbox.keys.full, "Doomed", ["viewer"]).parsed.token
        assert status_with(sandbox, token) == 200
    assert status_with(sandbox, token) == 401


def test_a_role_the_mock_does_not_grant_is_refused(http: httpx.Client) -> None:
    body = {"name": "x", "role_names": ["heartbeats_ping"], "team_ids": [], "team_role_names": []}
    answer = http.post("/v1/api_keys", json=body)  # a published role that x-api-key-roles lacks
    assert answer.status_code == 422 and answer.json()["errors"][0]["source"]["field"] == "role_names"
    team = http.post("/v1/api_keys", json={**body, "role_names": [], "team_role_names": ["api_keys_manage"]})
    assert team.status_code == 422 and team.json()["errors"][0]["source"]["field"] == "team_role_names"


# --- secrets ------------------------------------------------------------------------------------------
def test_a_secret_value_is_never_answered_and_version_counts_the_writes(http: httpx.Client) -> None:
    value = "og-live-8c1d77e0b4"
    made = http.post("/v2/secrets", json={"name": "Opsgenie key", "value": value})
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert secret["version"] == 1 and secret["last_four_chars"] == "e0b4"
    updated = http.put(f"/v2/secrets/{secret['id']}", json={"name": "Opsgenie key", "description": "EU"})
    assert updated.json()["secret"]["version"] == 2
    rotated = http.post(f"/v2/secrets/{secret['id']}/actions/rotate", json={"value": "abc"})
    assert rotated.json()["secret"]["version"] == 3 and "last_four_chars" not in rotated.json()["secret"]
    shown = http.get(f"/v2/secrets/{secret['id']}")
    assert [v["version"] for v in shown.json()["versions"]] == [1, 3]
    everything = [made, updated, rotated, shown, http.get("/v2/secrets")]
    assert all(value not in a.text and "abc" not in a.text for a in everything)
    taken = http.post("/v2/secrets", json={"name": "OPSGENIE KEY", "value": "x"})
    assert taken.status_code == 422 and taken.json()["errors"][0]["source"]["field"] == "name"


def test_deleting_a_secret_takes_its_history(http: httpx.Client) -> None:
    assert http.delete(f"/v2/secrets/{SECRET}").status_code == 204
    assert http.get(f"/v2/secrets/{SECRET}").status_code == 404
    again = http.post("/v2/secrets", json={"name": "PagerDuty webhook token", "value": "new-value"}).json()
    assert [v["version"] for v in http.get(f"/v2/secrets/{again['secret']['id']}").json()["versions"]] == [1]


def test_secrets_filter_by_owning_team(http: httpx.Client) -> None:
    http.post("/v2/secrets", json={"name": "a", "value": "x", "owning_team_ids": ["T1", "T2"]})
    http.post("/v2/secrets", json={"name": "b", "value": "x", "owning_team_ids": ["T3"]})
    listed = http.get("/v2/secrets", params=[("team_ids", "T2"), ("team_ids", "T3")]).json()["secrets"]
    assert sorted(s["name"] for s in listed) == ["a", "b"]
    assert [s["name"] for s in http.get("/v2/secrets", params={"team_ids": "T1"}).json()["secrets"]] == ["a"]


# --- the IP allowlist ---------------------------------------------------------------------------------
def test_the_allowlist_is_stored_by_version_and_not_enforced(http: httpx.Client) -> None:
    current = http.get("/v1/ip_allowlists").json()["ip_allowlist"]
    body = {"version": current["version"], "enabled": True, "allowlist": [{"value": "203.0.113.0/24"}]}
    saved = http.put("/v1/ip_allowlists", json=body)
    assert saved.status_code == 200 and saved.json()["ip_allowlist"]["version"] == current["version"] + 1
    stale = http.put("/v1/ip_allowlists", json=body)
    assert stale.status_code == 422 and stale.json()["errors"][0]["source"]["field"] == "version"
    bad = http.put(
        "/v1/ip_allowlists", json={**body, "version": body["version"] + 1, "allowlist": [{"value": "x"}]}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"]["pointer"] == "/allowlist/0/value"
    # enabled, and 127.0.0.1 is not in it: the mock still answers
    assert http.get("/v1/ip_allowlists").json()["ip_allowlist"]["allowlist"] == [{"value": "203.0.113.0/24"}]


# --- users --------------------------------------------------------------------------------------------
def test_users_filter_leave_out_the_inactive_and_page(http: httpx.Client) -> None:
    active = http.get("/v2/users").json()["users"]
    assert MARY not in {u["id"] for u in active}
    everyone = http.get("/v2/users", params={"include_inactive": "true"}).json()["users"]
    assert MARY in {u["id"] for u in everyone} and len(everyone) == len(active) + 1
    by_email = http.get("/v2/users", params={"email": "ada@example.com"}).json()["users"]
    by_slack = http.get("/v2/users", params={"slack_user_id": "U0ADA"}).json()["users"]
    assert [u["id"] for u in by_email] == [u["id"] for u in by_slack] == [ADA]
    walked, after = [], None
    while True:
        page = http.get("/v2/users", params={"page_size": 2, **({"after": after} if after else {})}).json()
        walked += [u["id"] for u in page["users"]]
        after = page["pagination_meta"].get("after")
        if after is None:
            break
    assert walked == [u["id"] for u in active]


def test_a_users_phone_numbers_are_masked_and_an_unknown_user_is_404(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    def phone(token: str) -> str:
        answer = httpx.get(f"{sandbox.base_url}/v2/users/{ADA}/notification_methods", headers=bearer(token))
        methods = answer.json()["notification_methods"]
        return str(next(m for m in methods if m["method_type"] == "phone")["address"])

    made = create_key(sandbox, sandbox.keys.full, "Rota board", ["notification_methods_manage"])
    masked = phone(made.parsed.token)
    assert masked.endswith("0321") and "7946" not in masked
    assert phone(sandbox.keys.full) == "+44 20 7946 0321"  # the full key may see it unmasked
    rules = http.get(f"/v2/users/{ADA}/notification_rules").json()["notification_rules"]
    assert {r["rule_type"] for r in rules} == {"high_urgency", "low_urgency"}
    for path in ("", "/notification_methods", "/notification_rules", "/paging_provider"):
        assert http.get(f"/v2/users/nobody{path}").status_code == 404


def test_a_paging_provider_chosen_is_shown(http: httpx.Client) -> None:
    assert http.get(f"/v2/users/{ADA}/paging_provider").json() == {"preferred_escalation_provider": "native"}
    assert http.get(f"/v2/users/{MARY}/paging_provider").json() == {}  # no seat, no choice
    chosen = http.post(f"/v2/users/{ADA}/paging_provider", json={"preferred_escalation_provider": "opsgenie"})
    assert chosen.status_code == 204
    assert http.get(f"/v2/users/{ADA}/paging_provider").json() == {
        "preferred_escalation_provider": "opsgenie"
    }


# --- the contract -------------------------------------------------------------------------------------
def test_the_contract_is_served_as_json(sandbox: Sandbox) -> None:
    answer = httpx.get(f"{sandbox.base_url}/v1/openapiV3.json", headers=bearer(sandbox.keys.viewer))
    assert answer.status_code == 200
    assert json.loads(answer.content) == json.loads(json.dumps(load_spec()))
    assert httpx.get(f"{sandbox.base_url}/v1/openapiV3.json").status_code == 401


def test_in_process_a_created_key_is_forgotten_by_a_reset(app: Any, store: Any) -> None:
    """The default sandbox reset directly (`app.holder.reset()`, as tools do) forgets created keys too."""
    from starlette.testclient import TestClient

    with TestClient(app) as client:
        body = {"name": "k", "role_names": ["viewer"], "team_ids": [], "team_role_names": []}
        token = client.post("/v1/api_keys", headers=FULL, json=body).json()["token"]
        assert client.get("/v1/severities", headers=bearer(token)).status_code == 200
        app.holder.reset().join()
        assert client.get("/v1/severities", headers=bearer(token)).status_code == 401
        again = client.post("/v1/api_keys", headers=FULL, json=body).json()["token"]
        assert client.get("/v1/severities", headers=bearer(again)).status_code == 200


def test_a_keys_text_is_held_until_it_is_deleted(app: Any, store: Any) -> None:
    from starlette.testclient import TestClient

    before = store.text
    body = {
        "name": "n" * 200,
        "comments": "c" * 800,
        "role_names": ["viewer"],
        "team_ids": [],
        "team_role_names": [],
    }
    with TestClient(app) as client:
        made = client.post("/v1/api_keys", headers=FULL, json=body).json()["api_key"]
        assert store.text == before + text_bytes(body["name"], body["comments"])
        renamed = client.put(f"/v1/api_keys/{VIEWER_KEY}", headers=FULL, json={**body, "comments": ""})
        assert renamed.status_code == 200 and store.text == before + text_bytes(
            body["name"], body["comments"], body["name"], ""
        )
        for key_id in (made["id"], VIEWER_KEY):
            assert client.delete(f"/v1/api_keys/{key_id}", headers=FULL).status_code == 204
    assert store.text == before
