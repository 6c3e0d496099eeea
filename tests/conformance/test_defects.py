"""Every rule can fail: each defect of the catalogue, served over a real socket, fails its rule.

The suite runs only the defect's family (`--rules`), so a defect shows which rule catches it and the
whole catalogue stays within the time budget.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from tests.conformance.defects import CATALOGUE, Defect
from tests.servers import serve


def run_suite(url: str, tmp_path: Path, *args: str) -> tuple[int, dict[str, str], str]:
    """Run the CLI in-process; returns the exit code, rule id -> status, and the output."""
    report = tmp_path / "report.json"
    argv = ["--base-url", url, "--api-key", "mock-key-full", "--viewer-key", "mock-key-viewer", "--seed", "7",
            "--json-report", str(report), *args]  # fmt: skip
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    statuses = (
        {r["id"]: r["status"] for r in json.loads(report.read_text())["rules"]} if report.exists() else {}
    )
    return result.exit_code, statuses, result.output


@pytest.mark.parametrize("defect", CATALOGUE, ids=[d.name for d in CATALOGUE])
def test_defect_fails_its_rule(defect: Defect, tmp_path: Path) -> None:
    extra = ["--schema-max-time", "6"] if defect.rules.startswith("SCHEMA") else []
    with serve(defect.build()) as url:
        code, statuses, output = run_suite(url, tmp_path, "--rules", defect.rules, *extra)
    failing = {rule for rule, status in statuses.items() if status == "failed"}
    assert code == 1, output
    assert defect.breaks in failing, output
    assert {rule.split("-")[0] for rule in failing} == {defect.breaks.split("-")[0]}


def test_catalogue_covers_every_family_but_one_defect_per_name() -> None:
    names = [d.name for d in CATALOGUE]
    assert len(names) == len(set(names)) >= 12
    families = {d.breaks.split("-")[0] for d in CATALOGUE}
    assert families == {"AUTH", "REQUIRED", "ENUM", "IDEMP", "VIS", "PAGE", "ERR", "SCHEMA"}
