"""One clean run of the whole suite, shared by the tests that read it (it is the slowest thing here).

The real mock, with response validation on, behind a recorder of every severity request; every rule,
Schemathesis included (bounded by examples and a seed), with --allow-settings-writes so that the same run
shows both that a clean server passes everything and that settings writes touch only the run's own
severities. The severities are read through the API before and after, never from the mock's store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_mock.app import create_app
from tests.conformance.wire import Answer, Request, Wire
from tests.servers import serve

SEVERITIES = "/v1/severities"


class Recorder(Wire):
    """Keeps (method, path, status, answer) of every severity request."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.seen: list[tuple[str, str, int, bytes]] = []

    def answer(self, request: Request, answer: Answer) -> Answer:
        if request.path.startswith(SEVERITIES):
            self.seen.append((request.method, request.path, answer.status, answer.body))
        return answer


@dataclass(frozen=True)
class CleanRun:
    code: int
    output: str
    report: dict[str, Any]
    junit: str
    seen: list[tuple[str, str, int, bytes]]  # severity requests: method, path, status, answer
    before: dict[str, dict[str, Any]]  # the severities the target listed before the run, by id
    after: dict[str, dict[str, Any]]


def list_severities(url: str) -> dict[str, dict[str, Any]]:
    answer = httpx.get(f"{url}{SEVERITIES}", headers={"Authorization": "Bearer mock-key-full"})
    return {s["id"]: s for s in answer.json()["severities"]}


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    out = tmp_path_factory.mktemp("clean")
    recorder = Recorder(create_app(validate_responses=True))
    with serve(recorder) as url:
        before = list_severities(url)
        args = ["--base-url", url, "--api-key", "mock-key-full", "--viewer-key", "mock-key-viewer", "--seed", "11",
                "--creator-key", "mock-key-creator",
                "--allow-settings-writes", "--schema-max-examples", "6",
                "--json-report", str(out / "report.json"), "--junit-xml", str(out / "junit.xml")]  # fmt: skip
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        after = list_severities(url)
    report = json.loads((out / "report.json").read_text())
    junit = (out / "junit.xml").read_text()
    return CleanRun(result.exit_code, result.output, report, junit, recorder.seen, before, after)
