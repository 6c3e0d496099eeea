"""Machine-readable reports: JUnit XML with one testcase per rule (named by rule ID), and JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from incident_conformance.report import field
from incident_conformance.rules import Failure, Outcome, Status

__all__ = ["json_report", "write_json", "write_junit"]


def _failure_text(f: Failure) -> str:
    lines = [field("Expected", f.expected, 2), field("Received", f.received, 2)]
    lines += [field("Reproduce", f.reproduce, 2)] if f.reproduce else []
    return "\n".join([f.title, *lines])


def write_junit(path: Path, outcomes: list[Outcome], seconds: float) -> None:
    counts = {s: sum(1 for o in outcomes if o.status is s) for s in Status}
    suite = ET.Element(
        "testsuite",
        name="incident-conformance",
        tests=str(len(outcomes)),
        failures=str(counts[Status.FAILED]),
        errors=str(counts[Status.ERROR]),
        skipped=str(counts[Status.SKIPPED]),
        time=f"{seconds:.3f}",
    )
    for o in outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            name=o.rule.id,
            classname=f"conformance.{o.rule.family}",
            time=f"{o.seconds:.3f}",
        )
        props = ET.SubElement(case, "properties")
        for name, value in (
            ("name", o.rule.name),
            ("level", o.rule.level.value),
            ("summary", o.rule.summary),
        ):
            ET.SubElement(props, "property", name=name, value=value)
        if o.status is Status.FAILED:
            first = f"{o.cause}; {o.failures[0].title}" if o.cause else o.failures[0].title
            node = ET.SubElement(case, "failure", message=f"{o.rule.level.value} {o.rule.name}: {first}")
            node.text = "\n\n".join(
                [*([o.cause] if o.cause else []), *(_failure_text(f) for f in o.failures)]
            )
        elif o.status is Status.ERROR:
            message = f"{o.cause}; {o.reason}" if o.cause else o.reason
            ET.SubElement(case, "error", message=message).text = message
        elif o.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=o.reason)
        if o.notes:
            ET.SubElement(case, "system-out").text = "\n".join(o.notes)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def json_report(outcomes: list[Outcome], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        **meta,
        "summary": {s.value: sum(1 for o in outcomes if o.status is s) for s in Status},
        "rules": [
            {
                "id": o.rule.id,
                "level": o.rule.level.value,
                "name": o.rule.name,
                "family": o.rule.family,
                "summary": o.rule.summary,
                "status": o.status.value,
                "seconds": round(o.seconds, 3),
                "reason": o.reason,
                "cause": o.cause,
                "notes": o.notes,
                "failures": [vars(f) for f in o.failures],
            }
            for o in outcomes
        ],
    }


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
