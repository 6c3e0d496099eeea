"""Catalog V3, the deprecated Catalog V2 over the same tables, and Teams V3 (the team type's entries).

Every write checks what its type's schema allows (schema_rules.py) and goes through `Tables` (tables.py); v2
answers are the v3 rows translated (versions.py). The v3 type list and show are the engine's, from the
catalog types' declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.engine import paging
from incident_mock.engine.context import Ctx, Reply
from incident_mock.resources.service_catalog import schema_rules as rules
from incident_mock.resources.service_catalog.tables import ENTRIES, Tables
from incident_mock.resources.service_catalog.versions import (
    entry_v2,
    mode_from_v2,
    resource_v2,
    static_resources,
    type_v2,
)

__all__ = ["OPERATIONS"]

Json = dict[str, Any]
TYPE_DEFAULTS: Json = {
    "annotations": {},
    "categories": [],
    "color": "yellow",
    "icon": "box",
    "ranked": False,
    "use_name_as_identifier": False,
    "owning_team_ids": [],
}
# the fields an update of a type may change (name and description are required in its body)
TYPE_UPDATABLE = (
    "name",
    "description",
    "annotations",
    "categories",
    "color",
    "icon",
    "ranked",
    "source_repo_url",
    "use_name_as_identifier",
    "owning_team_ids",
)


def _tables(ctx: Ctx) -> Tables:
    return Tables(ctx.store)


def _known_type(tables: Tables, type_id: str) -> Json:
    """The type a body or query names, or 422 on `catalog_type_id`."""
    try:
        return tables.type(type_id)
    except NotFound:
        raise ValidationFailed.invalid("catalog_type_id", "no such catalog type") from None


def _check_teams(tables: Tables, body: Json) -> None:
    team = rules.team_type(tables)
    for i, team_id in enumerate(body.get("owning_team_ids") or ()):
        if team is None or not any(e["id"] == team_id for e in tables.entries_of(team["id"])):
            raise ValidationFailed.invalid("owning_team_ids", "no such team", f"/owning_team_ids/{i}")


# --- types ---------------------------------------------------------------------------------------------
def _create_type(ctx: Ctx, body: Json) -> Json:
    tables = _tables(ctx)
    with ctx.store.lock:
        type_id, now = tables.new_id(), tables.now()
        type_name = body.get("type_name") or rules.default_type_name(body["name"])
        rules.check_type_name(tables, type_name)
        _check_teams(tables, body)
        row: Json = {
            **TYPE_DEFAULTS,
            **{k: v for k, v in body.items() if k in TYPE_UPDATABLE},
            "id": type_id,
            "type_name": type_name,
            "engine_resource_type": f'CatalogEntry["{type_id}"]',
            "is_editable": True,
            "is_team_type": False,
            "schema": {"version": 1, "attributes": []},
            "created_at": now,
            "updated_at": now,
        }
        tables.put("catalog_types", [row])
        return row


def _update_type(ctx: Ctx, id: str, body: Json) -> Json:
    tables = _tables(ctx)
    with ctx.store.lock:
        row = tables.type(id)
        _check_teams(tables, body)
        row = {**row, **{k: v for k, v in body.items() if k in TYPE_UPDATABLE}, "updated_at": tables.now()}
        tables.put("catalog_types", [row])
        return row


def _update_schema(ctx: Ctx, id: str, body: Json) -> Json:
    tables = _tables(ctx)
    with ctx.store.lock:
        row = tables.type(id)
        kinds = {r["type"] for r in static_resources(ctx.spec)}
        schema, changes = rules.new_schema(tables, row, body, kinds)
        row = {**row, "schema": schema, "updated_at": tables.now()}
        entries = [
            {**e, "attribute_values": rules.kept_values(e["attribute_values"], changes)}
            for e in tables.entries_of(id)
        ]
        tables.put("catalog_types", [row])
        tables.put(ENTRIES, entries)
        return row


def create_type(ctx: Ctx, body: Json) -> Reply:
    return {"catalog_type": _create_type(ctx, body)}, 201


def update_type(ctx: Ctx, id: str, body: Json) -> Reply:
    return {"catalog_type": _update_type(ctx, id, body)}, 200


def destroy_type(ctx: Ctx, id: str) -> Reply:
    _tables(ctx).delete_type(id)
    return None, 204


def update_type_schema(ctx: Ctx, id: str, body: Json) -> Reply:
    return {"catalog_type": _update_schema(ctx, id, body)}, 200


def list_types_v2(ctx: Ctx) -> Reply:
    return {"catalog_types": [type_v2(t) for t in _tables(ctx).types()]}, 200


def show_type_v2(ctx: Ctx, id: str) -> Reply:
    return {"catalog_type": type_v2(_tables(ctx).type(id))}, 200


def create_type_v2(ctx: Ctx, body: Json) -> Reply:
    return {"catalog_type": type_v2(_create_type(ctx, body))}, 201


def update_type_v2(ctx: Ctx, id: str, body: Json) -> Reply:
    return {"catalog_type": type_v2(_update_type(ctx, id, body))}, 200


def update_type_schema_v2(ctx: Ctx, id: str, body: Json) -> Reply:
    attributes = [{**a, "mode": mode_from_v2(a.get("mode"))} for a in body["attributes"]]
    return {"catalog_type": type_v2(_update_schema(ctx, id, {**body, "attributes": attributes}))}, 200


# --- entries -------------------------------------------------------------------------------------------
def _page(
    tables: Tables, catalog_type_id: str, page_size: int, after: str | None, identifier: str | None
) -> tuple[Json, list[Json], Json]:
    catalog_type = _known_type(tables, catalog_type_id)
    rows = tables.entries_of(catalog_type_id)
    if identifier is not None:
        rows = [e for e in rows if rules.identifies(catalog_type, e, identifier)]
    found, meta = paging.page(rows, page_size, after, total_record_count=len(rows))
    return catalog_type, found, meta


def _check_external_id(tables: Tables, type_id: str, external_id: str | None, own_id: str | None) -> None:
    if external_id is not None and any(
        e.get("external_id") == external_id and e["id"] != own_id for e in tables.entries_of(type_id)
    ):
        raise ValidationFailed.invalid("external_id", "another entry of this catalog type has it")


def _create_entry(ctx: Ctx, body: Json) -> Json:
    """A new entry; one whose external id an entry of its type already has updates that entry instead."""
    tables = _tables(ctx)
    with ctx.store.lock:
        catalog_type = _known_type(tables, body["catalog_type_id"])
        values = rules.resolve_values(tables, catalog_type, body["attribute_values"])
        now = tables.now()
        same = next(
            (
                e
                for e in tables.entries_of(catalog_type["id"])
                if body.get("external_id") is not None and e.get("external_id") == body["external_id"]
            ),
            None,
        )
        row: Json = {
            "id": same["id"] if same else tables.new_id(),
            "catalog_type_id": catalog_type["id"],
            "name": body["name"],
            "aliases": list(body.get("aliases") or []),
            "rank": body.get("rank", 0),
            "attribute_values": values,
            "created_at": same["created_at"] if same else now,
            "updated_at": now,
        }
        if body.get("external_id") is not None:
            row["external_id"] = body["external_id"]
        tables.put(ENTRIES, [row])
        return row


def _apply(tables: Tables, catalog_type: Json, entry: Json, body: Json, keep_rank: bool) -> Json:
    """An entry after an update body: name, aliases and external id kept when left out; `rank` kept when
    left out (`keep_rank`) or set to 0; the values replaced, or with `update_attributes` only those
    attributes (one listed but not sent loses its value)."""
    values = rules.resolve_values(tables, catalog_type, body["attribute_values"])
    chosen = body.get("update_attributes")
    if chosen is not None:
        attributes = {a["id"] for a in catalog_type["schema"]["attributes"]}
        for i, attribute_id in enumerate(chosen):
            if attribute_id not in attributes:
                raise ValidationFailed.invalid(
                    "update_attributes",
                    f"the catalog type has no attribute {attribute_id!r}",
                    f"/update_attributes/{i}",
                )
        merged = {k: v for k, v in entry["attribute_values"].items() if k not in chosen}
        merged.update((k, v) for k, v in values.items() if k in chosen)
        values = merged
    _check_external_id(tables, catalog_type["id"], body.get("external_id"), entry["id"])
    row = {
        **entry,
        "name": body.get("name", entry["name"]),
        "aliases": list(body["aliases"]) if body.get("aliases") is not None else entry["aliases"],
        "rank": body["rank"] if body.get("rank") is not None else (entry["rank"] if keep_rank else 0),
        "attribute_values": values,
        "updated_at": tables.now(),
    }
    if body.get("external_id") is not None:
        row["external_id"] = body["external_id"]
    return row


def _update_entry(ctx: Ctx, id: str, body: Json) -> tuple[Json, Json]:
    tables = _tables(ctx)
    with ctx.store.lock:
        entry = tables.entry(id)
        catalog_type = tables.type(entry["catalog_type_id"])
        row = _apply(tables, catalog_type, entry, body, keep_rank=True)
        tables.put(ENTRIES, [row])
        return catalog_type, row


def list_entries(
    ctx: Ctx, catalog_type_id: str, page_size: int, after: str | None = None, identifier: str | None = None
) -> Reply:
    catalog_type, page, meta = _page(_tables(ctx), catalog_type_id, page_size, after, identifier)
    return {"catalog_entries": page, "catalog_type": catalog_type, "pagination_meta": meta}, 200


def create_entry(ctx: Ctx, body: Json) -> Reply:
    return {"catalog_entry": _create_entry(ctx, body)}, 201


def show_entry(ctx: Ctx, id: str) -> Reply:
    tables = _tables(ctx)
    entry = tables.entry(id)
    return {"catalog_entry": entry, "catalog_type": tables.type(entry["catalog_type_id"])}, 200


def update_entry(ctx: Ctx, id: str, body: Json) -> Reply:
    catalog_type, row = _update_entry(ctx, id, body)
    return {"catalog_entry": row, "catalog_type": catalog_type}, 200


def destroy_entry(ctx: Ctx, id: str) -> Reply:
    _tables(ctx).delete_entry(id)
    return None, 204


def bulk_update_entries(ctx: Ctx, body: Json) -> Reply:
    """Every entry of the body updated, or none: each must be an entry of `catalog_type_id`, at most once."""
    tables = _tables(ctx)
    with ctx.store.lock:
        catalog_type = _known_type(tables, body["catalog_type_id"])
        rows: list[Json] = []
        seen: set[str] = set()
        for i, item in enumerate(body["entries"]):
            entry_id = item["entry_id"]
            pointer = f"/entries/{i}/entry_id"
            if entry_id in seen:
                raise ValidationFailed.invalid("entry_id", "this entry is listed twice", pointer)
            seen.add(entry_id)
            try:
                entry = tables.entry_of(catalog_type["id"], entry_id)
            except NotFound:
                raise ValidationFailed.invalid("entry_id", "no entry of this catalog type", pointer) from None
            update = {**item, "update_attributes": body.get("update_attributes")}
            try:
                rows.append(_apply(tables, catalog_type, entry, update, keep_rank=False))
            except ValidationFailed as exc:
                for error in exc.errors:
                    if "source" in error:
                        error["source"]["pointer"] = f"/entries/{i}" + error["source"]["pointer"]
                raise
        clash = _duplicate_external_id(rows, tables.entries_of(catalog_type["id"]))
        if clash is not None:
            raise ValidationFailed.invalid("external_id", "two entries of this catalog type would share it")
        tables.put(ENTRIES, rows)
    return None, 204


def _duplicate_external_id(rows: list[Json], current: list[Json]) -> str | None:
    final = {e["id"]: e for e in current} | {r["id"]: r for r in rows}
    seen: set[str] = set()
    for entry in final.values():
        external_id = entry.get("external_id")
        if external_id is not None:
            if external_id in seen:
                return str(external_id)
            seen.add(external_id)
    return None


def list_resources(ctx: Ctx) -> Reply:
    return {"resources": static_resources(ctx.spec)}, 200


def list_entries_v2(ctx: Ctx, catalog_type_id: str, page_size: int, after: str | None = None) -> Reply:
    tables = _tables(ctx)
    catalog_type, page, meta = _page(tables, catalog_type_id, page_size, after, None)
    meta.pop("total_record_count")
    entries = ctx.store.table(ENTRIES)
    return {
        "catalog_entries": [entry_v2(e, entries) for e in page],
        "catalog_type": type_v2(catalog_type),
        "pagination_meta": meta,
    }, 200


def create_entry_v2(ctx: Ctx, body: Json) -> Reply:
    row = _create_entry(ctx, body)
    return {"catalog_entry": entry_v2(row, ctx.store.table(ENTRIES))}, 201


def show_entry_v2(ctx: Ctx, id: str) -> Reply:
    tables = _tables(ctx)
    entry = tables.entry(id)
    return {
        "catalog_entry": entry_v2(entry, ctx.store.table(ENTRIES)),
        "catalog_type": type_v2(tables.type(entry["catalog_type_id"])),
    }, 200


def update_entry_v2(ctx: Ctx, id: str, body: Json) -> Reply:
    catalog_type, row = _update_entry(ctx, id, body)
    return {
        "catalog_entry": entry_v2(row, ctx.store.table(ENTRIES)),
        "catalog_type": type_v2(catalog_type),
    }, 200


def list_resources_v2(ctx: Ctx) -> Reply:
    return {"resources": [resource_v2(r) for r in static_resources(ctx.spec)]}, 200


# --- teams ---------------------------------------------------------------------------------------------
def _team(tables: Tables, team_type: Json, entry: Json) -> Json:
    """A team from an entry of the team type: its members are the users its first `User` attribute names."""
    members_attribute = next(
        (a["id"] for a in team_type["schema"]["attributes"] if a["type"] == "User"), None
    )
    binding = entry["attribute_values"].get(members_attribute, {}) if members_attribute else {}
    literals = [v["literal"] for v in binding.get("array_value", [])] + (
        [binding["value"]["literal"]] if binding.get("value") else []
    )
    users = tables.store.catalog.users
    members = [
        {k: users[u][k] for k in ("id", "name", "email", "slack_user_id") if k in users[u]}
        for u in literals
        if u in users
    ]
    slim = {k: entry[k] for k in ("id", "name", "external_id") if k in entry}
    return {"id": entry["id"], "name": entry["name"], "catalog_entry": slim, "members": members}


def list_teams(ctx: Ctx, page_size: int, after: str | None = None) -> Reply:
    tables = _tables(ctx)
    team_type = rules.team_type(tables)
    rows = sorted(tables.entries_of(team_type["id"]), key=lambda e: (e["name"], e["id"])) if team_type else []
    found, meta = paging.page(rows, page_size, after)
    teams = [_team(tables, team_type, e) for e in found] if team_type else []
    return {"teams": teams, "pagination_meta": meta}, 200


def show_team(ctx: Ctx, id: str) -> Reply:
    tables = _tables(ctx)
    team_type = rules.team_type(tables)
    if team_type is None:
        raise NotFound(errors.NOT_FOUND.format(kind="team", id=id))
    try:
        entry = tables.entry_of(team_type["id"], id)
    except NotFound:
        raise NotFound(errors.NOT_FOUND.format(kind="team", id=id)) from None
    return {"team": _team(tables, team_type, entry)}, 200


OPERATIONS: dict[str, Callable[..., Reply]] = {
    "Catalog V3#CreateType": create_type,
    "Catalog V3#UpdateType": update_type,
    "Catalog V3#DestroyType": destroy_type,
    "Catalog V3#UpdateTypeSchema": update_type_schema,
    "Catalog V3#ListEntries": list_entries,
    "Catalog V3#CreateEntry": create_entry,
    "Catalog V3#ShowEntry": show_entry,
    "Catalog V3#UpdateEntry": update_entry,
    "Catalog V3#DestroyEntry": destroy_entry,
    "Catalog V3#BulkUpdateEntries": bulk_update_entries,
    "Catalog V3#ListResources": list_resources,
    "Catalog V2#ListTypes": list_types_v2,
    "Catalog V2#ShowType": show_type_v2,
    "Catalog V2#CreateType": create_type_v2,
    "Catalog V2#UpdateType": update_type_v2,
    "Catalog V2#DestroyType": destroy_type,
    "Catalog V2#UpdateTypeSchema": update_type_schema_v2,
    "Catalog V2#ListEntries": list_entries_v2,
    "Catalog V2#CreateEntry": create_entry_v2,
    "Catalog V2#ShowEntry": show_entry_v2,
    "Catalog V2#UpdateEntry": update_entry_v2,
    "Catalog V2#DestroyEntry": destroy_entry,
    "Catalog V2#ListResources": list_resources_v2,
    "Teams V3#List": list_teams,
    "Teams V3#Show": show_team,
}
