"""catalog.py: the settings snapshot, its lookups, and new snapshots on writes."""

from __future__ import annotations

import pytest
import yaml

from incident_mock.domain.errors import NotFound
from incident_mock.engine.catalog import Catalog, find
from incident_mock.engine.store import DEFAULT_FIXTURES
from tests.mock.seed import INVESTIGATING, MAJOR, MINOR, PAYMENTS, PLATFORM, TEAM_FIELD, TRIAGE


@pytest.fixture
def catalog() -> Catalog:
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        return Catalog.from_fixtures(yaml.safe_load(fh))


def test_the_catalog_answers_the_questions_incident_rules_ask(catalog: Catalog) -> None:
    assert catalog.first_status("triage") == TRIAGE
    assert catalog.first_status("live") == INVESTIGATING
    assert catalog.first_status("no-such-category") is None
    assert catalog.default_type()["is_default"] is True
    assert find(catalog.severities, "severity", MAJOR)["name"] == "Major"
    with pytest.raises(NotFound, match="No severity with id 'nope'"):
        find(catalog.severities, "severity", "nope")


def test_a_write_makes_a_new_snapshot_with_the_next_generation(catalog: Catalog) -> None:
    smaller = catalog.with_severities({k: v for k, v in catalog.severities.items() if k != MINOR})
    assert smaller.generation == catalog.generation + 1
    assert MINOR in catalog.severities and MINOR not in smaller.severities
    assert smaller.statuses is catalog.statuses  # the other tables are shared, not copied


def test_options_come_in_their_sort_order(catalog: Catalog) -> None:
    assert [o["id"] for o in catalog.options_of(TEAM_FIELD)][:2] == [PAYMENTS, PLATFORM]
    assert catalog.options_of("nope") == []
