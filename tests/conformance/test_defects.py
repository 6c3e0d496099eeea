"""Every rule can fail: for each rule, one defect in front of the real mock makes exactly that rule fail.

All the rules but SCHEMA run against every defect (they take a second or two); a SCHEMA defect also runs
the SCHEMA rules, bounded by examples and a seed. One server serves the whole module: each test puts its
defect in front of the same mock (the rules are built for shared deployments: test-mode incidents, name
prefixes, settings writes only on severities the run creates and deletes again). A SCHEMA defect gets a
run of the SCHEMA rules alone too, on a fresh mock and in a suite process of their own, since what
Schemathesis draws in its stateful phase follows the answers it gets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_conformance.rules import API, select
from incident_mock.app import create_app
from tests.conformance.defects import CATALOGUE, ConstantTotal, Defect
from tests.conformance.helpers import core_families
from tests.conformance.wire import Switch
from tests.servers import serve

# The API run's rules; the WEBHOOK rules have their own catalogue (test_webhook_mode.py).
REGISTRY = {r.id: r for r in select(group=API)}

SCHEMA_EXAMPLES = "4"  # per operation and stateful scenarios: enough for each SCHEMA defect, with the seed


@pytest.fixture(scope="module")
def switch() -> Iterator[tuple[Switch, str]]:
    board = Switch(create_app())
    with serve(board) as url:
        yield board, url


def run_suite(
    url: str, tmp_path: Path, *args: str, seed: int = 7, apart: bool = False
) -> tuple[int, dict[str, str], str]:
    """Run the CLI in-process (`apart`: in a process of its own); returns the exit code, rule id -> status,
    and the output."""
    report = tmp_path / "report.json"
    argv = ["--base-url", url, "--api-key", "mock-key-full", "--viewer-key", "mock-key-viewer",
            "--creator-key", "mock-key-creator", "--seed", str(seed), "--json-report", str(report),
            *([] if "--family" in args else core_families()), *args]  # fmt: skip
    if apart:
        done = subprocess.run([sys.executable, "-m", "incident_conformance", *argv], capture_output=True,
                              text=True, timeout=600, check=False)  # fmt: skip
        code, output = done.returncode, done.stdout + done.stderr
    else:
        result = CliRunner().invoke(cli, argv, catch_exceptions=False)
        code, output = result.exit_code, result.output
    statuses = (
        {r["id"]: r["status"] for r in json.loads(report.read_text())["rules"]} if report.exists() else {}
    )
    return code, statuses, output


@pytest.mark.parametrize("defect", CATALOGUE, ids=[d.name for d in CATALOGUE])
def test_defect_fails_its_rule_and_no_other(
    defect: Defect, switch: tuple[Switch, str], tmp_path: Path
) -> None:
    board, url = switch
    board.current = defect.wire(board.base)
    try:
        code, statuses, output = run_suite(
            url, tmp_path, "--skip-rules", "SCHEMA-*", *defect.args, seed=defect.seed
        )
    finally:
        board.current = board.base
    if defect.breaks.startswith("SCHEMA-"):
        # Schemathesis' rules alone, on a fresh mock, in a process of their own: what its stateful phase
        # draws follows what it is answered, so no other rule (nor earlier test) may change that first.
        (tmp_path / "schema").mkdir()
        with serve(defect.wire(create_app())) as fresh:
            more = run_suite(fresh, tmp_path / "schema", "--rules", "SCHEMA-*", "--schema-max-examples",
                             SCHEMA_EXAMPLES, *defect.args, seed=defect.seed, apart=True)  # fmt: skip
        code, statuses, output = max(code, more[0]), {**statuses, **more[1]}, f"{output}\n{more[2]}"
    failing = {rule for rule, status in statuses.items() if status != "passed"}
    assert code == 1, output
    assert statuses.get(defect.breaks) == "failed", output
    assert failing - {defect.breaks} <= defect.also, output
    schema = defect.breaks.startswith("SCHEMA-")
    assert len(statuses) == len(REGISTRY) - (0 if schema else sum(r.startswith("SCHEMA-") for r in REGISTRY))


def test_the_catalogue_has_one_defect_for_each_rule() -> None:
    targets = [d.breaks for d in CATALOGUE]
    assert sorted(targets) == sorted(REGISTRY), "one defect per registered rule, no rule twice"
    assert len({d.name for d in CATALOGUE}) == len(CATALOGUE)
    for defect in CATALOGUE:
        assert defect.breaks not in defect.also and defect.also <= set(REGISTRY)
        assert defect.wire.__doc__, f"{defect.name} says what it breaks"


def test_a_count_no_create_moves_skips_required_2_and_fails_the_rules_that_judge_counts(
    switch: tuple[Switch, str], tmp_path: Path
) -> None:
    """A stateless server's constant total: REQUIRED-2 cannot tell anything from it, and says so."""
    board, url = switch
    board.current = ConstantTotal(board.base)
    try:
        code, statuses, output = run_suite(url, tmp_path, "--rules", "REQUIRED-2,IDEMP-3,VIS-3")
    finally:
        board.current = board.base
    assert code == 1
    assert statuses == {"REQUIRED-2": "skipped", "IDEMP-3": "failed", "VIS-3": "failed"}, output
    reason = json.loads((tmp_path / "report.json").read_text())["rules"][0]["reason"]
    assert "total_record_count from 7 to 7" in reason and "prove nothing" in reason
