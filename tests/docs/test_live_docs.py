"""The mock's live docs: Swagger UI from offline assets at /docs/, the contract at /openapi.json|yaml."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from incident_contract.document import load_spec
from incident_contract.operations import operations
from incident_mock.app import create_app
from tests.docs.browser import Browser
from tests.servers import serve


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


def test_docs_redirects_to_the_index_and_every_asset_it_names_is_served(live: str) -> None:
    redirect = httpx.get(f"{live}/docs")
    assert (redirect.status_code, redirect.headers["location"]) == (307, "/docs/")
    index = httpx.get(f"{live}/docs/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="\./([^"]+)"', index.text)
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "incident-contract.js"} <= set(assets)
    for asset in assets:
        response = httpx.get(f"{live}/docs/{asset}")
        assert response.status_code == 200, asset
        assert response.content
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', index.text))  # nothing from a CDN


def test_unknown_doc_paths_are_404_in_the_error_shape(live: str) -> None:
    for path in ("/docs/nope.js", "/docs/%2e%2e/openapi.yaml", "/docs/index.j2"):
        response = httpx.get(f"{live}{path}")
        assert response.status_code == 404, path
        assert response.json()["type"] == "not_found"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_the_served_contract_is_the_packaged_one_pointing_at_this_mock(live: str, fmt: str) -> None:
    response = httpx.get(f"{live}/openapi.{fmt}")
    assert response.status_code == 200
    served: dict[str, Any] = response.json() if fmt == "json" else yaml.safe_load(response.text)
    assert served["servers"] == [{"url": live, "description": "This mock."}]
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in load_spec().items() if k != "servers"
    }


def test_swagger_ui_renders_every_operation_without_console_errors(live: str, browser: Browser) -> None:
    with browser.page() as page:
        page.load(f"{live}/docs/")
        deadline = time.monotonic() + 20
        count = 0
        while time.monotonic() < deadline:
            count = page.evaluate("document.querySelectorAll('.opblock').length")
            if count:
                break
            time.sleep(0.2)
        assert count == len(operations(load_spec()))
        text = page.evaluate("document.body.innerText")
        assert "incident-contract" in text
        assert "/v2/incidents/{id}/actions/edit" in text
        assert page.errors() == []


def served_beside_swagger_ui(live: str, browser: Browser, name: str, *scripts: str) -> list[Any]:
    """Check that /docs/ links the page `name` and serves it as HTML, open it in the browser (no console
    error) and return what each of `scripts` evaluates to there."""
    assert f'href="./{name}"' in httpx.get(f"{live}/docs/").text
    served = httpx.get(f"{live}/docs/{name}")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/html")
    with browser.page() as page:
        page.load(f"{live}/docs/{name}")
        found = [page.evaluate(script) for script in scripts]
        assert page.errors() == []
    return found


def test_the_webhooks_page_is_served_and_linked_from_swagger_ui(live: str, browser: Browser) -> None:
    from incident_contract.webhooks import events

    titles, back = served_beside_swagger_ui(
        live,
        browser,
        "webhooks.html",
        "Array.from(document.querySelectorAll('section.guide h2')).map(h => h.textContent)",
        "document.querySelector('nav a').getAttribute('href')",
    )
    assert titles == ["Delivery", *events(load_spec())]
    assert back == "./"


def test_the_resources_page_is_served_and_linked_from_swagger_ui(live: str, browser: Browser) -> None:
    from incident_contract.resources import declared

    [anchors] = served_beside_swagger_ui(
        live,
        browser,
        "resources.html",
        "Array.from(document.querySelectorAll('section.guide')).map(s => s.id)",
    )
    assert len(anchors) == len(declared(load_spec()))
