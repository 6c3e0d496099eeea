"""store.py without HTTP: keys, severities, options, idempotent creation, visibility, edits, list pages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from incident_contract.query import ListQuery
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.records import ApiKey
from incident_mock.resources.organisation import Rules, Store
from tests import imports
from tests.mock.seed import (
    CLOSED,
    CRITICAL,
    DECLINED,
    LEARNING,
    MAJOR,
    MINOR,
    PAYMENTS,
    PLATFORM,
    SECURITY,
    SEEDED_INCIDENT,
    TEAM_FIELD,
    TRIAGE,
)

KEY = ApiKey("01TEST", "test-token", "Test key", ("viewer",))


@pytest.fixture
def store(fixtures: dict[str, Any], rules: Rules) -> Store:
    return Store(fixtures, rules)


def payload(key: str, **extra: Any) -> dict[str, Any]:
    return {"idempotency_key": key, "severity_id": MAJOR, "visibility": "public", **extra}


def query(**fields: Any) -> ListQuery:
    defaults: dict[str, Any] = {"page_size": 25, "sort_by": "created_at_newest_first", "filter_mode": "all"}
    return ListQuery(**(defaults | fields))


def test_rules_come_from_the_contract(rules: Rules) -> None:
    assert rules.listed_by_default == ("standard", "retrospective")
    assert rules.moves["learning"] == frozenset({"closed"})
    assert rules.category_aliases == {"active": "live", "post-incident": "learning"}


def test_a_fixtures_file_may_name_a_status_category_by_its_newer_name(
    fixtures: dict[str, Any], rules: Rules
) -> None:
    newer = {"live": "active", "learning": "post-incident"}
    renamed = [
        {**s, "category": newer.get(s["category"], s["category"])} for s in fixtures["incident_statuses"]
    ]
    store = Store({**fixtures, "incident_statuses": renamed}, rules)
    assert store.catalog.statuses == Store(fixtures, rules).catalog.statuses
    assert store.catalog.statuses[LEARNING]["category"] == "learning"


# --- keys ------------------------------------------------------------------------------------------


def test_key_for_finds_a_key_by_its_token_and_nothing_else(store: Store) -> None:
    found = store.key_for("mock-key-viewer")
    assert found is not None and found.roles == ("viewer",)
    assert store.key_for("mock-key-viewe") is None
    assert store.key_for("") is None


# --- severities ------------------------------------------------------------------------------------


def test_severities_list_in_rank_order(store: Store) -> None:
    assert [s["id"] for s in store.list_severities()] == [MINOR, MAJOR, CRITICAL]


def test_a_new_severity_ranks_last_unless_told_and_makes_a_new_catalog(store: Store) -> None:
    before = store.catalog
    saved = store.save_severity({"name": "Sev 0", "description": "All down"})
    assert saved["rank"] == 4 and saved["created_at"] == saved["updated_at"]
    assert store.catalog.generation == before.generation + 1
    assert saved["id"] not in before.severities  # the old snapshot is untouched
    assert store.severities[saved["id"]] is saved


def test_an_update_keeps_what_the_body_leaves_out(store: Store) -> None:
    original = dict(store.severities[MINOR])
    updated = store.save_severity({"name": "Small", "description": "d"}, severity_id=MINOR)
    assert (updated["id"], updated["rank"], updated["created_at"]) == (MINOR, 1, original["created_at"])
    assert store.severities[MINOR]["name"] == "Small"


def test_severity_names_are_unique_whatever_their_case(store: Store) -> None:
    generation = store.catalog.generation
    with pytest.raises(ValidationFailed) as caught:
        store.save_severity({"name": "mAJOR", "description": "d"})
    assert caught.value.errors[0]["source"]["field"] == "name"
    store.save_severity({"name": "major", "description": "renamed in place"}, severity_id=MAJOR)
    assert store.catalog.generation == generation + 1


def test_updating_or_deleting_an_unknown_severity_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.save_severity({"name": "x", "description": "d"}, severity_id="nope")
    with pytest.raises(NotFound):
        store.delete_severity("nope")


def test_a_severity_in_use_cannot_be_deleted_and_an_unused_one_can(store: Store) -> None:
    with pytest.raises(ValidationFailed):
        store.delete_severity(MAJOR)  # the seeded incident uses it
    generation = store.catalog.generation
    store.delete_severity(CRITICAL)
    assert CRITICAL not in store.severities and store.catalog.generation == generation + 1


# --- custom field options --------------------------------------------------------------------------


def test_options_are_paginated_in_sort_order(store: Store) -> None:
    first, after = store.list_options(TEAM_FIELD, 2, None)
    assert [o["id"] for o in first] == [PAYMENTS, PLATFORM] and after == PLATFORM
    rest, after = store.list_options(TEAM_FIELD, 2, after)
    assert len(rest) == 1 and after is None


def test_options_of_an_unknown_field_or_cursor_are_422(store: Store) -> None:
    with pytest.raises(ValidationFailed):
        store.list_options("nope", 25, None)
    with pytest.raises(ValidationFailed):
        store.list_options(TEAM_FIELD, 25, "nope")


# --- creating incidents ----------------------------------------------------------------------------


def test_incidents_are_numbered_from_the_seeded_one(store: Store) -> None:
    record, replayed = store.create_incident(payload("a"), KEY)
    assert (record.number, record.seq, replayed) == (2, 1, False)
    assert store.counts[("standard", "public")] == 2


def test_a_replay_returns_the_same_incident_and_a_changed_payload_is_refused(store: Store) -> None:
    record, _ = store.create_incident(payload("k", name="One"), KEY)
    again, replayed = store.create_incident(dict(reversed(list(payload("k", name="One").items()))), KEY)
    assert again is record and replayed
    with pytest.raises(ValidationFailed) as caught:
        store.create_incident(payload("k", name="Two"), KEY)
    assert caught.value.code == "idempotency_key_reused"
    assert len(store.incidents) == 2


def test_a_rejected_create_stores_nothing_and_keeps_its_key_free(store: Store) -> None:
    with pytest.raises(ValidationFailed):
        store.create_incident(payload("bad", severity_id="nope"), KEY)
    with pytest.raises(ValidationFailed):
        store.create_incident(payload("bad", incident_type_id=SECURITY), KEY)  # private only
    assert len(store.incidents) == 1 and "bad" not in {k for _, k in store.idempotency.entries}
    record, replayed = store.create_incident(payload("bad"), KEY)
    assert not replayed and record.number == 2


def test_a_new_incident_starts_in_triage(store: Store) -> None:
    record, _ = store.create_incident(payload("t"), KEY)
    assert record.status_id == TRIAGE


# --- finding and editing -----------------------------------------------------------------------------


def test_an_incident_is_found_by_id_or_by_number(store: Store) -> None:
    assert store.find_incident(SEEDED_INCIDENT, False).number == 1
    assert store.find_incident("1", False).id == SEEDED_INCIDENT
    with pytest.raises(NotFound, match="number of its reference"):
        store.find_incident("INC-1", False)


def test_a_private_incident_does_not_exist_without_the_scope(store: Store) -> None:
    record, _ = store.create_incident(payload("p", visibility="private"), KEY)
    assert store.find_incident(record.id, True) is record
    with pytest.raises(NotFound):
        store.find_incident(record.id, False)
    with pytest.raises(NotFound):
        store.edit_incident(record.id, {"incident": {"name": "x"}}, False)


def test_an_edit_changes_only_what_it_sends_and_bumps_the_version(store: Store) -> None:
    record = store.find_incident(SEEDED_INCIDENT, True)
    summary, version = record.summary, record.version
    edited = store.edit_incident(SEEDED_INCIDENT, {"incident": {"name": "Renamed"}}, True)
    assert edited is record and (record.name, record.summary, record.version) == (
        "Renamed",
        summary,
        version + 1,
    )


def test_a_forbidden_status_move_changes_nothing(store: Store) -> None:
    store.edit_incident(SEEDED_INCIDENT, {"incident": {"incident_status_id": LEARNING}}, True)
    record = store.find_incident(SEEDED_INCIDENT, True)
    version = record.version
    with pytest.raises(ValidationFailed) as caught:
        store.edit_incident(
            SEEDED_INCIDENT, {"incident": {"name": "x", "incident_status_id": DECLINED}}, True
        )
    assert caught.value.errors[0]["source"]["field"] == "incident_status_id"
    assert (record.status_id, record.version, record.name) == (
        LEARNING,
        version,
        "Checkout latency above 5 s",
    )
    store.edit_incident(SEEDED_INCIDENT, {"incident": {"incident_status_id": CLOSED}}, True)


# --- rendering -------------------------------------------------------------------------------------


def test_the_rendering_follows_edits_and_settings_writes(store: Store) -> None:
    record = store.find_incident(SEEDED_INCIDENT, True)
    first = store.encoded(record)
    assert store.encoded(record) is first  # cached
    store.edit_incident(SEEDED_INCIDENT, {"incident": {"name": "Renamed"}}, True)
    assert json.loads(store.encoded(record))["name"] == "Renamed"
    store.save_severity({"name": "Big", "description": "d"}, severity_id=MAJOR)
    assert json.loads(store.encoded(record))["severity"]["name"] == "Big"


# --- list pages ------------------------------------------------------------------------------------


def test_a_page_its_cursor_and_the_total(store: Store) -> None:
    made = [store.create_incident(payload(f"l{i}"), KEY)[0] for i in range(5)]
    page, after, total = store.list_incidents(query(page_size=2), private_ok=False)
    assert [r.id for r in page] == [made[4].id, made[3].id] and after == made[3].id and total == 6
    page, after, _ = store.list_incidents(query(page_size=10, after=after), private_ok=False)
    assert [r.id for r in page] == [m.id for m in made[2::-1]] + [SEEDED_INCIDENT] and after is None
    oldest, _, _ = store.list_incidents(query(sort_by="created_at_oldest_first"), private_ok=False)
    assert oldest[0].id == SEEDED_INCIDENT


def test_lists_leave_out_private_and_test_incidents_unless_asked(store: Store) -> None:
    private, _ = store.create_incident(payload("priv", visibility="private"), KEY)
    test, _ = store.create_incident(payload("test", mode="test"), KEY)

    def ids(q: ListQuery, private_ok: bool) -> list[str]:
        return [r.id for r in store.list_incidents(q, private_ok)[0]]

    assert ids(query(), False) == [SEEDED_INCIDENT]
    assert ids(query(), True) == [private.id, SEEDED_INCIDENT]
    assert ids(query(modes=("test",)), True) == [test.id]
    assert store.list_incidents(query(), False)[2] == 1


def test_an_unknown_or_invisible_cursor_is_422(store: Store) -> None:
    private, _ = store.create_incident(payload("priv", visibility="private"), KEY)
    for cursor in ("nope", private.id):
        with pytest.raises(ValidationFailed):
            store.list_incidents(query(after=cursor), private_ok=False)


def test_incident_rules_list_matching_and_the_render_cache_never_see_the_store() -> None:
    """They take a Catalog snapshot; not even a TYPE_CHECKING import of the store."""
    graph = imports.graph()
    for name in (
        "resources.incidents.rules",
        "resources.incidents.listing",
        "resources.incidents.render_cache",
        "engine.catalog",
    ):
        assert "incident_mock.engine.store" not in graph[f"incident_mock.{name}"], name
