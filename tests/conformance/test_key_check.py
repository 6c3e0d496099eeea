"""The key check before the rules: which scopes --api-key holds against which the selected rules need.

A key lacking scopes stops a run against the mock at once (exit 2, one line), is a warning against any
other target (whose roles may be cut differently) and then explains the failures it causes, and
--skip-missing-scopes skips the rules it cannot pass. Also: a malformed webhook --secret is told what the
format is.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.checks.pagination import filling
from incident_conformance.cli import cli
from incident_conformance.context import CREATE, CREATING, Options, RunContext
from incident_conformance.contract import Contract
from incident_conformance.rules import API, REGISTRY, Outcome, Rule, select
from incident_conformance.runner import run_rules
from incident_conformance.settings import SettingsLedger
from incident_conformance.target import Budget, Target
from incident_conformance.webhook_cli import webhooks
from incident_contract.document import load_spec
from incident_mock.app import create_app
from tests.conformance.helpers import core_families
from tests.conformance.webhook_wire import new_secret
from tests.conformance.wire import Answer, Request, Wire, error_answer
from tests.servers import free_port, serve

CONTRACT = Contract(load_spec())
CONTRACT.chosen = CONTRACT.always_checked  # the runs below check the always-checked families (core_families)
VIEWER = ["--api-key", "mock-key-viewer", "--seed", "5"]
HEALTH = "/_mock/health"


class Seen(Wire):
    """Keeps (method, path, Authorization) of every request, in order."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.seen: list[tuple[str, str, str | None]] = []

    def request(self, request: Request) -> Request | Answer:
        self.seen.append((request.method, request.path, request.header("authorization")))
        return request


class NotTheMock(Seen):
    """The mock's API without its control plane: what a deployment of the contract looks like."""

    def request(self, request: Request) -> Request | Answer:
        super().request(request)
        if request.path.startswith("/_mock/"):
            return error_answer(404, "not_found", "not_found", "No such path")
        return request


@pytest.fixture(scope="module")
def mock() -> Iterator[tuple[str, Seen]]:
    wire = Seen(create_app())
    with serve(wire) as url:
        yield url, wire


@pytest.fixture(scope="module")
def other() -> Iterator[tuple[str, Seen]]:
    wire = NotTheMock(create_app())
    with serve(wire) as url:
        yield url, wire


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, *core_families()], catch_exceptions=False)
    return result.exit_code, result.output


def lacking(rules: list[Rule], roles: tuple[str, ...] = ("viewer",)) -> list[str]:
    """The scopes the rules need that keys of these roles lack, by the contract (not restated here)."""
    held = frozenset().union(*(CONTRACT.roles()[r] for r in roles))
    return sorted(frozenset().union(*(r.scopes(CONTRACT) for r in rules)) - held)


def test_viewer_key_on_the_mock_stops_before_any_rule_with_one_line(mock: tuple[str, Seen]) -> None:
    url, wire = mock
    wire.seen.clear()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "incident_conformance", "--base-url", url, *VIEWER],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("incident-conformance: cannot run: --api-key (roles: viewer) lacks scopes")
    missing = lacking(select(group=API))
    assert "incidents.create" in missing and "incidents.update" in missing
    for scope in missing:  # each scope, and the roles of the contract that grant it
        granted = re.search(rf"{re.escape(scope)} \(role ([a-z_]+(?: or [a-z_]+)*)\)", line)
        assert granted is not None, (scope, line)
        assert granted.group(1).split(" or ") == CONTRACT.roles_granting(scope)
    held = CONTRACT.roles()["viewer"]
    assert not any(f"{scope} (" in line for scope in held)  # only what is missing
    assert "--skip-missing-scopes" in line
    # Nothing ran: the key's identity and the mock's health were all the run asked (no create, no 30 s).
    assert [(m, p) for m, p, _ in wire.seen] == [("GET", "/v1/identity"), ("GET", HEALTH)]
    assert wire.seen[1][2] is None  # the API key is not sent to the control plane


def test_rules_the_key_can_pass_run_as_before(mock: tuple[str, Seen]) -> None:
    url, _ = mock
    chosen = ["PAGE-2", "PAGE-3", "ERR-3"]  # they only read, or call no operation
    assert lacking([REGISTRY[r] for r in chosen]) == []
    code, output = invoke("--base-url", url, *VIEWER, "--rules", ",".join(chosen))
    assert code == 0, output
    assert "warning" not in output and "lacks" not in output
    assert "3 rules: 3 passed" in output


def test_another_target_warns_then_runs_and_names_missing_scope_first(
    other: tuple[str, Seen], tmp_path: Path
) -> None:
    url, wire = other
    wire.seen.clear()
    report = tmp_path / "report.json"
    code, output = invoke(
        "--base-url", url, *VIEWER, "--rules", "IDEMP-1,PAGE-2", "--json-report", str(report)
    )
    assert code == 1, output
    lines = output.splitlines()
    assert lines[0].startswith(
        "incident-conformance: warning: --api-key (roles: viewer) lacks scopes that 1 of"
    )
    assert "incidents.create (role incident_creator)" in lines[0]
    assert len([line for line in lines if "warning" in line]) == 1
    assert any(p == "/v2/incidents" and m == "POST" for m, p, _ in wire.seen)  # it went on
    # The failure output of IDEMP-1 starts with the cause, on the line that names the rule.
    header = lines.index(next(line for line in lines if line.startswith("IDEMP-1 MUST ")))
    assert "403 missing_scope" in lines[header]
    assert "--api-key lacks incidents.create" in lines[header]
    assert "Received: 403 resource_forbidden missing_scope" in "\n".join(lines[header:])
    assert re.search(r"FAIL IDEMP-1 .*missing_scope", output)
    assert re.search(r"PASS PAGE-2 ", output)
    rules = {r["id"]: r for r in json.loads(report.read_text())["rules"]}
    assert "403 missing_scope" in rules["IDEMP-1"]["cause"] and rules["PAGE-2"]["cause"] == ""


def test_skip_missing_scopes_skips_with_the_reason_everywhere(mock: tuple[str, Seen], tmp_path: Path) -> None:
    url, wire = mock
    wire.seen.clear()
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    code, output = invoke(
        "--base-url", url, *VIEWER, "--rules", "IDEMP-1,VIS-3,PAGE-2", "--skip-missing-scopes",
        "--json-report", str(report), "--junit-xml", str(junit),
    )  # fmt: skip
    assert code == 0, output
    assert output.splitlines()[0].startswith(
        "incident-conformance: skipping 2 rule(s): --api-key (roles: viewer)"
    )
    assert re.search(r"SKIP IDEMP-1 .*needs scopes --api-key lacks: incidents\.create \(role incident_creator\)",
                     output)  # fmt: skip
    assert "3 rules: 1 passed, 2 skipped" in output
    assert not any(m == "POST" for m, _, _ in wire.seen)
    rules = {r["id"]: r for r in json.loads(report.read_text())["rules"]}
    assert rules["IDEMP-1"]["status"] == "skipped" and "incidents.create" in rules["IDEMP-1"]["reason"]
    assert "incidents.view_private (role global_access)" in rules["VIS-3"]["reason"]
    assert "--skip-missing-scopes" in rules["VIS-3"]["reason"]
    assert rules["PAGE-2"]["status"] == "passed"
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    skipped = cases["IDEMP-1"].find("skipped")
    assert skipped is not None and "incidents.create" in skipped.get("message", "")
    assert cases["PAGE-2"].find("skipped") is None


def test_every_rule_declares_the_operations_it_calls_with_the_api_key(tmp_path: Path) -> None:
    """Run every API rule but Schemathesis' against the mock: the operations each one called with
    --api-key are those it declares, so the scopes a run checks first are the ones it needs."""
    wire = Seen(create_app())
    rules = [r for r in select(group=API) if r.family != "SCHEMA"]
    with serve(wire) as url:
        full = Target(url, "mock-key-full", budget=Budget(500))
        ctx = RunContext(CONTRACT, full, full.with_key("mock-key-viewer"), Options(seed=3, allow_settings_writes=True),
                         creator=full.with_key("mock-key-creator"))  # fmt: skip
        ctx.settings = SettingsLedger.snapshot(CONTRACT, full, ctx.run_id)
        ctx.on_mock = True  # the rules that need options elsewhere make their own objects here
        marks: dict[str, int] = {}
        called: dict[str, set[str]] = {}

        def start(rule: Rule) -> None:
            marks[rule.id] = len(wire.seen)

        def done(outcome: Outcome) -> None:
            sent = wire.seen[marks[outcome.rule.id] :]
            called[outcome.rule.id] = {
                op for m, p, auth in sent if auth == "Bearer mock-key-full" and (op := _operation(m, p))
            }

        try:
            outcomes = run_rules(ctx, rules, start, done)
        finally:
            ctx.settings.cleanup()
            full.close()
    assert [o.rule.id for o in outcomes if o.status.value != "passed"] == []
    for rule in rules:
        declared = set(rule.operations(CONTRACT, True))
        undeclared = called[rule.id] - declared
        assert not undeclared, (
            f"{rule.id} calls {sorted(undeclared)} with --api-key but does not declare them"
        )
        # and declares no more: but the reference lists and the nested lists' parent lists, which a run asks
        # once and remembers
        assert declared - called[rule.id] <= (set(CREATING) - {CREATE}) | set(filling(CONTRACT)), rule.id


def _operation(method: str, path: str) -> str | None:
    for op in CONTRACT.ops.values():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.path))
        if op.method == method and re.fullmatch(pattern, path):
            return op.id
    return None


def test_scopes_come_from_the_operations_a_rule_calls() -> None:
    create = frozenset(CONTRACT.scopes("Incidents V2#Create"))
    assert create and create <= REGISTRY["IDEMP-5"].scopes(CONTRACT)
    # AUTH-1 sends only made-up credentials; AUTH-4 calls identity, which any valid key may call.
    assert REGISTRY["AUTH-1"].scopes(CONTRACT) == REGISTRY["AUTH-4"].scopes(CONTRACT) == frozenset()
    assert "incidents.view_private" in REGISTRY["VIS-3"].scopes(CONTRACT)  # a scope no operation names
    schema = REGISTRY["SCHEMA-1"]
    writes = set(CONTRACT.settings_writes())
    assert writes and not writes & set(schema.operations(CONTRACT, False))
    # with settings writes allowed, Schemathesis gets the severities' (its hooks aim them at the run's own
    # severities); the RES rules check the others on objects they made
    severities = {"Severities V1#Create", "Severities V1#Update", "Severities V1#Delete"}
    assert writes & set(schema.operations(CONTRACT, True)) == severities < writes


def test_an_identity_without_roles_is_a_warning_not_a_verdict(tmp_path: Path) -> None:
    class NoRoles(Wire):
        def answer(self, request: Request, answer: Answer) -> Answer:
            data = answer.json()
            if request.path == "/v1/identity" and isinstance(data, dict):
                return answer.with_json({"identity": {**data["identity"], "roles": "viewer"}})
            return answer

    with serve(NoRoles(create_app())) as url:
        code, output = invoke("--base-url", url, *VIEWER, "--rules", "PAGE-3")
    assert code == 0, output
    assert output.splitlines()[0].startswith("incident-conformance: warning: GET /v1/identity named no roles")


@pytest.mark.parametrize("secret", ["whsec_...", "whsec_<your secret>", "whsec_a-b_c"])
def test_malformed_webhook_secret_is_told_the_format(secret: str) -> None:
    argv = ["--base-url", f"http://127.0.0.1:{free_port()}", "--api-key", "k", "--secret", secret]
    result = CliRunner().invoke(webhooks, argv)
    assert result.exit_code == 2, result.output
    assert "may not be empty" not in result.output
    assert "expected whsec_ followed by the base64 of the signing key" in result.output
    assert "characters base64 does not use" in result.output


def test_valid_webhook_secret_gets_past_the_secret_check() -> None:
    argv = ["--base-url", f"http://127.0.0.1:{free_port()}", "--api-key", "k", "--secret", new_secret()]
    result = CliRunner().invoke(webhooks, argv)
    assert result.exit_code == 2 and "unreachable" in result.output, result.output
    assert "secret" not in result.output


def test_list_rules_json_shows_each_rules_operations_and_scopes() -> None:
    code, output = invoke("--list-rules", "--format", "json")
    assert code == 0
    rules = {r["id"]: r for r in json.loads(output)}
    assert "Incidents V2#Create" in rules["IDEMP-1"]["operations"]
    assert "incidents.create" in rules["IDEMP-1"]["scopes"]
    assert rules["AUTH-1"]["operations"] == [] and rules["AUTH-1"]["scopes"] == []
    assert rules["WEBHOOK-1"]["scopes"] == []
