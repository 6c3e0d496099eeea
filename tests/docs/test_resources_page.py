"""The resources page renders each declaration of x-resources: a new declaration is a new section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from incident_contract.docs import build_site
from incident_contract.resources import declared
from tests.widgets import widget_spec


def test_every_declared_resource_has_a_section_with_its_operations_and_rules(
    tmp_path: Path, spec: dict[str, Any]
) -> None:
    build_site(tmp_path, spec)
    page = (tmp_path / "resources.html").read_text(encoding="utf-8")
    for resource in declared(spec).values():
        assert f'id="{resource.name.replace("_", "-")}"' in page, resource.name
    assert 'href="index.html#severities-v1-delete"' in page  # an operation links to its reference
    assert "<td>202</td>" in page and "<code>max_severities</code>" in page
    assert 'href="resources.html">Resources</a>' in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_a_resource_declared_in_a_contract_is_rendered_from_its_declaration(tmp_path: Path) -> None:
    build_site(tmp_path, widget_spec())
    page = (tmp_path / "resources.html").read_text(encoding="utf-8")
    widgets = page[page.index('id="widgets"') :]
    assert "<td>201</td>" in widgets and "<td>204</td>" in widgets  # from each operation's responses
    assert '<a href="#severities">severities</a>: an unknown id is 422 on <code>severity_id</code>' in widgets
    assert "deleting it is refused" in widgets and "<code>max_rows</code>" in widgets
    severities = page[page.index('id="severities"') : page.index('id="incident-types"')]
    assert "<code>widgets.severity_id</code>" in severities  # referred to by
