"""The control plane's guard, the Host check, the public URL and CORS, on the wire (uvicorn on 127.0.0.1).

These protections sit in front of every route, so they must hold whatever the control plane grows into:
the tests speak HTTP only, through `MockServer`, the construction `incident-mock` uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from incident_mock.server import MockServer
from tests.docs.browser import Browser
from tests.mock.conftest import FULL, incident_body
from tests.mock.test_transport import SHORT, Answer, assert_error

TOKEN = "s3cret-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PUBLIC = "http://mock.internal:9999"
APP_ORIGIN = "http://app.example:3000"


def answer(response: httpx.Response) -> Answer:
    return Answer(response.status_code, dict(response.headers), response.content)


@pytest.fixture(scope="module")
def guarded() -> Iterator[MockServer]:
    """A mock with an admin token, a public URL, an extra allowed host and one CORS origin."""
    options: dict[str, Any] = {
        "admin_token": TOKEN,
        "public_url": PUBLIC,
        "allowed_hosts": ["alias.internal"],
        "cors_origins": [APP_ORIGIN],
        "transport": SHORT,
        "validate_responses": True,
    }
    with MockServer(**options).running() as mock:
        yield mock


@pytest.fixture
def http(guarded: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=guarded.address, timeout=15) as client:
        client.post("/_mock/reset", headers=ADMIN).raise_for_status()
        yield client


def total(http: httpx.Client) -> int:
    return int(http.get("/v2/incidents", headers=FULL).json()["pagination_meta"]["total_record_count"])


# --- the admin token ---------------------------------------------------------------------------------
def test_without_the_admin_token_the_control_plane_is_401(http: httpx.Client) -> None:
    for method, path in [("GET", "/_mock/health"), ("POST", "/_mock/reset"), ("GET", "/_mock/nothing")]:
        response = http.request(method, path)
        assert_error(answer(response), 401, "missing_authorization_material")
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_admin_token_is_401_and_an_api_key_is_no_admin_token(http: httpx.Client) -> None:
    http.post("/v2/incidents", json=incident_body("kept"), headers=FULL)
    for headers in ({"Authorization": "Bearer wrong"}, FULL, {"Authorization": f"Basic {TOKEN}"}):
        assert http.post("/_mock/reset", headers=headers).status_code == 401
    assert total(http) == 2


def test_with_the_admin_token_the_control_plane_answers(http: httpx.Client) -> None:
    http.post("/v2/incidents", json=incident_body("gone"), headers=FULL)
    assert http.post("/_mock/reset", headers=ADMIN, json={}).status_code == 200
    assert total(http) == 1


def test_the_admin_token_does_not_guard_the_api_or_the_docs(http: httpx.Client) -> None:
    assert http.get("/v1/severities", headers=FULL).status_code == 200
    assert http.get("/docs/").status_code == 200


# --- health ------------------------------------------------------------------------------------------
def test_health_tells_liveness_and_version_only(http: httpx.Client) -> None:
    private = incident_body("private", visibility="private")
    assert http.post("/v2/incidents", json=private, headers=FULL).status_code == 200
    body = http.get("/_mock/health", headers=ADMIN).json()
    assert set(body) == {"status", "version"}
    assert body["status"] == "ok"


# --- a web page must not reach it --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "content", "status", "code"),
    [
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"a=b", 400, "invalid_content_type"),
        ({"Content-Type": "text/plain"}, b"{}", 400, "invalid_content_type"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--", 400, "invalid_content_type"),
        ({}, b"{}", 400, "invalid_content_type"),  # a body with no type
        ({"Content-Type": "application/json"}, b"[]", 400, None),  # not an object
        ({"Content-Type": "application/json"}, b"{nope", 400, None),
        ({"Origin": "http://evil.example"}, b"", 403, "cross_origin_request"),
        ({"Origin": "null"}, b"", 403, "cross_origin_request"),
        ({"Sec-Fetch-Site": "cross-site"}, b"", 403, "cross_origin_request"),
        ({"Sec-Fetch-Site": "same-site"}, b"", 403, "cross_origin_request"),
    ],
    ids=[
        "form",
        "text-plain",
        "multipart",
        "untyped",
        "array",
        "bad-json",
        "origin",
        "null",
        "xsite",
        "ssite",
    ],
)
def test_what_a_web_page_can_send_never_resets(
    http: httpx.Client, headers: dict[str, str], content: bytes, status: int, code: str | None
) -> None:
    http.post("/v2/incidents", json=incident_body("kept"), headers=FULL)
    response = http.post("/_mock/reset", headers={**ADMIN, **headers}, content=content)
    assert_error(answer(response), status, code)
    assert total(http) == 2


def test_a_same_origin_json_reset_is_accepted(http: httpx.Client, guarded: MockServer) -> None:
    same = {**ADMIN, "Origin": guarded.address, "Sec-Fetch-Site": "same-origin"}
    assert http.post("/_mock/reset", headers=same, json={}).status_code == 200


# --- the Host check ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost:1234",
        "LOCALHOST",
        "localhost.",
        "[::1]:80",
        "mock.internal:9999",
        "alias.internal",
    ],
)
def test_the_hosts_it_serves_are_accepted(http: httpx.Client, host: str) -> None:
    assert http.get("/v1/severities", headers={**FULL, "Host": host}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/severities"), ("POST", "/_mock/reset"), ("GET", "/_mock/health"), ("GET", "/openapi.json"),
     ("GET", "/docs/"), ("GET", "/")],
)  # fmt: skip
@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "mock.internal.evil", ""])
def test_any_other_host_is_421_everywhere(http: httpx.Client, method: str, path: str, host: str) -> None:
    http.post("/v2/incidents", json=incident_body("kept"), headers=FULL)
    response = http.request(method, path, headers={**FULL, **ADMIN, "Host": host})
    assert_error(answer(response), 421, "unknown_host")
    assert total(http) == 2


# --- the public URL ----------------------------------------------------------------------------------
def test_the_public_url_names_the_mock_whatever_the_host_header(http: httpx.Client) -> None:
    for host in ("localhost:1", "alias.internal"):
        served = http.get("/openapi.json", headers={"Host": host}).json()
        assert served["servers"] == [{"url": PUBLIC, "description": "This mock."}]
    assert f"url: {PUBLIC}" in http.get("/openapi.yaml", headers={"Host": "localhost:2"}).text
    identity = http.get("/v1/identity", headers=FULL).json()["identity"]
    assert identity["dashboard_url"] == f"{PUBLIC}/dashboard"
    created = http.post("/v2/incidents", json=incident_body("linked"), headers=FULL).json()["incident"]
    assert created["permalink"] == f"{PUBLIC}/dashboard/incidents/{created['reference'].removeprefix('INC-')}"


def test_the_root_points_at_the_docs(http: httpx.Client) -> None:
    response = http.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/docs/"
    assert response.json()["docs"] == f"{PUBLIC}/docs/"


def test_redirects_never_repeat_the_clients_host(http: httpx.Client) -> None:
    for path, target in [("/v1/severities/", "/v1/severities"), ("/docs", "/docs/"), ("/", "/docs/")]:
        response = http.get(path, headers={**FULL, "Host": "localhost:4321"})
        assert (response.status_code, response.headers["location"]) == (307, target)


def test_swagger_ui_tries_requests_on_the_address_of_its_page(browser: Browser) -> None:
    """Browsed as localhost, the docs would otherwise send "try it out" to 127.0.0.1: cross-origin."""
    with MockServer(transport=SHORT).running() as mock:
        page_origin = mock.url.replace("127.0.0.1", "localhost")
        with browser.page() as page:
            page.load(f"{page_origin}/docs/")
            deadline, options = time.monotonic() + 20, list[str]()
            while not options and time.monotonic() < deadline:
                options = page.evaluate(
                    "[...document.querySelectorAll('.servers select option')].map(o => o.value)"
                )
                time.sleep(0.1)
            assert options == [page_origin, mock.url]
            assert page.errors() == []


# --- CORS --------------------------------------------------------------------------------------------
def test_a_preflight_from_a_listed_origin_is_answered(http: httpx.Client) -> None:
    preflight = {
        "Origin": APP_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    response = http.options("/v2/incidents", headers=preflight)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"]


def test_a_listed_origin_may_read_answers_and_their_headers(http: httpx.Client) -> None:
    response = http.get("/v1/severities", headers={**FULL, "Origin": APP_ORIGIN})
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"]
    error = http.get("/v1/severities", headers={"Origin": APP_ORIGIN})
    assert error.status_code == 401
    assert error.headers["access-control-allow-origin"] == APP_ORIGIN


def test_other_origins_and_the_control_plane_get_no_cors(http: httpx.Client) -> None:
    preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    refused = http.options("/v2/incidents", headers=preflight)
    assert_error(answer(refused), 405)
    assert "access-control-allow-origin" not in refused.headers
    listed = {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"}
    control = http.options("/_mock/reset", headers={**ADMIN, **listed})
    assert "access-control-allow-origin" not in control.headers
    assert http.post("/_mock/reset", headers={**ADMIN, "Origin": APP_ORIGIN}).status_code == 403


def test_cors_is_off_by_default(mock_without_options: str) -> None:
    preflight = {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "GET"}
    response = httpx.options(f"{mock_without_options}/v1/severities", headers=preflight)
    assert_error(answer(response), 405)
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture(scope="module")
def mock_without_options() -> Iterator[str]:
    with MockServer(transport=SHORT).running() as mock:
        yield mock.url


# --- headers on every answer -------------------------------------------------------------------------
def test_answers_are_not_stored_or_sniffed(http: httpx.Client) -> None:
    for response in (
        http.get("/v1/severities", headers=FULL),
        http.get("/v1/severities"),
        http.get("/v2/incidents/nothing", headers=FULL),
        http.get("/_mock/health", headers=ADMIN),
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"


# --- where the new stages sit ------------------------------------------------------------------------
def test_hosts_and_cors_run_after_intake_and_before_the_control_plane(guarded: MockServer) -> None:
    from connexion.middleware.routing import RoutingMiddleware

    from incident_mock.http.control_stage import Control
    from incident_mock.http.cors import Cors
    from incident_mock.http.hosts import HostCheck
    from incident_mock.http.intake import Intake
    from tests.mock.test_dispatch import stack

    layers = stack(guarded.app)
    order = [Intake, HostCheck, Cors, Control, RoutingMiddleware]
    positions = [next(i for i, layer in enumerate(layers) if isinstance(layer, kind)) for kind in order]
    assert positions == sorted(positions)


# --- the protections cover every operation of the control plane's document ----------------------------
def control_operations() -> list[tuple[str, str]]:
    from incident_contract.document import load_control_spec

    spec = load_control_spec()
    return [
        (method.upper(), path.replace("{sandbox_id}", "default"))
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    ]


def sandbox_count(http: httpx.Client) -> int:
    return len(http.get("/_mock/sandboxes", headers=ADMIN).json()["sandboxes"])


@pytest.mark.parametrize(("method", "path"), control_operations())
def test_every_control_operation_needs_the_admin_token_and_refuses_web_pages(
    http: httpx.Client, method: str, path: str
) -> None:
    http.post("/v2/incidents", json=incident_body("kept"), headers=FULL)
    assert_error(answer(http.request(method, path)), 401, "missing_authorization_material")
    refused = http.request(method, path, headers={**ADMIN, "Origin": "http://evil.example"})
    assert_error(answer(refused), 403, "cross_origin_request")
    if method == "POST":
        form = {**ADMIN, "Content-Type": "application/x-www-form-urlencoded"}
        assert_error(
            answer(http.request(method, path, headers=form, content=b"a=b")), 400, "invalid_content_type"
        )
    assert_error(
        answer(http.request(method, path, headers={**ADMIN, "Host": "evil.example"})), 421, "unknown_host"
    )
    assert total(http) == 2
    assert sandbox_count(http) == 1


def test_a_sandbox_token_is_no_admin_token(http: httpx.Client) -> None:
    sandbox = http.post("/_mock/sandboxes", headers=ADMIN).json()["sandbox"]
    token = {"Authorization": f"Bearer {sandbox['keys'][0]['token']}"}
    assert http.get("/_mock/sandboxes", headers=token).status_code == 401
    assert http.get("/v1/severities", headers=token).status_code == 200
    assert http.delete(f"/_mock/sandboxes/{sandbox['id']}", headers=ADMIN).status_code == 204
