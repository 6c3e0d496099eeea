"""The generated site in a real headless Chromium, from file://: no console errors, all operations shown."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from incident_contract.docs import build_site
from incident_contract.docs.guides import guides
from incident_contract.docs.markup import slug
from incident_contract.operations import operations
from tests.docs.browser import Browser

SECTIONS = "Array.from(document.querySelectorAll('section.operation'))"
OPERATION_IDS = SECTIONS + ".map(s => s.dataset.operationId)"


REFERENCE = [
    "control-plane/guide.html",
    "control-plane/index.html",
    "guide.html",
    "index.html",
    "resources.html",
    "webhooks.html",
]
# The guides, their index and, with the testing kit installed (as here), its Python API page.
GUIDE_PAGES = sorted(f"guides/{g.page}" for g in guides())
PAGES = sorted([*REFERENCE, *GUIDE_PAGES, "guides/index.html", "guides/python-api.html"])


def test_build_site_writes_the_reference_guide_and_webhooks_of_the_contract_and_the_control_plane(
    tmp_path: Path,
):
    written = build_site(tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == PAGES
    assert all(p.is_file() and p.stat().st_size > 1000 for p in written)
    control = (tmp_path / "out" / "control-plane" / "index.html").read_text(encoding="utf-8")
    assert "Sandboxes#Create" in control and 'href="../index.html"' in control


def test_the_core_writes_the_site_from_the_document_it_is_given(tmp_path: Path, spec: dict[str, Any]):
    spec["info"]["title"] = "Renamed API"
    build_site(tmp_path, spec)
    assert "Renamed API" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_python_m_incident_contract_docs_needs_only_the_core(tmp_path: Path):
    # The mock's and the suite's packages are made unimportable: the docs generator is the core's.
    blocker = (
        "import sys; sys.modules.update(incident_mock=None, incident_conformance=None, connexion=None)\n"
    )
    script = blocker + "from incident_contract.docs.__main__ import main; main(['--out', sys.argv[1]])"
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html"))
    assert written == sorted([*REFERENCE, *GUIDE_PAGES, "guides/index.html"])  # no Python API page


def test_site_references_nothing_outside_itself(site: Path):
    pages = list(site.rglob("*.html"))
    assert len(pages) == len(PAGES)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        targets = re.findall(r'(?:href|src)="([^"]*)"', text)
        assert targets, page.name
        local = [t.split("#")[0] for t in targets if not t.startswith(("#", "data:"))]
        external = [t for t in local if ":" in t or not (page.parent / t).resolve().is_file()]
        assert external == [], page.name


def test_reference_loads_without_console_errors_and_shows_every_operation(
    browser: Browser, site: Path, spec: dict[str, Any]
):
    expected = operations(spec)
    with browser.page() as page:
        page.load((site / "index.html").as_uri())
        shown = page.evaluate(OPERATION_IDS)
        visible = page.evaluate(SECTIONS + ".filter(s => s.offsetHeight > 0).length")
        text = page.evaluate("document.body.innerText")
        anchors = page.evaluate(SECTIONS + ".map(s => s.id)")
        assert page.errors() == []
    assert sorted(shown) == sorted(expected)
    assert visible == len(expected)
    assert anchors == [slug(op_id) for op_id in shown]
    for op in expected.values():
        assert op.id in text
        assert f"{op.method} {op.path}" in text
        assert op.raw["summary"] in text
        for scope in op.scopes:
            assert scope in text


def test_every_response_status_and_example_is_rendered(browser: Browser, site: Path, spec: dict[str, Any]):
    with browser.page() as page:
        page.load((site / "index.html").as_uri())
        statuses = page.evaluate(
            f"Object.fromEntries({SECTIONS}.map(s => [s.dataset.operationId,"
            " Array.from(s.querySelectorAll('.response')).map(r => r.dataset.status)]))"
        )
        examples = page.evaluate("document.querySelectorAll('section.operation pre.example').length")
    assert statuses == {op.id: list(op.raw["responses"]) for op in operations(spec).values()}
    assert examples >= sum(len(op.raw["responses"]) for op in operations(spec).values())


def test_guide_loads_without_console_errors_and_covers_each_section(
    browser: Browser, site: Path, spec: dict[str, Any]
):
    headings = [
        line[3:].strip() for line in spec["info"]["description"].splitlines() if line.startswith("## ")
    ]
    with browser.page() as page:
        page.load((site / "guide.html").as_uri())
        titles = page.evaluate(
            "Array.from(document.querySelectorAll('section.guide h2')).map(h => h.textContent)"
        )
        roles = page.evaluate("Array.from(document.querySelectorAll('table.roles tr[id]')).length")
        tables = page.evaluate("document.querySelectorAll('section.guide table').length")
        error_rows = page.evaluate(
            "Array.from(document.querySelectorAll('table.error-responses tr td:first-child'))"
            ".map(td => Number(td.textContent))"
        )
        assert page.errors() == []
    assert set(headings) <= set(titles)
    assert roles == len(spec["x-api-key-roles"])
    assert tables >= 3  # roles, scopes, error types
    assert error_rows == [int(status) for status in spec["x-error-types"]]


def test_filter_box_hides_operations_that_do_not_match(browser: Browser, site: Path):
    with browser.page() as page:
        page.load((site / "index.html").as_uri())
        shown = page.evaluate(
            "(() => { const f = document.getElementById('filter'); f.value = 'Incidents V2#Create';"
            " f.dispatchEvent(new Event('input'));"
            " return Array.from(document.querySelectorAll('section.operation'))"
            ".filter(s => !s.hidden).map(s => s.dataset.operationId); })()"
        )
        assert page.errors() == []
    assert shown == ["Incidents V2#Create"]


def test_the_guide_says_which_operations_a_scope_no_operation_requires_changes(spec: dict[str, Any]):
    from incident_contract.docs.guide import guide_sections

    page = "".join(html for _, _, html in guide_sections(spec))
    row = page[page.index("<tr><td><code>incidents.view_private</code>") :].split("</tr>")[0]
    assert "changes what these show" in row
    assert all(f"#{slug(op)}" in row for op in ("Incidents V2#List", "Incidents V2#Show"))


def test_the_control_plane_pages_load_without_console_errors(browser: Browser, site: Path):
    from incident_contract.document import load_control_spec

    expected = sorted(operations(load_control_spec()))
    with browser.page() as page:
        page.load((site / "control-plane" / "index.html").as_uri())
        shown = page.evaluate(OPERATION_IDS)
        assert page.errors() == []
        page.load((site / "control-plane" / "guide.html").as_uri())
        assert page.errors() == []
    assert sorted(shown) == expected and len(expected) >= 11


def test_the_webhooks_page_shows_every_event_with_its_headers_schema_and_example(
    browser: Browser, site: Path, spec: dict[str, Any]
):
    from incident_contract.webhooks import delivery, events

    expected = events(spec)
    with browser.page() as page:
        page.load((site / "webhooks.html").as_uri())
        titles = page.evaluate(
            "Array.from(document.querySelectorAll('section.guide h2')).map(h => h.textContent)"
        )
        examples = page.evaluate("document.querySelectorAll('section.guide pre.example').length")
        headers = page.evaluate(
            "Array.from(document.querySelectorAll('table.parameters')).map(t => t.rows.length - 1)"
        )
        text = page.evaluate("document.body.innerText")
        assert page.errors() == []
    assert titles == ["Delivery", *expected]
    assert examples == len(expected)
    assert headers == [3] * len(expected)  # webhook-id, webhook-timestamp, webhook-signature
    for event in expected.values():
        assert event.summary in text and event.payload_schema in text
    waits = delivery(spec).retry_schedule_seconds
    assert ", ".join(f"{w:g} s" for w in waits) in text
    assert "every mode" in text


def test_only_a_document_with_webhooks_gets_a_webhooks_page(site: Path):
    assert not (site / "control-plane" / "webhooks.html").exists()
    control = (site / "control-plane" / "index.html").read_text(encoding="utf-8")
    assert 'href="../webhooks.html"' in control  # the contract's page, linked from every page
