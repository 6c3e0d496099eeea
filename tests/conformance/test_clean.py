"""No false positives: the real mock passes every rule over a real socket, Schemathesis included."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_conformance.rules import REGISTRY
from incident_mock.app import create_app
from tests.servers import serve


def test_clean_mock_passes_every_rule(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    junit = tmp_path / "junit.xml"
    with serve(create_app(validate_responses=True)) as url:
        args = ["--base-url", url, "--api-key", "mock-key-full", "--viewer-key", "mock-key-viewer", "--seed", "11",
                "--schema-max-examples", "6", "--json-report", str(report), "--junit-xml", str(junit)]  # fmt: skip
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
    data = json.loads(report.read_text())
    statuses = {r["id"]: r["status"] for r in data["rules"]}
    assert result.exit_code == 0, result.output
    assert statuses == dict.fromkeys(REGISTRY, "passed")
    assert junit.read_text().count("<testcase ") == len(REGISTRY)
    assert data["created"]["incidents"]
