"""The registry: stable IDs in known families, registration order, and the helpers rules report with."""

from __future__ import annotations

import pytest

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.rules import Failure, Level, expect, found, rule, select


def test_expect_and_found_turn_judgements_into_failures() -> None:
    assert expect(True, "t", "e", "r") is None
    assert expect(False, "t", "e", "r", "curl") == Failure("t", "e", "r", "curl")
    assert list(found(None, expect(False, "a", "e", "r"), None)) == [Failure("a", "e", "r")]


def test_rules_register_once_in_a_known_family() -> None:
    with pytest.raises(ValueError, match="unknown family"):
        rule("NOPE-1", Level.MUST, "n", "s")
    with pytest.raises(ValueError, match="duplicate"):
        rule("AUTH-1", Level.MUST, "n", "s")(lambda ctx: [])


def test_rules_run_family_by_family_in_number_order() -> None:
    ids = [r.id for r in select()]
    families = [i.split("-")[0] for i in ids]
    assert families.index("AUTH") < families.index("IDEMP") < families.index("SCHEMA")
    assert [r.id for r in select(["SCHEMA-*"])] == ["SCHEMA-1", "SCHEMA-2", "SCHEMA-3"]
