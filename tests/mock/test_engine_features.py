"""The declaration keys a resource of the wider API needs, each shown on the throw-away widgets contract
(tests/widgets.py) with no Python written for the widgets: `defaults`, the `actor` and `version` fills,
answers held to the schema (`blank`), `embeds`, a `table` shared by a second version, path parents and
`webhooks`."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from incident_contract.resources import declared
from incident_mock.app import DEFAULT_FIXTURES
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.records import ApiKey
from incident_mock.engine.context import Ctx
from incident_mock.engine.serving import serve
from incident_mock.engine.store import ResourceStore, Rules
from incident_mock.resources.organisation import BEHAVIOURS
from tests.mock.seed import MAJOR, MINOR
from tests.widgets import CREATE, DELETE, SHOW, UPDATE, widget_spec

Json = dict[str, Any]
ADA = "01JGZ0VSER000000000000ADA0"
EVENT = "{visibility}_incident.incident_created_v2"  # any event of x-webhooks with both visibilities


def _spec() -> Json:
    """Widgets grown with what the new keys act on, and a deprecated "v0" sharing their objects."""
    spec = widget_spec(
        defaults={"colour": "blue"},
        fills={
            "id": "id",
            "created_at": "now",
            "updated_at": "touched",
            "version": "version",
            "creator": "actor",
        },
        embeds={"owner": {"from": "owner_id", "resource": "users"}},
        references={
            "severity_id": {"resource": "severities", "on_delete": "refuse"},
            "owner_id": {"resource": "users", "on_delete": "refuse"},
        },
        webhooks={"create": EVENT},
    )
    schemas = spec["components"]["schemas"]
    widget = schemas["WidgetV1"]
    widget["properties"].update(
        colour={"type": "string", "enum": ["red", "blue"]},
        version={"type": "integer"},
        creator={"type": "object"},
        owner={"$ref": "#/components/schemas/UserV2"},
        incident_id={"type": "string"},
    )
    widget["required"] += ["colour", "version", "creator"]
    schemas["WidgetPayloadV1"]["properties"].update(
        colour={"type": "string", "enum": ["red", "blue"]},
        owner_id={"type": "string"},
        incident_id={"type": "string"},
    )
    schemas["WidgetV0"] = {
        "type": "object",
        "description": "A widget, as the deprecated version answers it.",
        "required": ["id", "name", "legacy"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "legacy": {"type": "boolean"}},
    }
    spec["x-resources"]["widgets_v0"] = {
        "kind": "widget",
        "schema": "WidgetV0",
        "table": "widgets",
        "envelope": {"one": "widget", "many": "widgets"},
    }
    return spec


@pytest.fixture(scope="module")
def spec() -> Json:
    return _spec()


@pytest.fixture
def store(spec: Json) -> ResourceStore:
    fixtures = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    return ResourceStore(fixtures, Rules.from_spec(spec))


ACTOR = {"api_key": {"id": "K1", "name": "Key one"}}


def test_defaults_fill_what_a_create_leaves_out_and_never_what_it_sets(store: ResourceStore) -> None:
    plain = store.create("widgets", {"name": "Plain", "severity_id": MINOR})
    red = store.create("widgets", {"name": "Red", "severity_id": MINOR, "colour": "red"})
    assert (plain["colour"], red["colour"]) == ("blue", "red")
    kept = store.update("widgets", red["id"], {"name": "Still red"})
    assert kept["colour"] == "red"  # an update does not bring the default back


def test_version_counts_writes_and_actor_records_the_creator(store: ResourceStore) -> None:
    made = store.create("widgets", {"name": "W", "severity_id": MINOR}, actor=ACTOR)
    assert (made["version"], made["creator"]) == (1, ACTOR)
    other = {"api_key": {"id": "K2", "name": "Key two"}}
    again = store.update("widgets", made["id"], {"name": "W2"}, actor=other)
    assert (again["version"], again["creator"]) == (2, ACTOR)  # the creator stays who created it


def test_an_answer_holds_the_schema_properties_and_its_embeds(store: ResourceStore) -> None:
    made = store.create("widgets", {"name": "Owned", "severity_id": MINOR, "owner_id": ADA})
    assert made["owner_id"] == ADA  # stored, for the reference and the embed
    answered = store.answer("widgets", made)
    assert "owner_id" not in answered  # not a property of WidgetV1
    assert answered["owner"]["id"] == ADA and answered["owner"]["name"] == "Ada Lovelace"
    unowned = store.answer("widgets", store.create("widgets", {"name": "Nobody's", "severity_id": MINOR}))
    assert "owner" not in unowned


def test_an_unknown_embedded_reference_is_422_naming_its_field(store: ResourceStore) -> None:
    with pytest.raises(ValidationFailed) as caught:
        store.create("widgets", {"name": "Ghost", "severity_id": MINOR, "owner_id": "01NOBODY"})
    assert caught.value.errors[0]["source"]["field"] == "owner_id"


def test_a_view_shares_the_objects_and_answers_in_its_own_schema(store: ResourceStore) -> None:
    made = store.create("widgets", {"name": "Shared", "severity_id": MAJOR})
    seen = store.answer("widgets_v0", store.get("widgets_v0", made["id"]))
    assert seen == {"id": made["id"], "name": "Shared", "legacy": False}  # `legacy`: the schema's least value
    store.update("widgets_v0", made["id"], {"name": "Renamed through v0"})
    assert store.get("widgets", made["id"])["name"] == "Renamed through v0"
    store.delete("widgets_v0", made["id"])
    with pytest.raises(NotFound):
        store.get("widgets", made["id"])


def test_a_path_parent_scopes_show_update_and_delete(store: ResourceStore) -> None:
    made = store.create("widgets", {"name": "Child", "severity_id": MINOR})
    assert store.get("widgets", made["id"], {"severity_id": MINOR})["id"] == made["id"]
    for attempt in (
        lambda: store.get("widgets", made["id"], {"severity_id": MAJOR}),
        lambda: store.update("widgets", made["id"], {"name": "X"}, fixed={"severity_id": MAJOR}),
        lambda: store.delete("widgets", made["id"], {"severity_id": MAJOR}),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert store.get("widgets", made["id"])["name"] == "Child"


class Announced:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Json]] = []

    def announce(self, event_type: str, payload: Json) -> None:
        self.sent.append((event_type, payload))


class PrivateIncidents(ResourceStore):
    """A store that knows one private incident, as the incidents' behaviour answers `visibility_of`."""

    def visibility_of(self, incident_id: str) -> str | None:
        return "private" if incident_id == "PRIVATE" else None


def test_the_declared_event_is_sent_with_the_answer_or_only_the_id_when_private(spec: Json) -> None:
    handlers = serve(spec, BEHAVIOURS)
    fixtures = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    store = PrivateIncidents(fixtures, Rules.from_spec(spec))
    events = Announced()
    ctx = Ctx(store, ApiKey("K1", "t", "Key one", ("viewer",)), frozenset(), events, spec)
    public, _ = handlers[CREATE](ctx, body={"name": "Loud", "severity_id": MINOR})
    private, _ = handlers[CREATE](ctx, body={"name": "Quiet", "severity_id": MINOR, "incident_id": "PRIVATE"})
    assert events.sent == [
        ("public_incident.incident_created_v2", public["widget"]),
        ("private_incident.incident_created_v2", {"id": private["widget"]["id"]}),
    ]
    assert public["widget"]["creator"] == {"api_key": {"id": "K1", "name": "Key one"}}
    handlers[UPDATE](ctx, id=public["widget"]["id"], body={"name": "Louder"})
    handlers[DELETE](ctx, id=public["widget"]["id"])
    assert len(events.sent) == 2  # no event declared for update or delete
    with pytest.raises(NotFound):
        handlers[SHOW](ctx, id=public["widget"]["id"])


def test_a_declaration_naming_an_event_the_contract_lacks_is_refused() -> None:
    spec = _spec()
    spec["x-resources"]["widgets"]["webhooks"] = {"create": "widget.exploded_v1"}
    with pytest.raises(ValueError, match=r"widget\.exploded_v1"):
        declared(spec)


def test_stores_built_from_one_fixtures_document_share_its_tables_until_one_writes(spec: Json) -> None:
    """A sandbox is cheap to create whatever the fixtures hold: its tables are the template's own objects,
    and a write makes that sandbox its own next table without touching the others'."""
    fixtures = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    rules = Rules.from_spec(spec)
    first, second = ResourceStore(fixtures, rules), ResourceStore(fixtures, rules)
    assert first.table("severities") is second.table("severities")
    assert first.text == second.text > 0
    first.create("severities", {"name": "Cosmetic", "description": "Looks wrong."})
    assert len(first.table("severities")) == len(second.table("severities")) + 1
    assert "Cosmetic" not in {s["name"] for s in second.rows("severities")}
