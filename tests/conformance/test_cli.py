"""The CLI's contract with CI: exit codes, rule selection, environment variables and the reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_conformance.rules import REGISTRY, select
from incident_mock.app import create_app
from tests.servers import free_port, serve

FULL = ["--api-key", "mock-key-full", "--viewer-key", "mock-key-viewer", "--seed", "3"]


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_list_rules_names_every_rule_once_in_markdown() -> None:
    code, output = invoke("--list-rules", "--format", "markdown")
    assert code == 0
    for rule in REGISTRY.values():
        assert output.count(f"`{rule.id}`") == 1
        assert rule.name in output


def test_rule_ids_are_stable_and_levelled() -> None:
    assert len(REGISTRY) >= 25
    for rule in REGISTRY.values():
        assert rule.level.value in ("MUST", "SHOULD")
        assert rule.name == rule.name.lower() and " " not in rule.name


def test_patterns_select_and_skip_by_id() -> None:
    assert [r.id for r in select(["IDEMP-*"], ["IDEMP-3"])] == [
        "IDEMP-1",
        "IDEMP-2",
        "IDEMP-4",
        "IDEMP-5",
        "IDEMP-6",
    ]
    assert [r.id for r in select(["auth-1,ERR-2"])] == ["AUTH-1", "ERR-2"]


def test_unreachable_target_exits_2_with_one_line() -> None:
    code, output = invoke("--base-url", f"http://127.0.0.1:{free_port()}", *FULL)
    assert code == 2
    assert "unreachable" in output and len(output.strip().splitlines()) == 1


def test_rejected_key_exits_2(mock_url: str) -> None:
    code, output = invoke("--base-url", mock_url, "--api-key", "not-a-key")
    assert code == 2 and "rejected --api-key" in output


def test_invalid_spec_exits_2(mock_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "openapi.yaml"
    bad.write_text("openapi: 3.0.3\ninfo: {}\n")
    code, output = invoke("--base-url", mock_url, *FULL, "--spec", str(bad))
    assert code == 2 and "not a valid OpenAPI document" in output


def test_bad_arguments_exit_2() -> None:
    assert invoke("--profile", "forever")[0] == 2
    assert invoke("--api-key", "k")[0] == 2  # no --base-url


def test_environment_variables_set_options(mock_url: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    env = {"INCIDENT_CONFORMANCE_BASE_URL": mock_url, "INCIDENT_CONFORMANCE_API_KEY": "mock-key-full",
           "INCIDENT_CONFORMANCE_RULES": "ERR-2", "INCIDENT_CONFORMANCE_JSON_REPORT": str(report)}  # fmt: skip
    code, output = invoke(env=env)
    assert code == 0, output
    assert [r["id"] for r in json.loads(report.read_text())["rules"]] == ["ERR-2"]


def test_viewer_rules_skip_with_reason_without_viewer_key(mock_url: str, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    code, output = invoke("--base-url", mock_url, "--api-key", "mock-key-full", "--rules", "VIS-*,AUTH-3",
                          "--junit-xml", str(junit))  # fmt: skip
    assert code == 0, output
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {"AUTH-3", "VIS-1", "VIS-2", "VIS-3", "VIS-4"}
    for rule in ("AUTH-3", "VIS-1", "VIS-2"):
        skipped = cases[rule].find("skipped")
        assert skipped is not None and "--viewer-key" in skipped.get("message", "")
    assert cases["VIS-3"].find("skipped") is None


def test_max_creates_stops_before_creating_more(mock_url: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code, output = invoke("--base-url", mock_url, *FULL, "--rules", "IDEMP-*", "--max-creates", "3",
                          "--json-report", str(report))  # fmt: skip
    data = json.loads(report.read_text())
    assert len(data["created"]["incidents"]) <= 3
    assert any(r["status"] == "skipped" and "--max-creates" in r["reason"] for r in data["rules"]), output
    assert code == 0


def test_created_incidents_are_test_mode_with_prefix(mock_url: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code, output = invoke("--base-url", mock_url, *FULL, "--rules", "IDEMP-*,ENUM-*,ERR-4",
                          "--json-report", str(report))  # fmt: skip
    assert code == 0, output
    created = json.loads(report.read_text())["created"]["incidents"]
    assert created and "Created" in output
    for incident_id in created:
        shown = httpx.get(
            f"{mock_url}/v2/incidents/{incident_id}", headers={"Authorization": "Bearer mock-key-full"}
        )
        incident = shown.json()["incident"]
        assert incident["mode"] == "test" and incident["name"].startswith("[conformance]")


def test_failures_print_expected_received_and_curl(tmp_path: Path) -> None:
    from tests.conformance.defects import ReplayWithoutHeader

    junit = tmp_path / "j.xml"
    with serve(ReplayWithoutHeader(create_app())) as url:
        code, output = invoke("--base-url", url, *FULL, "--rules", "IDEMP-1", "--junit-xml", str(junit))
    assert code == 1
    assert "Expected:" in output and "Received:" in output and "curl" in output
    assert "mock-key-full" not in output
    failure = next(ET.parse(junit).getroot().iter("testcase")).find("failure")
    assert failure is not None and "idempotency_key" in (failure.text or "")


def test_the_conformance_guide_lists_the_rules_as_the_registry_does() -> None:
    from incident_conformance.report import rules_markdown

    guides = Path(__file__).parents[2] / "contract" / "incident_contract" / "guides"
    section = (guides / "conformance.md").read_text(encoding="utf-8")
    assert rules_markdown(select()) in section


def test_help_says_schemathesis_is_bounded_by_examples_and_max_time_is_a_duration_it_fills() -> None:
    code, output = invoke("--help")
    text = " ".join(output.split())
    assert code == 0 and "--schema-max-examples" in text and "--schema-max-time" in text
    assert "not a cap but a duration it fills" in text and "bounded by examples" in text


def test_help_names_the_options_for_real_deployments() -> None:
    code, output = invoke("--help")
    text = " ".join(output.split())
    assert code == 0
    for option in ("--creator-key", "--header", "--ca-bundle", "--rate-limit-retries", "--rate-limit-wait"):
        assert option in text
    assert "Retry-After" in text and "[REDACTED]" in text and "Verification cannot be turned off" in text


@pytest.mark.parametrize("header", ["no colon", "Bad Name: x", "Authorization: Bearer k", "X-A: b\rc"])
def test_a_malformed_or_reserved_header_is_a_usage_error(header: str) -> None:
    code, output = invoke("--base-url", "http://127.0.0.1:1", "--api-key", "k", "--header", header)
    assert code == 2 and "--header" in output


def test_idemp_6_is_not_checked_without_a_creator_key_nor_with_one_that_sees_private_incidents(
    mock_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "r.json"
    for extra, reason in (((), "not checked: needs --creator-key"),
                          (("--creator-key", "mock-key-full"), "can see private incidents")):  # fmt: skip
        code, output = invoke("--base-url", mock_url, *FULL, "--rules", "IDEMP-6", "--json-report", str(report),
                              *extra)  # fmt: skip
        (outcome,) = json.loads(report.read_text())["rules"]
        assert code == 0 and outcome["status"] == "skipped" and reason in outcome["reason"], output


def test_the_creator_key_is_checked_before_the_run(mock_url: str) -> None:
    code, output = invoke("--base-url", mock_url, *FULL, "--creator-key", "not-a-key")
    assert code == 2 and "rejected --creator-key" in output


def test_extra_headers_are_read_one_per_line_from_the_environment(tmp_path: Path) -> None:
    from tests.conformance.wire import Answer, Request, Wire

    class Seen(Wire):
        def __init__(self, app: Any) -> None:
            super().__init__(app)
            self.values: set[tuple[str | None, str | None]] = set()

        def answer(self, request: Request, answer: Answer) -> Answer:
            self.values.add((request.header("x-tenant"), request.header("x-trace")))
            return answer

    seen = Seen(create_app())
    with serve(seen) as url:
        env = {"INCIDENT_CONFORMANCE_HEADER": "X-Tenant: acme\nX-Trace: a b c\n"}
        code, output = invoke("--base-url", url, *FULL, "--rules", "ERR-2", env=env)
    assert code == 0, output
    assert seen.values == {("acme", "a b c")}
