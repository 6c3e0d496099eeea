"""Bad input: every malformed, oversized or hostile request gets a 4xx in the contract's shape.

openapi.yaml, Errors: never a 500, always `application/json` with `{type, status, request_id, errors}`,
`status` equal to the HTTP status and `request_id` equal to `X-Request-Id`. And a rejected request
changes nothing: the incidents, the idempotency table and the severities are compared before and after.
Most tests run in-process; a few go over a real socket, where uvicorn's own parsing is in the way too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_mock.resources.organisation import Store
from tests.mock.conftest import CREATOR, FULL, VIEWER, incident_body
from tests.mock.seed import MAJOR, SEEDED_INCIDENT

MINOR = "01JGZ0SEV0000000000000M1N0"
JSON = {"Content-Type": "application/json"}
TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "resource_forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "validation_error",
}
# The four operations that take a body, with a body each accepts.
WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v2/incidents", incident_body("bad-input")),
    ("POST", "/v1/severities", {"name": "Sev-new", "description": "A new one"}),
    ("PUT", f"/v1/severities/{MINOR}", {"name": "Minor-renamed", "description": "Renamed"}),
    (
        "POST",
        f"/v2/incidents/{SEEDED_INCIDENT}/actions/edit",
        {"incident": {"name": "Renamed"}, "notify_incident_channel": False},
    ),
]
WRITE_IDS = ["create-incident", "create-severity", "update-severity", "edit-incident"]
DEEP = 10_000
TWO_MIB = 2 * 1024 * 1024


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a write could change."""
    return copy.deepcopy(
        {
            "incidents": store.incidents,
            "idempotency": dict(store.idempotency.entries),
            "severities": store.severities,
            "counts": store.counts,
        }
    )


def assert_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A 4xx in the contract's ErrorResponse shape; returns the body."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict)
    assert body["type"] == TYPES[response.status_code]
    assert body["status"] == response.status_code
    assert body["request_id"] and body["request_id"] == response.headers["x-request-id"]
    assert isinstance(body["errors"], list) and body["errors"]
    for entry in body["errors"]:
        assert isinstance(entry["code"], str) and entry["code"]
        assert isinstance(entry["message"], str) and entry["message"]
        if "source" in entry:
            assert set(entry["source"]) >= {"field", "pointer"}
            assert isinstance(entry["source"]["field"], str) and isinstance(entry["source"]["pointer"], str)
    return body  # type: ignore[no-any-return]


def codes(body: dict[str, Any]) -> list[str]:
    return [e["code"] for e in body["errors"]]


def nested(kind: str, depth: int = DEEP) -> bytes:
    if kind == "arrays":
        return b"[" * depth + b"]" * depth
    if kind == "objects":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"name":' + b"[" * depth + b"]" * depth + b"}"  # deep inside a field of a real body


# (id, raw body, expected status, expected first error code or None)
BAD_BODIES: list[tuple[str, bytes, int, str | None]] = [
    ("malformed", b'{"name": ', 400, "invalid_json"),
    ("single-quotes", b"{'name': 'x'}", 400, "invalid_json"),
    ("trailing-garbage", b'{"name": "x"} extra', 400, "invalid_json"),
    ("non-utf8", b'{"name": "\xff\xfe"}', 400, "invalid_encoding"),
    ("latin1", '{"name": "café"}'.encode("latin-1"), 400, "invalid_encoding"),
    ("utf16", '{"name": "x"}'.encode("utf-16"), 400, "invalid_encoding"),
    ("utf8-bom", b'\xef\xbb\xbf{"name": "x"}', 400, "invalid_json"),
    ("empty", b"", 400, None),
    ("whitespace", b"  \n\t ", 400, "invalid_json"),
    ("json-null", b"null", 400, "invalid_json"),
    ("array", b"[]", 422, "invalid_value"),
    ("array-of-objects", b'[{"name": "x"}]', 422, "invalid_value"),
    ("string", b'"x"', 422, "invalid_value"),
    ("number", b"42", 422, "invalid_value"),
    ("boolean", b"true", 422, "invalid_value"),
    ("deep-arrays", nested("arrays"), 400, "invalid_json"),
    ("deep-objects", nested("objects"), 400, "invalid_json"),
    ("deep-in-field", nested("field"), 400, "invalid_json"),
    ("huge-integer", b'{"rank": ' + b"9" * 5000 + b"}", 400, "invalid_json"),
]


@pytest.fixture
def writes(store: Store) -> Iterator[None]:
    """Asserts the store did not change during the test."""
    before = snapshot(store)
    yield
    assert snapshot(store) == before, "a rejected request changed the store"


# --- bodies ----------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("writes")
@pytest.mark.parametrize(("method", "path", "_good"), WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize(
    ("raw", "status", "code"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES]
)
async def test_bad_body_is_a_4xx_in_the_contract_shape(
    client: httpx.AsyncClient, method: str, path: str, _good: Any, raw: bytes, status: int, code: str | None
) -> None:
    response = await client.request(method, path, content=raw, headers={**FULL, **JSON})
    body = assert_error(response, status)
    if code is not None:
        assert codes(body)[0] == code


@pytest.mark.usefixtures("writes")
@pytest.mark.parametrize(("method", "path", "_good"), WRITES, ids=WRITE_IDS)
async def test_two_mib_body_is_413(client: httpx.AsyncClient, method: str, path: str, _good: Any) -> None:
    raw = b'{"name": "' + b"a" * TWO_MIB + b'"}'
    assert_error(await client.request(method, path, content=raw, headers={**FULL, **JSON}), 413)


@pytest.mark.usefixtures("writes")
async def test_two_mib_body_without_a_content_length_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(32):
            yield b"a" * 65536
        yield b'"}'

    response = await client.post("/v1/severities", content=chunks(), headers={**FULL, **JSON})
    assert_error(response, 413)


@pytest.mark.usefixtures("writes")
@pytest.mark.parametrize(("method", "path", "good"), WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/problem+json",
        "application/jsonx",
        ";;;",
    ],
)
async def test_wrong_content_type_is_400_even_with_a_good_body(
    client: httpx.AsyncClient, method: str, path: str, good: dict[str, Any], content_type: str
) -> None:
    response = await client.request(
        method, path, content=json.dumps(good), headers={**FULL, "Content-Type": content_type}
    )
    assert codes(assert_error(response, 400)) == ["invalid_content_type"]


@pytest.mark.parametrize(("method", "path", "good"), WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "Application/Json; charset=UTF-8"])
async def test_media_type_case_does_not_matter(
    client: httpx.AsyncClient, store: Store, method: str, path: str, good: dict[str, Any], content_type: str
) -> None:
    """Media types are case-insensitive (RFC 9110 §8.3.1): the body is validated and accepted as usual."""
    headers = {**FULL, "Content-Type": content_type}
    before = snapshot(store)
    rejected = await client.request(method, path, content=b'{"unknown_field": 1}', headers=headers)
    assert assert_error(rejected, 422)["errors"]
    assert snapshot(store) == before
    accepted = await client.request(method, path, content=json.dumps(good), headers=headers)
    assert accepted.status_code in (200, 201), accepted.text[:300]


# --- auth comes before the body ----------------------------------------------------------------------------
@pytest.mark.usefixtures("writes")
@pytest.mark.parametrize(("method", "path", "_good"), WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Authorization": "Bearer not-a-key"}, 401, "invalid_authorization"),
        ({}, 401, "missing_authorization_material"),
        ({"Authorization": "Basic bW9jazprZXk="}, 401, "missing_authorization_material"),
        (VIEWER, 403, "missing_scope"),
    ],
    ids=["unknown-key", "no-key", "basic", "viewer"],
)
async def test_auth_is_checked_before_the_body(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    _good: Any,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    for raw in (b"{", b"\xff", nested("arrays"), b"null", b"[]", b""):
        response = await client.request(method, path, content=raw, headers={**headers, **JSON})
        assert codes(assert_error(response, status)) == [code], raw[:20]


@pytest.mark.usefixtures("writes")
async def test_a_creator_key_with_a_bad_severity_body_is_403(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/severities", content=b"[[[", headers={**CREATOR, **JSON})
    assert codes(assert_error(response, 403)) == ["missing_scope"]


# --- query strings ---------------------------------------------------------------------------------------
LISTS = ["/v2/incidents", "/v1/custom_field_options?custom_field_id=01JGZ0CF0000000000000TEAM0"]


@pytest.mark.parametrize("path", LISTS, ids=["incidents", "options"])
@pytest.mark.parametrize(
    "page_size",
    [
        "0",
        "-1",
        "-99999999999999999999",
        "251",
        "10" + "0" * 30,
        "9" * 5000,
        "abc",
        "",
        "1.5",
        "1e3",
        "0x10",
        "%00",
        "٣",
    ],
)
async def test_bad_page_size_is_422_naming_it(client: httpx.AsyncClient, path: str, page_size: str) -> None:
    sep = "&" if "?" in path else "?"
    response = await client.get(f"{path}{sep}page_size={page_size}", headers=FULL)
    body = assert_error(response, 422)
    assert body["errors"][0]["source"]["field"] == "page_size"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/identity",
        "/v1/severities",
        f"/v1/severities/{MINOR}",
        "/v1/incident_types",
        "/v1/incident_statuses",
        "/v2/custom_fields",
        "/v2/incident_roles",
        "/v2/incidents",
        f"/v2/incidents/{SEEDED_INCIDENT}",
        "/v1/custom_field_options?custom_field_id=01JGZ0CF0000000000000TEAM0",
    ],
)
async def test_unknown_query_parameter_is_422(client: httpx.AsyncClient, path: str) -> None:
    sep = "&" if "?" in path else "?"
    for query in ("foo=bar", "pagesize=5", "page_size[x]=1", "%00=1", "🔥=1"):
        response = await client.get(f"{path}{sep}{query}", headers=FULL)
        assert codes(assert_error(response, 422)) == ["invalid_value"], query


@pytest.mark.parametrize(
    "query",
    [
        "after=",
        "after=%00",
        "after=🔥",
        "sort_by=random",
        "status=x",
        "status[bogus]=x",
        "status[one_of][x]=y",
        "mode[one_of]=nope",
        "created_at[gte]=yesterday",
        "created_at[date_range]=2026-01-01",
        "severity[gte]=a&severity[gte]=b",
        "incident_role[x]=y",
        "filter_mode=some",
    ],
)
async def test_malformed_incident_filters_are_422(client: httpx.AsyncClient, query: str) -> None:
    assert_error(await client.get(f"/v2/incidents?{query}", headers=FULL), 422)


@pytest.mark.parametrize("ref", ["%00", "🔥", "%FF", "a" * 5000, "-1", "0", "99999999999999999999999"])
async def test_odd_ids_in_the_path_are_404(client: httpx.AsyncClient, ref: str) -> None:
    for path in (f"/v2/incidents/{ref}", f"/v1/severities/{ref}", f"/v1/incident_types/{ref}"):
        assert codes(assert_error(await client.get(path, headers=FULL), 404)) == ["not_found"]


# --- strings the contract accepts ------------------------------------------------------------------------
ODD_TEXT = [
    "nul\x00byte",
    "🔥 fire 🧯",
    "RTL \u202eevil",
    "line\u2028sep",
    "e\u0301\u0301",
    "😀" * 255,
    "\x00",
]


@pytest.mark.parametrize(
    "text", ODD_TEXT, ids=["nul", "emoji", "rtl", "line-sep", "combining", "255-emoji", "only-nul"]
)
async def test_null_bytes_and_emoji_round_trip_through_create_and_replay(
    client: httpx.AsyncClient, store: Store, text: str
) -> None:
    body = incident_body(text, name=text, summary=text)  # the idempotency key too: 1..255 characters
    created = await client.post("/v2/incidents", json=body, headers=FULL)
    assert created.status_code == 200, created.text[:300]
    incident = created.json()["incident"]
    assert (incident["name"], incident["summary"]) == (text, text)
    shown = (await client.get(f"/v2/incidents/{incident['id']}", headers=FULL)).json()["incident"]
    assert (shown["name"], shown["summary"]) == (text, text)
    replay = await client.post("/v2/incidents", json=body, headers=FULL)
    assert (
        replay.headers["idempotent-replayed"] == "true" and replay.json()["incident"]["id"] == incident["id"]
    )
    full = store.key_for("mock-key-full")
    assert (
        full is not None
        and store.idempotency.recall(full.id, text, store.clock.now()).incident_id == incident["id"]
    )


@pytest.mark.parametrize(
    "name", ["nul\x00", "🔥" * 50, "\u210c\U0001d522\U0001d529\U0001d529\U0001d52c", "\x00"]
)
async def test_odd_severity_names_round_trip(client: httpx.AsyncClient, name: str) -> None:
    created = await client.post("/v1/severities", json={"name": name, "description": "🔥\x00"}, headers=FULL)
    assert created.status_code == 201, created.text[:300]
    severity_id = created.json()["severity"]["id"]
    shown = (await client.get(f"/v1/severities/{severity_id}", headers=FULL)).json()["severity"]
    assert (shown["name"], shown["description"]) == (name, "🔥\x00")


@pytest.mark.usefixtures("writes")
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v2/incidents", incident_body(""), "idempotency_key"),
        ("POST", "/v2/incidents", incident_body("😀" * 256), "idempotency_key"),
        ("POST", "/v2/incidents", incident_body("k", visibility="public\x00"), "visibility"),
        ("POST", "/v2/incidents", incident_body("k", severity_id=MAJOR + "\x00"), "severity_id"),
        ("POST", "/v2/incidents", incident_body("k", mode="🔥"), "mode"),
        ("POST", "/v1/severities", {"name": "", "description": "x"}, "name"),
        ("POST", "/v1/severities", {"name": "🔥" * 51, "description": "x"}, "name"),
        ("POST", "/v1/severities", {"name": "Major\x00", "description": "x", "rank": "1"}, "rank"),
        ("PUT", f"/v1/severities/{MINOR}", {"name": "Major", "description": "x"}, "name"),
        (
            "POST",
            f"/v2/incidents/{SEEDED_INCIDENT}/actions/edit",
            {"incident": {"incident_status_id": "🔥"}, "notify_incident_channel": False},
            "incident_status_id",
        ),
        (
            "POST",
            f"/v2/incidents/{SEEDED_INCIDENT}/actions/edit",
            {"incident": {"visibility": "private"}, "notify_incident_channel": False},
            "visibility",
        ),
    ],
    ids=[
        "empty-key",
        "256-emoji-key",
        "nul-in-enum",
        "nul-in-reference",
        "emoji-mode",
        "empty-severity-name",
        "51-emoji-name",
        "rank-as-text",
        "duplicate-name",
        "emoji-status",
        "edit-visibility",
    ],
)
async def test_invalid_strings_are_422_naming_the_field(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = await client.request(method, path, json=body, headers=FULL)
    assert field in {e["source"]["field"] for e in assert_error(response, 422)["errors"]}


# --- the socket ------------------------------------------------------------------------------------------
def live_state(url: str) -> tuple[Any, ...]:
    modes = "mode[one_of]=standard&mode[one_of]=retrospective&mode[one_of]=test&mode[one_of]=tutorial"
    incidents = httpx.get(f"{url}/v2/incidents?page_size=250&{modes}", headers=FULL).json()
    severities = httpx.get(f"{url}/v1/severities", headers=FULL).json()
    return incidents["pagination_meta"]["total_record_count"], incidents["incidents"], severities


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"name": ', 400),
        (b'{"name": "\xff"}', 400),
        (b"", 400),
        (b"null", 400),
        (b"[]", 422),
        (nested("arrays"), 400),
        (nested("objects"), 400),
        (b'{"name": "' + b"a" * TWO_MIB + b'"}', 413),
    ],
    ids=["malformed", "non-utf8", "empty", "null", "array", "deep-arrays", "deep-objects", "2mib"],
)
def test_bad_bodies_over_the_socket(live_url: str, raw: bytes, status: int) -> None:
    before = live_state(live_url)
    for method, path, _ in WRITES:
        response = httpx.request(method, f"{live_url}{path}", content=raw, headers={**FULL, **JSON})
        assert_error(response, status)
    bad_key = httpx.post(
        f"{live_url}/v2/incidents", content=raw, headers={"Authorization": "Bearer nope", **JSON}
    )
    # openapi.yaml, Authentication: the key is checked before the body, so a bad key is 401 even with a 2 MiB body.
    assert_error(bad_key, 401)
    viewer = httpx.post(
        f"{live_url}/v2/incidents", content=raw, headers={"Authorization": "Bearer mock-key-viewer", **JSON}
    )
    assert_error(viewer, 403)
    assert live_state(live_url) == before


def test_queries_and_odd_strings_over_the_socket(live_url: str) -> None:
    for query in ("page_size=-1", "page_size=99999999999999999999", "page_size=abc", "foo=bar", "after=%00"):
        assert_error(httpx.get(f"{live_url}/v2/incidents?{query}", headers=FULL), 422)
    text = "nul\x00 🔥 \u202e"
    created = httpx.post(f"{live_url}/v2/incidents", json=incident_body(text, name=text), headers=FULL)
    assert created.status_code == 200, created.text
    shown = httpx.get(f"{live_url}/v2/incidents/{created.json()['incident']['id']}", headers=FULL)
    assert shown.json()["incident"]["name"] == text


def test_wrong_content_type_over_the_socket(live_url: str) -> None:
    before = live_state(live_url)
    good = json.dumps(incident_body("ct"))
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = httpx.post(
            f"{live_url}/v2/incidents", content=good, headers={**FULL, "Content-Type": content_type}
        )
        assert codes(assert_error(response, 400)) == ["invalid_content_type"]
    assert live_state(live_url) == before


# --- properties ------------------------------------------------------------------------------------------
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@PROPERTY
@given(index=st.integers(0, len(WRITES) - 1), raw=st.binary(max_size=300))
async def test_property_arbitrary_bytes_never_5xx_nor_change_the_store(
    client: httpx.AsyncClient, app: Any, index: int, raw: bytes
) -> None:
    app.holder.reset()
    before = snapshot(app.holder.store)
    method, path, _ = WRITES[index]
    assert_error(await client.request(method, path, content=raw, headers={**FULL, **JSON}))
    assert snapshot(app.holder.store) == before


@PROPERTY
@given(index=st.integers(0, len(WRITES) - 1), value=json_values)
async def test_property_arbitrary_json_never_5xx_nor_change_the_store(
    client: httpx.AsyncClient, app: Any, index: int, value: Any
) -> None:
    app.holder.reset()
    before = snapshot(app.holder.store)
    method, path, _ = WRITES[index]
    assert_error(await client.request(method, path, json=value, headers={**FULL, **JSON}))
    assert snapshot(app.holder.store) == before


@PROPERTY
@given(index=st.integers(0, len(WRITES) - 1), data=st.data())
async def test_property_one_field_replaced_by_any_json_is_a_2xx_or_a_clean_4xx(
    client: httpx.AsyncClient, app: Any, index: int, data: st.DataObject
) -> None:
    """A good body with one field (or a nested `incident` field) set to any JSON value, or one unknown key added."""
    app.holder.reset()
    store = app.holder.store
    before = snapshot(store)
    method, path, good = WRITES[index]
    body = copy.deepcopy(good)
    target = body.get("incident", body)
    name = data.draw(st.sampled_from([*target, "severityId", "🔥", ""]), label="field")
    target[name] = data.draw(json_values, label="value")
    response = await client.request(method, path, json=body, headers=FULL)
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert_error(response)
        assert snapshot(store) == before
    else:
        assert response.status_code in (200, 201)


@pytest.mark.usefixtures("writes")
@pytest.mark.parametrize(
    "rank", [2**63, -(2**63) - 1, 10**30, -(10**30)], ids=["2^63", "-2^63-1", "1e30", "-1e30"]
)
@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/severities"), ("PUT", f"/v1/severities/{MINOR}")])
async def test_integer_outside_int64_is_422_naming_it(
    client: httpx.AsyncClient, method: str, path: str, rank: int
) -> None:
    """`rank` is `format: int64` in the contract; a client in a typed language could not even hold these."""
    response = await client.request(
        method, path, json={"name": "Huge", "description": "x", "rank": rank}, headers=FULL
    )
    assert [e["source"]["field"] for e in assert_error(response, 422)["errors"]] == ["rank"]


@pytest.mark.parametrize("rank", [2**63 - 1, -(2**63)])
async def test_int64_bounds_themselves_are_accepted(client: httpx.AsyncClient, rank: int) -> None:
    response = await client.post(
        "/v1/severities", json={"name": "Edge", "description": "x", "rank": rank}, headers=FULL
    )
    assert response.status_code == 201 and response.json()["severity"]["rank"] == rank
