"""No false positives: the real mock passes every rule over a real socket, Schemathesis included."""

from __future__ import annotations

from incident_conformance.rules import API, select
from tests.conformance.conftest import CleanRun


def test_clean_mock_passes_every_rule(clean_run: CleanRun) -> None:
    statuses = {r["id"]: r["status"] for r in clean_run.report["rules"]}
    assert clean_run.code == 0, clean_run.output
    api_rules = [r.id for r in select(group=API)]  # the WEBHOOK rules are the receiver mode's
    assert statuses == dict.fromkeys(api_rules, "passed")
    assert clean_run.junit.count("<testcase ") == len(api_rules)
    assert clean_run.report["created"]["incidents"]


def test_each_schema_rule_reports_its_own_run(clean_run: CleanRun) -> None:
    """SCHEMA-1 pays for the unit phases, SCHEMA-2 for the stateful phase; SCHEMA-3 reuses SCHEMA-1's run."""
    seconds = {r["id"]: r["seconds"] for r in clean_run.report["rules"]}
    notes = {r["id"]: " ".join(r["notes"]) for r in clean_run.report["rules"]}
    assert seconds["SCHEMA-1"] > 1 and seconds["SCHEMA-2"] > 0.1
    assert seconds["SCHEMA-3"] < 0.5, "SCHEMA-3 ran Schemathesis again instead of reading SCHEMA-1's run"
    assert "stateful phase:" in notes["SCHEMA-2"] and "stateful" not in notes["SCHEMA-1"]
