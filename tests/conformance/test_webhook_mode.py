"""`incident-conformance webhooks` end to end: the real mock over a socket, its webhooks sent to the receiver.

Each test registers an endpoint with the mock over its control plane (and deletes it after): the
receiver's URL for a clean run, or the URL of a `Proxy` carrying one defect of webhook_defects.py, which
re-signs what it alters and forwards it to the receiver. The clean run passes every WEBHOOK rule; each
defect fails exactly its rule.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_conformance.rules import select
from incident_conformance.webhook_cli import webhooks
from incident_mock.app import create_app
from tests.conformance.webhook_defects import CATALOGUE, PrivateInFull, WebhookDefect
from tests.conformance.webhook_wire import Proxy, new_secret
from tests.conformance.wire import Switch
from tests.servers import free_port, serve

WEBHOOK_RULES = [r.id for r in select(group="webhook")]
ENDPOINTS = "/_mock/sandboxes/default/webhooks"


@dataclass
class Bench:
    api: str
    proxies: Switch  # serves whichever Proxy is `current`
    proxy_url: str


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    board = Switch(Proxy(""))
    with serve(create_app()) as api, serve(board) as proxy_url:
        yield Bench(api, board, proxy_url)


def run(bench: Bench, tmp_path: Path, *extra: str, via: Proxy | None = None,
        **endpoint: Any) -> tuple[int, dict[str, str], str, dict[str, Any]]:  # fmt: skip
    """Register the receiver (through `via` when given) with the mock, and run the receiver mode."""
    port = free_port()
    secret = new_secret()
    receiver = f"http://127.0.0.1:{port}/hooks"
    if via is not None:
        via.secret, via.target = secret, receiver
        bench.proxies.current = via
    url = receiver if via is None else bench.proxy_url
    answer = httpx.post(bench.api + ENDPOINTS, json={"url": url, "secret": secret, **endpoint})
    assert answer.status_code == 201, answer.text
    report = tmp_path / "report.json"
    argv = ["--base-url", bench.api, "--api-key", "mock-key-full", "--secret", secret,
            "--listen", f"127.0.0.1:{port}", "--timeout", "15", "--settle", "0.5",
            "--json-report", str(report), *extra]  # fmt: skip
    try:
        result = CliRunner().invoke(webhooks, argv, catch_exceptions=False)
    finally:
        httpx.delete(f"{bench.api}{ENDPOINTS}/{answer.json()['webhook']['id']}")
    data = json.loads(report.read_text()) if report.exists() else {}
    statuses = {r["id"]: r["status"] for r in data.get("rules", [])}
    return result.exit_code, statuses, result.output, data


def test_the_mock_passes_every_webhook_rule(bench: Bench, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    code, statuses, output, data = run(bench, tmp_path, "--junit-xml", str(junit))
    assert code == 0, output
    assert statuses == dict.fromkeys(WEBHOOK_RULES, "passed"), output
    assert "Receiver listening on http://127.0.0.1:" in output
    events = sorted(c["event"] for c in data["changes"])
    assert events == sorted(["public_incident.incident_created_v2", "public_incident.incident_updated_v2",
                             "public_incident.incident_updated_v2", "public_incident.incident_status_updated_v2",
                             "private_incident.incident_created_v2", "private_incident.incident_updated_v2"])  # fmt: skip
    answered = [d["answered"] for d in data["deliveries"]]
    assert answered.count(503) == 1 and len(answered) == 7  # six messages, one of them twice
    assert [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")] == WEBHOOK_RULES
    notes = " ".join(r for rule in data["rules"] for r in rule["notes"])
    assert "its retry came" in notes


def test_an_out_of_order_endpoint_passes_too(bench: Bench, tmp_path: Path) -> None:
    """Messages are matched by incident id, not by arrival order, as the contract says receivers should."""
    code, statuses, output, _ = run(bench, tmp_path, out_of_order=True)
    assert code == 0 and statuses == dict.fromkeys(WEBHOOK_RULES, "passed"), output


@pytest.mark.parametrize("defect", CATALOGUE, ids=[d.name for d in CATALOGUE])
def test_defect_fails_its_rule_and_no_other(defect: WebhookDefect, bench: Bench, tmp_path: Path) -> None:
    proxy = defect.proxy("")
    if isinstance(proxy, PrivateInFull):
        proxy.api = bench.api
    timeout = ("--timeout", "3") if defect.breaks == "WEBHOOK-4" else ()
    code, statuses, output, _ = run(bench, tmp_path, *timeout, via=proxy)
    failing = {rule for rule, status in statuses.items() if status != "passed"}
    assert code == 1, output
    assert failing == {defect.breaks}, output


def test_the_catalogue_covers_every_webhook_rule() -> None:
    assert sorted({d.breaks for d in CATALOGUE}) == sorted(WEBHOOK_RULES)
    assert all(d.proxy.__doc__ for d in CATALOGUE)


def test_a_retry_slower_than_the_timeout_skips_webhook_5_and_passes_the_run(
    bench: Bench, tmp_path: Path
) -> None:
    code, statuses, output, data = run(bench, tmp_path, "--timeout", "1", time_scale=1)  # first retry: 5 s
    reason = next(r["reason"] for r in data["rules"] if r["id"] == "WEBHOOK-5")
    assert statuses["WEBHOOK-5"] == "skipped" and "no retry of msg_" in reason, output
    # The refused attempt still shows the change was sent: only the retry rule is left unjudged.
    assert code == 0 and {r for r, s in statuses.items() if s != "passed"} == {"WEBHOOK-5"}


def test_nothing_delivered_fails_webhook_4_naming_the_receiver_url(bench: Bench, tmp_path: Path) -> None:
    code, statuses, output, _ = run(bench, tmp_path, "--timeout", "1", "--receiver-url",
                                    "https://hooks.example.test/in", via=Blackhole(""))  # fmt: skip
    assert code == 1
    assert statuses["WEBHOOK-4"] == "failed" and statuses["WEBHOOK-1"] == "skipped"
    assert "https://hooks.example.test/in" in output


class Blackhole(Proxy):
    """Acknowledges every delivery and forwards none."""

    def alter(self, message: Any) -> list[Any]:
        return []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--secret", "nope"], "must start with whsec_"),
        (["--secret", "whsec_"], "not a usable signing secret"),
        (["--listen", "localhost"], "is not HOST:PORT"),
        (["--receiver-url", "ftp://x"], "is not an http(s) URL"),
        (["--rules", "AUTH-*"], "no WEBHOOK rule matches"),
    ],
)
def test_bad_options_exit_2(args: list[str], needle: str, bench: Bench) -> None:
    argv = ["--base-url", bench.api, "--api-key", "mock-key-full", "--secret", new_secret(), *args]
    result = CliRunner().invoke(webhooks, argv)
    assert result.exit_code == 2 and needle in result.output, result.output


def test_missing_options_and_a_rejected_key_exit_2(bench: Bench) -> None:
    result = CliRunner().invoke(webhooks, ["--base-url", bench.api])
    assert result.exit_code == 2 and "--api-key, --secret required" in result.output
    argv = ["--base-url", bench.api, "--api-key", "nope", "--secret", new_secret()]
    result = CliRunner().invoke(webhooks, argv)
    assert result.exit_code == 2 and "rejected --api-key" in result.output


def test_list_rules_shows_the_webhook_rules_but_the_api_run_does_not_run_them() -> None:
    result = CliRunner().invoke(cli, ["--list-rules"])
    assert all(rule in result.output for rule in WEBHOOK_RULES)
    result = CliRunner().invoke(
        cli, ["--base-url", "http://127.0.0.1:9", "--api-key", "k", "--rules", "WEBHOOK-*"]
    )
    assert result.exit_code == 2 and "no rule matches" in result.output


def test_the_console_script_dispatches_webhooks_and_keeps_the_default_run() -> None:
    from incident_conformance.commands import main

    with pytest.raises(SystemExit) as done:
        main(["webhooks", "--help"])
    assert done.value.code == 0
    with pytest.raises(SystemExit) as done:
        main(["--list-rules", "--rules", "AUTH-1"])
    assert done.value.code == 0
    help_text = " ".join(CliRunner().invoke(cli, ["--help"]).output.split())
    assert "incident-conformance webhooks --help" in help_text
