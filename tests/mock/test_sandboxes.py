"""Sandboxes over a real socket (uvicorn on 127.0.0.1): isolation, the SDK against a fresh sandbox, caps.

And sandboxes.py on its own: a token's sandbox is found by its digest, without looking at the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from incident_io import AuthenticatedClient
from incident_io.api.incidents_v2 import incidents_v2_create, incidents_v2_list
from incident_io.api.severities_v1 import severities_v1_list
from incident_io.models import (
    IncidentsCreatePayloadV2,
    IncidentsCreatePayloadV2Visibility,
    IncidentsCreateResultV2,
    SeveritiesListResultV1,
)

from incident_contract.document import load_spec
from incident_contract.refs import validator
from incident_mock.domain.limits import Limits
from incident_mock.domain.settings import DEFAULT_FIXTURES, MockSettings
from incident_mock.kit import sandboxes as sandboxes_module
from incident_mock.kit.sandboxes import Sandboxes
from incident_mock.server import MockServer
from tests.mock.conftest import FULL, incident_body
from tests.mock.seed import SEATLESS


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(validate_responses=True).running() as running:
        yield running


@pytest.fixture
def http(mock: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.url, timeout=15) as client:
        client.post("/_mock/reset").raise_for_status()
        for sandbox in client.get("/_mock/sandboxes").json()["sandboxes"]:
            if not sandbox["default"]:
                client.delete(f"/_mock/sandboxes/{sandbox['id']}").raise_for_status()
        yield client


def new_sandbox(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/_mock/sandboxes", json=body or None)
    assert response.status_code == 201, response.text
    return response.json()["sandbox"]  # type: ignore[no-any-return]


def bearer(sandbox: dict[str, Any], replaces: str = "mock-key-full") -> dict[str, str]:
    token = next(k["token"] for k in sandbox["keys"] if k["replaces"] == replaces)
    return {"Authorization": f"Bearer {token}"}


def names(http: httpx.Client, headers: dict[str, str]) -> set[str]:
    listed = http.get("/v2/incidents", params={"page_size": 250}, headers=headers).json()["incidents"]
    return {i["name"] for i in listed}


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(validator(load_spec(), "ErrorResponse").iter_errors(body)) == []
    assert body["errors"][0]["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]


# --- isolation -----------------------------------------------------------------------------------------
def test_two_sandboxes_see_only_their_own_incidents_and_journal(http: httpx.Client) -> None:
    a, b = new_sandbox(http), new_sandbox(http)
    assert a["id"] != b["id"] and {k["token"] for k in a["keys"]}.isdisjoint(k["token"] for k in b["keys"])
    for sandbox, name in ((a, "only in A"), (b, "only in B")):
        created = http.post("/v2/incidents", json=incident_body(name, name=name), headers=bearer(sandbox))
        assert created.status_code == 200, created.text
        assert created.json()["incident"]["reference"] == "INC-2"  # each sandbox counts from its seed
    seeded = "Checkout latency above 5 s"
    assert names(http, bearer(a)) == {seeded, "only in A"}
    assert names(http, bearer(b)) == {seeded, "only in B"}
    assert names(http, FULL) == {seeded}  # the default sandbox is unaffected

    # The same idempotency key in two sandboxes is two creates.
    same = incident_body("shared-key", name="same key")
    assert "Idempotent-Replayed" not in http.post("/v2/incidents", json=same, headers=bearer(a)).headers
    assert "Idempotent-Replayed" not in http.post("/v2/incidents", json=same, headers=bearer(b)).headers

    journal_a = http.get(f"/_mock/sandboxes/{a['id']}/requests").json()["requests"]
    journal_b = http.get(f"/_mock/sandboxes/{b['id']}/requests").json()["requests"]
    assert [e["request_body"]["idempotency_key"] for e in journal_a if e["method"] == "POST"] == [
        "only in A",
        "shared-key",
    ]
    assert [e["request_body"]["idempotency_key"] for e in journal_b if e["method"] == "POST"] == [
        "only in B",
        "shared-key",
    ]
    assert {e["request_id"] for e in journal_a}.isdisjoint(e["request_id"] for e in journal_b)
    default = http.get("/_mock/sandboxes/default/requests").json()["requests"]
    assert [e["operation_id"] for e in default] == ["Incidents V2#List"]  # names(http, FULL) above


def test_the_fixtures_keys_are_the_default_sandbox(http: httpx.Client) -> None:
    default = http.get("/_mock/sandboxes/default").json()["sandbox"]
    assert {k["token"] for k in default["keys"]} == {"mock-key-full", "mock-key-creator", "mock-key-viewer"}
    http.get("/v1/identity", headers=FULL)
    journal = http.get("/_mock/sandboxes/default/requests").json()
    assert [e["operation_id"] for e in journal["requests"]] == ["Utilities V1#Identity"]


def test_a_sandbox_key_has_the_roles_of_the_key_it_replaces(http: httpx.Client) -> None:
    sandbox = new_sandbox(http)
    for key in sandbox["keys"]:
        identity = http.get("/v1/identity", headers={"Authorization": f"Bearer {key['token']}"})
        assert identity.json()["identity"]["roles"] == key["roles"]
    viewer = bearer(sandbox, "mock-key-viewer")
    assert_error(http.post("/v1/severities", json={}, headers=viewer), 403, "missing_scope")


def test_the_reset_of_the_default_sandbox_leaves_the_others(http: httpx.Client) -> None:
    sandbox = new_sandbox(http)
    http.post("/v2/incidents", json=incident_body("kept", name="kept"), headers=bearer(sandbox))
    http.post("/v2/incidents", json=incident_body("gone", name="gone"), headers=FULL)
    assert http.post("/_mock/reset").json() == {"status": "reset"}
    assert "gone" not in names(http, FULL)
    assert "kept" in names(http, bearer(sandbox))


def test_a_sandbox_resets_to_its_fixtures_keeping_its_tokens(http: httpx.Client) -> None:
    sandbox = new_sandbox(http)
    http.post("/v2/incidents", json=incident_body("reset-me", name="reset me"), headers=bearer(sandbox))
    reset = http.post(f"/_mock/sandboxes/{sandbox['id']}/actions/reset")
    assert reset.status_code == 200
    assert reset.json()["sandbox"]["keys"] == sandbox["keys"]
    assert "reset me" not in names(http, bearer(sandbox))
    assert http.get(f"/_mock/sandboxes/{sandbox['id']}/requests").json()["requests"][-1]["method"] == "GET"


def test_a_deleted_sandbox_forgets_its_tokens_and_the_default_cannot_be_deleted(http: httpx.Client) -> None:
    sandbox = new_sandbox(http)
    assert http.delete(f"/_mock/sandboxes/{sandbox['id']}").status_code == 204
    assert_error(http.get("/v1/severities", headers=bearer(sandbox)), 401, "invalid_authorization")
    assert_error(http.get(f"/_mock/sandboxes/{sandbox['id']}"), 404, "not_found")
    assert_error(http.delete("/_mock/sandboxes/default"), 422, "default_sandbox")
    assert http.get("/v1/severities", headers=FULL).status_code == 200


# --- the official SDK, configured with nothing but what the control plane returned -----------------------
def test_the_sdk_runs_the_getting_started_flow_against_a_fresh_sandbox(http: httpx.Client) -> None:
    sandbox = new_sandbox(http)
    token = next(k["token"] for k in sandbox["keys"] if k["replaces"] == "mock-key-creator")
    client = AuthenticatedClient(base_url=sandbox["base_url"], token=token, raise_on_unexpected_status=True)
    with client:
        severities = severities_v1_list.sync(client=client)
        assert isinstance(severities, SeveritiesListResultV1)
        major = next(s for s in severities.severities if s.name == "Major")
        body = IncidentsCreatePayloadV2(
            idempotency_key="sdk-sandbox",
            severity_id=major.id,
            visibility=IncidentsCreatePayloadV2Visibility.PUBLIC,
            name="Created with the SDK",
        )
        created = incidents_v2_create.sync(client=client, body=body)
        assert isinstance(created, IncidentsCreateResultV2)
        assert created.incident.name == "Created with the SDK"
    with AuthenticatedClient(
        base_url=sandbox["base_url"], token=bearer(sandbox)["Authorization"][7:]
    ) as full:
        listed = incidents_v2_list.sync(client=full)
        assert listed is not None and "Created with the SDK" in {i.name for i in listed.incidents}
    assert "Created with the SDK" not in names(http, FULL)
    journal = http.get(f"/_mock/sandboxes/{sandbox['id']}/requests").json()["requests"]
    assert [e["operation_id"] for e in journal[:2]] == ["Severities V1#List", "Incidents V2#Create"]


# --- custom fixtures -------------------------------------------------------------------------------------
SEV1 = {
    "id": "01JGZ0SEV00000000000SEV1X0",
    "name": "SEV1",
    "description": "Everything is down.",
    "rank": 1,
    "created_at": "2026-01-01T00:00:00.000000Z",
    "updated_at": "2026-01-01T00:00:00.000000Z",
}


def test_a_sandbox_from_its_own_fixtures(http: httpx.Client) -> None:
    keys = [{"id": "K1", "name": "Bridge", "roles": ["incident_creator"], "token": "bridge"}]
    incidents = [
        {
            "created_by": "bridge",
            "payload": {
                "idempotency_key": "s",
                "severity_id": SEV1["id"],
                "visibility": "public",
                "name": "Seed",
            },
        }
    ]
    sandbox = new_sandbox(http, fixtures={"severities": [SEV1], "api_keys": keys, "incidents": incidents})
    assert [(k["name"], k["replaces"], k["roles"]) for k in sandbox["keys"]] == [
        ("Bridge", "bridge", ["incident_creator"])
    ]
    headers = bearer(sandbox, "bridge")
    assert [s["name"] for s in http.get("/v1/severities", headers=headers).json()["severities"]] == ["SEV1"]
    refused = http.post("/v2/incidents", json=incident_body("major"), headers=headers)  # Major is not here
    assert_error(refused, 422, "invalid_value")
    assert sandbox["incidents"] == 1


@pytest.mark.parametrize(
    ("fixtures", "field", "pointer"),
    [
        ({"severities": [{"id": "S"}]}, "severities", "/fixtures/severities/0"),
        ({"severities": [{**SEV1, "rank": "high"}]}, "severities", "/fixtures/severities/0/rank"),
        ({"api_keys": [{"id": "K", "name": "n", "roles": ["root"]}]}, "roles", "/fixtures/api_keys/0/roles"),
        (
            {"incidents": [{"created_by": "nobody", "payload": {}}]},
            "incidents",
            "/fixtures/incidents/0/payload",
        ),
        (
            {"incidents": [{"created_by": "nobody", "payload": incident_body("x")}]},
            "created_by",
            "/fixtures/incidents/0/created_by",
        ),
        (
            {
                "incidents": [
                    {"created_by": "mock-key-full", "payload": {**incident_body("x"), "severity_id": "S"}}
                ]
            },
            "fixtures",
            "/fixtures",
        ),
        ({"unknown": []}, "unknown", "/fixtures/unknown"),
    ],
    ids=["required", "type", "role", "payload", "creator", "reference", "unknown-table"],
)
def test_fixtures_that_break_the_contract_are_422_naming_where(
    http: httpx.Client, fixtures: dict[str, Any], field: str, pointer: str
) -> None:
    before = len(http.get("/_mock/sandboxes").json()["sandboxes"])
    response = http.post("/_mock/sandboxes", json={"fixtures": fixtures})
    assert_error(response, 422, response.json()["errors"][0]["code"])
    assert response.json()["errors"][0]["source"] == {"field": field, "pointer": pointer}
    assert len(http.get("/_mock/sandboxes").json()["sandboxes"]) == before


def test_status_definitions_take_the_newer_category_names_and_answer_the_published_ones(
    http: httpx.Client,
) -> None:
    newer = {"live": "active", "learning": "post-incident"}
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        statuses = yaml.safe_load(fh)["incident_statuses"]
    renamed = [{**s, "category": newer.get(s["category"], s["category"])} for s in statuses]
    assert {s["category"] for s in renamed} >= {"active", "post-incident"}
    sandbox = new_sandbox(http, fixtures={"incident_statuses": renamed})
    answered = http.get("/v1/incident_statuses", headers=bearer(sandbox)).json()["incident_statuses"]
    assert [(s["id"], s["category"]) for s in answered] == [(s["id"], s["category"]) for s in statuses]
    live = next(s["id"] for s in statuses if s["category"] == "live")
    made = http.post(
        "/v2/incidents", json=incident_body("live", incident_status_id=live), headers=bearer(sandbox)
    )
    assert made.status_code == 200, made.text
    active = http.get("/v2/incidents?status_category[one_of]=active", headers=bearer(sandbox)).json()
    assert [(i["id"], i["incident_status"]["category"]) for i in active["incidents"]] == [
        (made.json()["incident"]["id"], "live")
    ]

    sideways = http.post(
        "/_mock/sandboxes",
        json={"fixtures": {"incident_statuses": [{**statuses[0], "category": "sideways"}]}},
    )
    assert_error(sideways, 422, "invalid_value")
    assert sideways.json()["errors"][0]["source"]["pointer"] == "/fixtures/incident_statuses/0/category"


# --- caps ------------------------------------------------------------------------------------------------
def test_the_sandbox_cap_and_the_total_incident_cap_answer_in_the_error_shape() -> None:
    limits = Limits(max_sandboxes=3, max_total_incidents=4)
    with MockServer(limits=limits).running() as capped, httpx.Client(base_url=capped.url) as http:
        a, b = new_sandbox(http), new_sandbox(http)  # with the default one: 3 sandboxes, 3 seeded incidents
        refused = http.post("/_mock/sandboxes")
        assert_error(refused, 422, "capacity_reached")
        assert "--max-sandboxes" in refused.json()["errors"][0]["message"]

        assert http.post("/v2/incidents", json=incident_body("4th"), headers=bearer(a)).status_code == 200
        full = http.post("/v2/incidents", json=incident_body("5th"), headers=bearer(b))
        assert_error(full, 422, "capacity_reached")
        assert "--max-total-incidents" in full.json()["errors"][0]["message"]

        assert http.delete(f"/_mock/sandboxes/{a['id']}").status_code == 204  # frees its two incidents
        assert http.post("/v2/incidents", json=incident_body("5th"), headers=bearer(b)).status_code == 200
        assert new_sandbox(http)["incidents"] == 1


def test_listing_says_the_cap(http: httpx.Client, mock: MockServer) -> None:
    listed = http.get("/_mock/sandboxes").json()
    assert listed["max_sandboxes"] == Limits().max_sandboxes == 1000
    assert [s["id"] for s in listed["sandboxes"]] == ["default"]


# --- sandboxes.py: the lookup --------------------------------------------------------------------------
class Comparisons:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.original = sandboxes_module.compare_digest
        monkeypatch.setattr(sandboxes_module, "compare_digest", self.compare)

    def compare(self, a: bytes, b: bytes) -> bool:
        self.calls += 1
        assert len(a) == len(b) == 32  # digests, never tokens
        return self.original(a, b)


def test_a_token_is_found_by_its_digest_whatever_the_number_of_sandboxes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = load_spec()
    registry = Sandboxes(MockSettings(fixtures=DEFAULT_FIXTURES), spec)
    first = registry.create()
    compares = Comparisons(monkeypatch)
    counts = []
    for _ in range(300):
        registry.create()
    for sandbox in (first, *list(registry)[-3:], registry.default):
        for key in sandbox.keys:
            compares.calls = 0
            found = registry.lookup(key.token)
            assert found is not None and found[0] is sandbox and found[1].token == key.token
            counts.append(compares.calls)
    assert set(counts) == {1}  # one digest compared, out of 301 sandboxes' 903 keys
    compares.calls = 0
    assert registry.lookup("sbx_not-a-token") is None
    assert compares.calls == 0

    # Iterating over the sandboxes would go through their keys: make that fail loudly.
    monkeypatch.setattr(Sandboxes, "__iter__", lambda self: pytest.fail("the lookup iterated"))
    assert registry.lookup(first.keys[0].token) is not None


def registry(**limits: int) -> Sandboxes:
    spec = load_spec()
    return Sandboxes(MockSettings(fixtures=DEFAULT_FIXTURES, limits=Limits(**limits)), spec)


def test_deleting_a_sandbox_gives_back_everything_it_held() -> None:
    sandboxes = registry()
    before = (sandboxes.totals.incidents, sandboxes.totals.text, sandboxes.budget.used)
    custom = {
        "severities": [{**SEV1, "description": "d" * 5_000}],
        "users": [{"id": "U", "name": "u" * 5_000, **SEATLESS}],
    }
    sandbox = sandboxes.create(custom)
    key = sandbox.keys[0]
    sandbox.store.create_incident(
        {"idempotency_key": "k", "severity_id": SEV1["id"], "visibility": "public", "summary": "s" * 5_000},
        key,
    )
    sandbox.journal.record(
        time=sandbox.created_at, operation_id="x", method="GET", path="/", query="", status=200, key_id="k",
        request_id="r", replayed=False, duration_ms=0.0, request_body=b"b" * 1_000, response_body=b"",
    )  # fmt: skip
    assert sandboxes.totals.incidents == before[0] + 1
    assert sandboxes.totals.text > before[1] + 15_000 and sandboxes.budget.used > before[2]
    sandboxes.delete(sandbox.id)
    assert (sandboxes.totals.incidents, sandboxes.totals.text, sandboxes.budget.used) == before
    assert sandboxes.lookup(key.token) is None and len(sandboxes) == 1


def test_the_text_budget_counts_every_sandbox_and_its_own_fixtures() -> None:
    fixtures_text = registry().totals.text  # what the default fixtures hold, counted in every sandbox
    sandboxes = registry(max_text_bytes=3 * fixtures_text + 50_000)  # the default sandbox and two bigs
    big = {"users": [{"id": f"U{n}", "name": "n" * 4_000, **SEATLESS} for n in range(5)]}  # about 20 KB held
    sandboxes.create(big)
    sandboxes.create(big)
    with pytest.raises(Exception, match="max_text_bytes") as refused:
        sandboxes.create(big)
    assert getattr(refused.value, "code", None) == "capacity_reached"
    assert len(sandboxes) == 3
