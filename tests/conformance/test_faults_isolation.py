"""The conformance suite is unaffected by faults it did not arm: faults in one sandbox touch no other.

A platform team can run the suite against a fresh sandbox of a shared mock while its own tests break
another sandbox (or the default one) on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_mock.app import create_app
from tests.servers import serve

DEFAULT_KEY = {"Authorization": "Bearer mock-key-full"}
RULES = "AUTH-*,IDEMP-1,IDEMP-2,ERR-*,ENUM-*,VIS-*"


def test_a_run_against_a_fresh_sandbox_passes_while_another_sandbox_fails_everything(
    tmp_path: Path,
) -> None:
    with serve(create_app(validate_responses=True)) as url:
        sandbox = httpx.post(f"{url}/_mock/sandboxes").json()["sandbox"]
        keys = {key["replaces"]: key["token"] for key in sandbox["keys"]}
        # Every request of the default sandbox's keys: cut (or answered 500, where a drop does not fire first).
        for body in (
            {"kind": "drop", "probability": 0.5},
            {"kind": "error", "status": 500, "probability": 1},
        ):
            answer = httpx.post(f"{url}/_mock/sandboxes/default/faults", json={**body, "seed": 1})
            assert answer.status_code == 201, answer.text
        with pytest.raises(httpx.HTTPError):  # the faults are live: cut, or answered 500
            httpx.get(f"{url}/v1/severities", headers=DEFAULT_KEY).raise_for_status()
        report = tmp_path / "report.json"
        args = ["--base-url", url, "--api-key", keys["mock-key-full"], "--viewer-key", keys["mock-key-viewer"],
                "--creator-key", keys["mock-key-creator"], "--seed", "5", "--rules", RULES,
                "--json-report", str(report)]  # fmt: skip
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        sandbox_journal = httpx.get(f"{url}/_mock/sandboxes/{sandbox['id']}/requests").json()["requests"]
        faults = httpx.get(f"{url}/_mock/sandboxes/default/faults").json()["faults"]
    assert result.exit_code == 0, result.output
    statuses = {rule["id"]: rule["status"] for rule in json.loads(report.read_text())["rules"]}
    assert statuses and set(statuses.values()) <= {"passed"}, statuses
    assert sandbox_journal and not [e for e in sandbox_journal if e["fault"] is not None]
    assert sum(f["fired"] for f in faults) == 1  # only the request above met them
