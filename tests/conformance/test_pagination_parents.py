"""A nested list is paged only where its parent exists: on a target with no catalog type, the PAGE rules
note that the catalog entries were not paged, and pass on the rest (an unknown catalog_type_id is rightly
422, which says nothing of pagination)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_mock.app import create_app
from tests.servers import serve


def test_a_list_whose_parent_the_target_lacks_is_noted_not_failed(tmp_path: Path) -> None:
    with serve(create_app()) as url:
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer mock-key-full"}) as client:
            types = client.get("/v3/catalog_types").json()["catalog_types"]
            for catalog_type in types:
                assert client.delete(f"/v3/catalog_types/{catalog_type['id']}").status_code == 204
        report = tmp_path / "report.json"
        argv = ["--base-url", url, "--api-key", "mock-key-full", "--rules", "PAGE-1,PAGE-2,PAGE-3",
                "--family", "Catalog", "--family", "Incidents", "--seed", "1", "--json-report", str(report)]  # fmt: skip
        result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    rules = {r["id"]: r for r in json.loads(report.read_text())["rules"]}
    assert types and {r["status"] for r in rules.values()} == {"passed"}, result.output
    for rule in rules.values():
        assert any("ListEntries not paged" in note and "catalog_type_id" in note for note in rule["notes"]), (
            rule
        )
