"""--allow-settings-writes is safe against a real deployment: only the run's own severities are written.

The clean run (conftest) goes over a real socket through a recorder that sees every severity request the
suite and Schemathesis send; the unit tests show the id guard at work (and that it refuses, not just swaps).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from schemathesis import GenerationMode

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_conformance.contract import Contract
from incident_conformance.marks import NAME_PREFIX
from incident_conformance.schemathesis_hooks import SeverityHooks
from incident_conformance.settings import (
    SEVERITY_CREATE,
    SEVERITY_DELETE,
    SEVERITY_UPDATE,
    ProtectedSetting,
    SettingsLedger,
)
from incident_conformance.target import Budget, Target
from incident_contract.document import load_spec
from incident_mock.app import create_app
from tests.conformance.conftest import SEVERITIES, CleanRun
from tests.mock.seed import CRITICAL, MAJOR, MINOR
from tests.servers import serve

PROTECTED = (MINOR, MAJOR, CRITICAL)  # the mock's seeded severities


def test_settings_writes_touch_only_the_runs_own_severities(clean_run: CleanRun) -> None:
    assert clean_run.code == 0, clean_run.output
    before = {k: _view(v) for k, v in clean_run.before.items()}
    after = {k: _view(v) for k, v in clean_run.after.items()}
    assert set(before) == set(PROTECTED)

    # (b) the severities that existed before are all there, unchanged; (c) nothing of the run's is left.
    assert {k: after.get(k) for k in before} == before
    assert set(after) == set(before), "a severity was left behind"
    assert not any(v[0].startswith(NAME_PREFIX) for v in after.values())

    # No write ever reached a pre-existing severity; every severity created carries the prefix.
    writes = [(m, p, s) for m, p, s, _ in clean_run.seen if m in ("PUT", "PATCH", "DELETE")]
    assert writes, "the run sent no severity update or delete"
    assert not [w for w in writes if any(i in w[1] for i in PROTECTED)]
    created = {}
    for method, path, status, answer in clean_run.seen:
        if method == "POST" and path == SEVERITIES and status == 201:
            severity = json.loads(answer)["severity"]
            created[severity["id"]] = severity["name"]
    assert created and all(name.startswith(NAME_PREFIX) for name in created.values()), created
    assert all(len(name) <= 50 for name in created.values())
    assert any(s < 300 for m, _, s in writes if m == "PUT") and any(
        s < 300 for m, _, s in writes if m == "DELETE"
    )

    # (d) the summary and the JSON report state the settings writes.
    settings = clean_run.report["created"]["settings"]
    assert set(settings["severities_created"]) == set(created)
    assert settings["severities_updated"] and settings["severities_deleted"]
    gone = set(settings["severities_deleted"]) | set(settings["severities_cleaned_up"])
    assert gone == set(created)
    assert settings["severities_left_behind"] == [] and settings["cleanup_failures"] == {}
    assert settings["protected_severities"] == 3 and settings["refused_writes"] == []
    output = " ".join(clean_run.output.split())  # the console wraps long lines
    assert f"Settings: created {len(created)} severities" in output
    assert f"updated {len(settings['severities_updated'])} and deleted" in output
    assert "(0 left behind)" in output and "The 3 severities that existed before" in output


def _view(severity: dict[str, Any]) -> tuple[Any, ...]:
    return (severity["name"], severity["description"], severity["rank"], severity["updated_at"])


# --- the guard, unit by unit ---------------------------------------------------------------------------


class FakeTarget:
    """A Target over httpx.MockTransport: severity creates succeed; every request is kept."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.made = 0

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        if request.method == "GET" and request.url.path == SEVERITIES:
            return httpx.Response(200, json={"severities": [{"id": i, "name": i} for i in PROTECTED]})
        if request.method == "POST" and request.url.path == SEVERITIES:
            self.made += 1
            name = json.loads(request.content)["name"]
            return httpx.Response(201, json={"severity": {"id": f"OWN{self.made}", "name": name}})
        return httpx.Response(202 if request.method == "DELETE" else 200, json={})

    def target(self) -> Target:
        target = Target("http://127.0.0.1:9", "k", budget=Budget(5))
        target.close()
        target.client = httpx.Client(
            transport=httpx.MockTransport(self.answer), base_url="http://127.0.0.1:9"
        )
        return target


@pytest.fixture
def ledger() -> tuple[SettingsLedger, FakeTarget]:
    fake = FakeTarget()
    return SettingsLedger.snapshot(Contract(load_spec()), fake.target(), "run1"), fake


def case(severity_id: Any, mode: GenerationMode = GenerationMode.POSITIVE) -> Any:
    return SimpleNamespace(
        path_parameters={"id": severity_id}, meta=SimpleNamespace(generation=SimpleNamespace(mode=mode))
    )


@pytest.mark.parametrize("operation", [SEVERITY_UPDATE, SEVERITY_DELETE])
@pytest.mark.parametrize("mode", list(GenerationMode))
def test_hook_swaps_every_pre_existing_id_for_one_of_the_runs_own(
    ledger: tuple[SettingsLedger, FakeTarget], operation: str, mode: GenerationMode
) -> None:
    settings, fake = ledger
    hooks = SeverityHooks(settings.contract, settings, "run1")
    for existing in (*PROTECTED, PROTECTED[0].lower(), f" {PROTECTED[1]}/", PROTECTED[2].replace("0", "%30")):
        generated = case(existing, mode)
        hooks.aim(operation, generated)
        assert generated.path_parameters["id"] in settings.created
    assert settings.created == ["OWN1"]  # one spare, created through the API with the prefix
    assert ("POST", SEVERITIES) in fake.sent


def test_hook_keeps_the_runs_own_ids_and_unknown_ids_of_negative_cases(
    ledger: tuple[SettingsLedger, FakeTarget],
) -> None:
    settings, _ = ledger
    hooks = SeverityHooks(settings.contract, settings, "run1")
    unknown = case("no-such-severity", GenerationMode.NEGATIVE)
    hooks.aim(SEVERITY_DELETE, unknown)
    assert unknown.path_parameters["id"] == "no-such-severity"  # a 404 case stays a 404 case
    positive = case("no-such-severity")
    hooks.aim(SEVERITY_UPDATE, positive)
    own = positive.path_parameters["id"]
    assert own in settings.created
    settings.note_write(SEVERITY_DELETE, own, 202)  # once deleted, the next one gets a fresh severity
    again = case(own)
    hooks.aim(SEVERITY_DELETE, again)
    assert (
        again.path_parameters["id"] not in (own, *PROTECTED)
        and again.path_parameters["id"] in settings.created
    )


def test_hook_prefixes_names_without_making_invalid_bodies_valid(
    ledger: tuple[SettingsLedger, FakeTarget],
) -> None:
    settings, _ = ledger
    hooks = SeverityHooks(settings.contract, settings, "run1")
    body: dict[str, Any] = {"name": "x" * 50, "description": "d"}
    hooks.prefix_name(SEVERITY_CREATE, body)
    assert body["name"].startswith(NAME_PREFIX) and len(body["name"]) == 50
    too_long: dict[str, Any] = {"name": "y" * 51, "description": "d"}
    hooks.prefix_name(SEVERITY_UPDATE, too_long)
    assert too_long["name"].startswith(NAME_PREFIX) and len(too_long["name"]) > 50  # still too long
    empty: dict[str, Any] = {"name": "", "description": "d"}
    hooks.prefix_name(SEVERITY_CREATE, empty)
    assert empty["name"] == ""  # the prefix alone would make it valid: left as generated


def test_target_refuses_writes_to_pre_existing_severities(ledger: tuple[SettingsLedger, FakeTarget]) -> None:
    settings, fake = ledger
    target = settings.target
    for method in ("PUT", "DELETE", "PATCH", "POST"):
        with pytest.raises(ProtectedSetting):
            target.request(
                method, f"{SEVERITIES}/{PROTECTED[0]}", json_body={"name": "x", "description": "y"}
            )
    assert not [s for s in fake.sent if s[0] != "GET" and PROTECTED[0] in s[1]]
    assert len(settings.refused) == 4
    assert target.request("GET", f"{SEVERITIES}/{PROTECTED[0]}").status == 200  # reads are fine


def test_a_create_answered_with_an_existing_id_is_never_adopted(
    ledger: tuple[SettingsLedger, FakeTarget],
) -> None:
    settings, _ = ledger
    assert settings.note_created(201, {"severity": {"id": PROTECTED[1]}}) is None
    settings.cleanup()
    assert settings.created == [] and settings.notes


def test_cleanup_deletes_what_is_left_and_reports_what_it_could_not(
    ledger: tuple[SettingsLedger, FakeTarget],
) -> None:
    settings, fake = ledger
    first, second = settings.spare(), settings.create("x").json()["severity"]["id"]
    fake.answer = lambda request: httpx.Response(  # type: ignore[method-assign]
        422 if request.url.path.endswith(str(second)) else 202, json={"errors": []}
    )
    settings.target.client = httpx.Client(
        transport=httpx.MockTransport(fake.answer), base_url="http://127.0.0.1:9"
    )
    settings.cleanup()
    assert settings.cleaned_up == [first] and list(settings.cleanup_failures) == [second]
    assert settings.left_behind == [second]


def test_unlistable_severities_mean_no_run(tmp_path: Path) -> None:
    class NoList:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == SEVERITIES:
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"down"})
                return
            await self.app(scope, receive, send)

    with serve(NoList(create_app())) as url:
        result = CliRunner().invoke(
            cli,
            ["--base-url", url, "--api-key", "mock-key-full", "--allow-settings-writes", "--rules", "ERR-2"],
        )
    assert result.exit_code == 2 and "severities" in result.output
