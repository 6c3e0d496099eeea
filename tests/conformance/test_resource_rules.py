"""The RES rules come from the declarations: against a contract with a resource of its own (widgets,
tests/widgets.py) served by the mock with no code for it, they check that resource too, pass, and fail
against a defect in front of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_contract.operations import operations
from incident_mock.app import create_app
from tests.conformance.defects import DeleteNotApplied, UnknownWidgetReferenceAccepted
from tests.conformance.wire import Switch
from tests.servers import serve
from tests.widgets import DELETE, SHOW, widget_spec, write_widget_contract

RULES = ["RES-1", "RES-2", "RES-3", "RES-4", "RES-5"]


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_widget_contract(tmp_path_factory.mktemp("widgets"))


@pytest.fixture(scope="module")
def switch(contract: Path) -> Iterator[tuple[Switch, str]]:
    board = Switch(create_app(spec_file=contract))
    with serve(board) as url:
        yield board, url


def run(url: str, contract: Path, tmp_path: Path, *extra: str) -> tuple[dict[str, str], str]:
    report = tmp_path / "report.json"
    argv = ["--base-url", url, "--api-key", "mock-key-full", "--spec", str(contract), "--rules", "RES-*",
            "--family", "Widgets", "--allow-settings-writes", "--json-report", str(report), *extra]  # fmt: skip
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    statuses = {r["id"]: r["status"] for r in json.loads(report.read_text())["rules"]}
    return statuses, result.output


def test_the_generic_rules_check_and_pass_a_resource_declared_only_in_the_contract(
    switch: tuple[Switch, str], contract: Path, tmp_path: Path
) -> None:
    statuses, output = run(switch[1], contract, tmp_path)
    assert statuses == dict.fromkeys(RULES, "passed"), output
    assert "widgets" not in output  # no note that widgets were left out


class WidgetDeleteNotApplied(DeleteNotApplied):
    """A widget delete answers 204 but deletes nothing."""

    delete, show = operations(widget_spec())[DELETE], operations(widget_spec())[SHOW]


@pytest.mark.parametrize(
    ("wire", "breaks"), [(WidgetDeleteNotApplied, "RES-4"), (UnknownWidgetReferenceAccepted, "RES-5")]
)
def test_a_defect_in_the_declared_resource_fails_its_rule_and_no_other(
    wire: type, breaks: str, switch: tuple[Switch, str], contract: Path, tmp_path: Path
) -> None:
    board, url = switch
    board.current = wire(board.base)
    try:
        statuses, output = run(url, contract, tmp_path)
    finally:
        board.current = board.base
    assert {rule for rule, status in statuses.items() if status != "passed"} == {breaks}, output


def _guarded_contract(directory: Path) -> Path:
    """The widget contract with the Widgets family marked as written only on the mock."""
    spec = widget_spec()
    next(t for t in spec["tags"] if t["name"] == "Widgets")["x-writes-on-mock-only"] = True
    path = directory / "guarded.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_a_family_written_only_on_the_mock_is_not_written_elsewhere(tmp_path: Path) -> None:
    """Off the mock (here: a mock whose control plane refuses the question, as another server would), the
    writing rules leave an `x-writes-on-mock-only` family alone, with a note, and send it no write; on
    the mock the same run writes it."""
    contract = _guarded_contract(tmp_path)
    elsewhere = create_app(spec_file=contract, admin_token="not-given-to-the-suite")
    with serve(elsewhere) as url:
        statuses, output = run(url, contract, tmp_path)
    writes = [e for e in elsewhere.sandboxes.default.journal.entries if e.method != "GET"]
    assert writes == [], output
    assert statuses["RES-1"] == "passed" and statuses["RES-2"] != "failed", output
    on_mock = create_app(spec_file=contract)
    with serve(on_mock) as url:
        statuses, output = run(url, contract, tmp_path)
    assert statuses == dict.fromkeys(RULES, "passed"), output
    assert [e for e in on_mock.sandboxes.default.journal.entries if e.method == "POST"], output
