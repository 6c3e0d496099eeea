"""The dashboard (dashboard.py): read-only HTML of the sandboxes, their incidents and journals, in headless
Chromium and over httpx; Basic auth with the admin token; private incidents hidden without it; escaping;
`dashboard_url` and `permalink` answer with real pages."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from incident_mock.cli import banner
from incident_mock.server import MockServer
from tests.docs.browser import Browser
from tests.mock.conftest import FULL, incident_body

TOKEN = "d4shb0ard"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
BASIC = {"Authorization": "Basic " + base64.b64encode(f"anyone:{TOKEN}".encode()).decode()}
HOSTILE = "<script>alert(1)</script> & \"quoted\" 'name'"
TEXT = "document.body.innerText"


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    with MockServer().running() as mock:
        yield mock.url


@pytest.fixture(scope="module")
def guarded() -> Iterator[str]:
    with MockServer(admin_token=TOKEN).running() as mock:
        yield mock.url


def create(base: str, name: str, headers: dict[str, str] = FULL, **extra: Any) -> dict[str, Any]:
    body = {**incident_body(name, **extra), "name": name}
    response = httpx.post(f"{base}/v2/incidents", json=body, headers=headers)
    assert response.status_code == 200, response.text
    incident: dict[str, Any] = response.json()["incident"]
    return incident


def sandbox(base: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = httpx.post(f"{base}/_mock/sandboxes", headers=headers or {})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["sandbox"]
    return created


def shown(browser: Browser, url: str, headers: dict[str, str] | None = None) -> str:
    """The text of a page as Chromium renders it, after checking it loaded without an error."""
    with browser.page() as page:
        if headers:
            page.send("Network.enable")
            page.send("Network.setExtraHTTPHeaders", {"headers": headers})
        page.load(url, settle=0.2)
        assert page.errors() == []
        assert page.evaluate("document.querySelectorAll('script').length") == 0
        text: str = page.evaluate(TEXT)
        return text


def test_the_default_sandbox_shows_its_incidents_and_journal_newest_first(
    live: str, browser: Browser
) -> None:
    first, second = create(live, "Payments down"), create(live, "Checkout slow")
    text = shown(browser, f"{live}/dashboard")
    assert "Default sandbox" in text
    for incident in (first, second):
        assert incident["reference"] in text and incident["name"] in text
    assert text.index("Checkout slow") < text.index("Payments down")  # newest first
    assert text.index(second["reference"]) < text.index(first["reference"])
    journal = text[text.index("Journal, newest first") :]
    assert "Incidents V2#Create" in journal and "/v2/incidents" in journal
    httpx.get(f"{live}/v2/incidents/{first['id']}", headers=FULL)
    journal = shown(browser, f"{live}/dashboard").split("Journal, newest first")[1]
    assert journal.index(f"/v2/incidents/{first['id']}") < journal.index("Incidents V2#Create")


def test_the_identity_dashboard_url_and_the_permalink_are_real_pages(live: str, browser: Browser) -> None:
    identity = httpx.get(f"{live}/v1/identity", headers=FULL).json()["identity"]
    assert identity["dashboard_url"] == f"{live}/dashboard"
    assert httpx.get(identity["dashboard_url"]).status_code == 200
    incident = create(live, "Linked from chat")
    assert incident["permalink"] == f"{live}/dashboard/incidents/{incident['reference'][4:]}"
    answer = httpx.get(incident["permalink"])
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    text = shown(browser, incident["permalink"])
    assert f"{incident['reference']}: Linked from chat" in text
    assert incident["id"] in text and "Incidents V2#Create" in text  # its journal entries


def test_a_sandbox_has_its_own_page_and_permalinks(live: str, browser: Browser) -> None:
    created = sandbox(live)
    key = {"Authorization": f"Bearer {created['keys'][0]['token']}"}
    identity = httpx.get(f"{live}/v1/identity", headers=key).json()["identity"]
    assert identity["dashboard_url"] == f"{live}/dashboard/sandboxes/{created['id']}"
    incident = create(live, "Only in the sandbox", headers=key)
    assert incident["permalink"] == f"{identity['dashboard_url']}/incidents/{incident['reference'][4:]}"
    page = shown(browser, identity["dashboard_url"])
    assert "Only in the sandbox" in page and created["id"] in page
    assert all(k["token"] not in page for k in created["keys"])  # never a token
    assert "Only in the sandbox" not in shown(browser, f"{live}/dashboard")
    assert "Only in the sandbox" in shown(browser, incident["permalink"])
    assert created["id"] in shown(browser, f"{live}/dashboard")  # every page lists the sandboxes


def test_a_hostile_name_is_shown_as_text(live: str, browser: Browser) -> None:
    incident = create(live, HOSTILE)
    for url in (f"{live}/dashboard", incident["permalink"]):
        html = httpx.get(url).text
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert HOSTILE in shown(browser, url)


def test_unknown_pages_and_other_methods(live: str) -> None:
    for path in ("/dashboard/incidents/999999", "/dashboard/sandboxes/nope", "/dashboard/elsewhere"):
        answer = httpx.get(f"{live}{path}")
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    answer = httpx.post(f"{live}/dashboard", json={})
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    assert httpx.get(f"{live}/dashboard", headers={"Host": "evil.example"}).status_code == 421


def test_private_incidents_and_their_entries_are_hidden_without_the_token(
    live: str, browser: Browser
) -> None:
    secret = create(live, "Secret merger", visibility="private")
    httpx.get(f"{live}/v2/incidents/{secret['id']}", headers=FULL)
    public = create(live, "Public outage")
    text = shown(browser, f"{live}/dashboard")
    assert "Public outage" in text
    assert "Secret merger" not in text and secret["id"] not in text
    assert "Private incidents and their journal entries are not shown" in text
    assert httpx.get(secret["permalink"]).status_code == 404
    assert public["reference"] in text and text.count("Incidents V2#Create") >= 1


def test_with_an_admin_token_it_asks_for_basic_auth(guarded: str, browser: Browser) -> None:
    secret = create(guarded, "Secret merger", visibility="private")
    for headers in ({}, ADMIN, {"Authorization": "Basic " + base64.b64encode(b"anyone:wrong").decode()}):
        answer = httpx.get(f"{guarded}/dashboard", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith('Basic realm="incident-mock dashboard"')
        assert "Secret" not in answer.text
    answer = httpx.get(f"{guarded}/dashboard", headers=BASIC)
    assert answer.status_code == 200 and "Secret merger" in answer.text
    assert httpx.get(secret["permalink"], headers=BASIC).status_code == 200
    text = shown(browser, f"{guarded}/dashboard", BASIC)
    assert "Secret merger" in text and secret["reference"] in text
    assert "not shown" not in text
    created = sandbox(guarded, ADMIN)
    assert created["id"] in shown(browser, f"{guarded}/dashboard/sandboxes/{created['id']}", BASIC)


def test_the_banner_names_the_dashboard() -> None:
    assert "  dashboard  http://mock.test:1/dashboard   (" in banner("http://mock.test:1", "x", [], 0.0)
    assert "Basic auth" in banner("http://mock.test:1", "x", [], 0.0, admin=True)


def test_the_unattributed_journal_has_its_own_page_linked_from_every_page(
    live: str, browser: Browser
) -> None:
    httpx.get(f"{live}/v1/severities")  # no key
    httpx.get(f"{live}/v1/severities?from=unknown-key", headers={"Authorization": "Bearer not-a-key"})
    httpx.get(f"{live}/nowhere-in-the-contract", headers=FULL)
    with browser.page() as page:
        page.load(f"{live}/dashboard", settle=0.2)
        links = page.evaluate("[...document.querySelectorAll('nav a')].map(a => a.href)")
        assert f"{live}/dashboard/unattributed" in links
        assert page.errors() == []
    text = shown(browser, f"{live}/dashboard/unattributed")
    assert (
        "Unattributed requests" in text and "no key, an unknown key, or a path outside the contract" in text
    )
    journal = text.split("Journal, newest first")[1]
    assert "/v1/severities?from=unknown-key" in journal and "/nowhere-in-the-contract" in journal
    assert journal.index("/nowhere-in-the-contract") < journal.index("from=unknown-key")  # newest first
    assert "401" in journal and "404" in journal
    assert "not-a-key" not in text  # never a token
    assert "/nowhere-in-the-contract" not in shown(browser, f"{live}/dashboard")  # no sandbox's


def test_unattributed_entries_naming_a_private_incident_are_hidden_without_the_token(
    live: str, guarded: str, browser: Browser
) -> None:
    unknown = {"Authorization": "Bearer not-a-key"}
    for base, headers in ((live, {}), (guarded, BASIC)):
        secret = create(base, f"Secret for the unattributed {base}", visibility="private")
        httpx.get(f"{base}/v2/incidents/{secret['id']}", headers=unknown)
        httpx.get(f"{base}/v2/incidents?after={secret['id']}", headers=unknown)
        body = {**incident_body(f"asks-private-{base}"), "visibility": "private", "name": "Asks for private"}
        httpx.post(f"{base}/v2/incidents", json=body, headers=unknown)
        httpx.get(f"{base}/v1/severities?marker=public", headers=unknown)
        text = shown(browser, f"{base}/dashboard/unattributed", headers)
        assert "/v1/severities?marker=public" in text
        if base == live:
            assert secret["id"] not in text and "POST" not in text.split("Journal, newest first")[1]
            assert "Entries that name a private incident of any sandbox are not shown" in text
        else:
            assert text.count(secret["id"]) == 2 and "POST" in text and "not shown" not in text


def test_private_entries_are_found_in_one_pass_over_the_journal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from incident_mock.app import create_app
    from incident_mock.kit import dashboard

    app = create_app()
    store = app.holder.store
    key = app.holder.keys[0]
    private = [
        store.create_incident({**incident_body(f"p{i}"), "visibility": "private"}, key)[0] for i in range(50)
    ]
    public = store.create_incident(incident_body("pub"), key)[0]
    journal = app.holder.journal
    for i, record in enumerate([*private, public]):
        for path, body in ((f"/v2/incidents/{record.id}", b""), (f"/v2/incidents/{record.number}", b"")):
            journal.record(
                time=record.created_at, operation_id="Incidents V2#Show", method="GET", path=path,
                query="", status=200, key_id="K", request_id=str(i), replayed=False, duration_ms=1.0,
                request_body=body, response_body=b'{"incident":{"id":"' + record.id.encode() + b'"}}',
            )  # fmt: skip
    built: list[int] = []
    real = dashboard._Named

    class Counting(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(dashboard, "_Named", Counting)
    page = dashboard.Dashboard(app, sandboxes=app.sandboxes).render("/dashboard", False)[1]
    assert len(built) == 1  # one set of private incidents for the whole page, not one per entry
    assert all(r.id.encode() not in page for r in private)
    assert page.count(public.id.encode()) == 1  # its GET by id; by number it names no other
    assert f"/v2/incidents/{public.number}".encode() in page


def test_an_entry_names_an_incident_by_id_anywhere_or_by_number_in_its_path() -> None:
    from types import SimpleNamespace
    from typing import cast

    from incident_mock.kit.dashboard import _Named
    from incident_mock.kit.journal import Journal, JournalBudget

    odd = SimpleNamespace(id='inc "7" é', number=7)
    plain = SimpleNamespace(id="01JGZ1NC000000000000000099", number=99)
    named = _Named(cast(Any, [odd, plain]), numbers=True)
    journal = Journal(100, 10**6, 10**4, JournalBudget(10**7))
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def entry(path: str, query: str = "", body: bytes = b"") -> Any:
        return journal.record(
            time=moment, operation_id="x", method="GET", path=path, query=query, status=200, key_id="K",
            request_id="R", replayed=False, duration_ms=1.0, request_body=b"", response_body=body,
        )  # fmt: skip

    assert entry(f"/v2/incidents/{plain.id}") in named
    assert entry("/v2/incidents/99") in named and entry("/v1/severities/99") not in named
    assert entry("/v2/incidents", f"after={plain.id}") in named
    assert entry("/v2/incidents", body=b'{"incident":{"id":"' + plain.id.encode() + b'"}}') in named
    assert entry("/v2/incidents", body=b'{"id":"inc \\"7\\" \\u00e9"}') in named  # as json.dumps escapes it
    assert entry("/v2/incidents", body=b'{"name":"not 01JGZ1NC000000000000000099 itself"}') not in named
    assert entry("/v2/incidents", body=b'{"id":"01JGZ1NC0000000000000000990"}') not in named
