"""Machine-readable reports: JUnit with one testcase per rule named by its ID, and the JSON report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from incident_conformance.export import json_report, write_json, write_junit
from incident_conformance.rules import Failure, Level, Outcome, Rule, Status


def rule(rule_id: str) -> Rule:
    return Rule(
        rule_id, Level.MUST, f"rule_{rule_id.lower()}", rule_id.split("-")[0], "Summary.", lambda c: []
    )


FAILURE = Failure("title", "wanted", "got", "curl x")
OUTCOMES = [
    Outcome(rule("AUTH-1"), Status.PASSED, 0.5, notes=["a note"]),
    Outcome(rule("AUTH-2"), Status.FAILED, 1.0, [FAILURE, FAILURE]),
    Outcome(rule("VIS-1"), Status.SKIPPED, reason="needs --viewer-key"),
    Outcome(rule("ERR-1"), Status.ERROR, reason="the target stopped answering"),
]


def test_junit_has_one_testcase_per_rule_named_by_id_with_its_result(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "junit.xml"
    write_junit(path, OUTCOMES, 3.0)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "4",
        "1",
        "1",
        "1",
    )
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == ["AUTH-1", "AUTH-2", "VIS-1", "ERR-1"]
    assert cases["AUTH-2"].get("classname") == "conformance.AUTH"
    failure = cases["AUTH-2"].find("failure")
    assert failure is not None and "MUST rule_auth-2: title" in (failure.get("message") or "")
    assert (failure.text or "").count("Expected: wanted") == 2 and "Reproduce: curl x" in (failure.text or "")
    assert cases["VIS-1"].find("skipped") is not None and cases["ERR-1"].find("error") is not None
    assert (cases["AUTH-1"].findtext("system-out") or "") == "a note"
    props = {p.get("name"): p.get("value") for p in cases["AUTH-1"].iter("property")}
    assert props == {"name": "rule_auth-1", "level": "MUST", "summary": "Summary."}


def test_json_report_keeps_the_meta_counts_and_every_failure(tmp_path: Path) -> None:
    report = json_report(OUTCOMES, {"seed": 7})
    assert report["seed"] == 7
    assert report["summary"] == {"passed": 1, "failed": 1, "skipped": 1, "error": 1}
    by_id = {r["id"]: r for r in report["rules"]}
    assert by_id["AUTH-2"]["failures"][0] == {"title": "title", "expected": "wanted", "received": "got",
                                              "reproduce": "curl x"}  # fmt: skip
    assert by_id["VIS-1"]["reason"] == "needs --viewer-key" and by_id["AUTH-1"]["notes"] == ["a note"]
    path = tmp_path / "r.json"
    write_json(path, report)
    assert json.loads(path.read_text()) == report


def test_junit_keeps_a_multi_line_message_indented_under_its_label(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    failing = Outcome(
        rule("SCHEMA-1"), Status.FAILED, 1.0, [Failure("t", "e", "first\n    {\n      1\n    }")]
    )
    write_junit(path, [failing], 1.0)
    text = next(ET.parse(path).getroot().iter("failure")).text or ""
    under = " " * len("  Received: ")
    assert f"  Received: first\n{under}    {{\n{under}      1\n{under}    }}" in text
