"""The browser check can fail: each page here carries one defect the check must report, and a clean
page must report nothing."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from incident_contract.docs import build_site
from tests.docs.browser import Browser

CLEAN = (
    "<!DOCTYPE html><html><head><title>t</title><link rel='icon' href='data:,'></head>"
    "<body><p>ok</p>{}</body></html>"
)

DEFECTS = {
    "uncaught_exception": "<script>notDefinedAnywhere();</script>",
    "console_error": "<script>console.error('broken');</script>",
    "late_exception": "<script>setTimeout(() => { throw new Error('late'); }, 50);</script>",
    "missing_resource": "<img src='missing-image.png' alt=''>",
}


def _write(tmp_path: Path, body: str) -> str:
    page = tmp_path / "page.html"
    page.write_text(CLEAN.format(body), encoding="utf-8")
    return page.as_uri()


def test_clean_page_reports_no_errors(browser: Browser, tmp_path: Path):
    with browser.page() as page:
        page.load(_write(tmp_path, "<script>console.log('fine');</script>"))
        assert page.errors() == []


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_page_with_a_defect_reports_an_error(browser: Browser, tmp_path: Path, defect: str):
    with browser.page() as page:
        page.load(_write(tmp_path, DEFECTS[defect]))
        assert page.errors() != []


def test_site_page_with_a_deliberate_script_error_fails_the_check(browser: Browser, tmp_path: Path):
    build_site(tmp_path)
    index = tmp_path / "index.html"
    index.write_text(index.read_text(encoding="utf-8").replace("<script>", "<script>null.x;", 1), "utf-8")
    with browser.page() as page:
        page.load(index.as_uri())
        errors = page.errors()
    assert any("TypeError" in e for e in errors), errors


def test_external_resource_is_blocked_and_reported(browser: Browser, tmp_path: Path):
    """The Content-Security-Policy keeps the site offline; breaking that shows as an error."""
    build_site(tmp_path)
    index = tmp_path / "index.html"
    external = '<script src="https://cdn.example.invalid/x.js"></script></body>'
    index.write_text(index.read_text(encoding="utf-8").replace("</body>", external), "utf-8")
    with browser.page() as page:
        page.load(index.as_uri())
        errors = page.errors()
    assert any("Content Security Policy" in e for e in errors), errors


def test_markup_in_the_contract_is_escaped(tmp_path: Path, spec: dict[str, Any]):
    hostile = copy.deepcopy(spec)
    hostile["info"]["description"] += "\n\n## Extra\n<script>alert(1)</script>"
    hostile["paths"]["/v1/identity"]["get"]["summary"] = "<img src=x onerror=alert(1)>"
    build_site(tmp_path, hostile)
    text = (tmp_path / "index.html").read_text(encoding="utf-8") + (tmp_path / "guide.html").read_text(
        "utf-8"
    )
    assert "<script>alert" not in text
    assert "<img src=x" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
