"""Read-only settings: incident types, statuses, custom fields and their options, incident roles."""

from __future__ import annotations

from mock.handlers.context import Ctx, Reply


def list_incident_types(ctx: Ctx) -> Reply:
    return {"incident_types": list(ctx.store.types.values())}, 200


def show_incident_type(ctx: Ctx, id: str) -> Reply:
    return {"incident_type": ctx.store.get(ctx.store.types, "incident type", id)}, 200


def list_incident_statuses(ctx: Ctx) -> Reply:
    ordered = sorted(ctx.store.statuses.values(), key=lambda s: s["rank"])
    return {"incident_statuses": ordered}, 200


def show_incident_status(ctx: Ctx, id: str) -> Reply:
    return {"incident_status": ctx.store.get(ctx.store.statuses, "incident status", id)}, 200


def list_custom_fields(ctx: Ctx) -> Reply:
    return {"custom_fields": list(ctx.store.custom_fields.values())}, 200


def show_custom_field(ctx: Ctx, id: str) -> Reply:
    return {"custom_field": ctx.store.get(ctx.store.custom_fields, "custom field", id)}, 200


def list_custom_field_options(
    ctx: Ctx, custom_field_id: str, page_size: int = 25, after: str | None = None
) -> Reply:
    page, next_after = ctx.store.list_options(custom_field_id, page_size, after)
    meta = {"page_size": page_size, **({"after": next_after} if next_after else {})}
    return {"custom_field_options": page, "pagination_meta": meta}, 200


def list_incident_roles(ctx: Ctx) -> Reply:
    return {"incident_roles": list(ctx.store.roles.values())}, 200


def show_incident_role(ctx: Ctx, id: str) -> Reply:
    return {"incident_role": ctx.store.get(ctx.store.roles, "incident role", id)}, 200
