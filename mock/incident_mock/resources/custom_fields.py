"""Custom Fields V2 and Custom Field Options V1 (read-only; options are paginated)."""

from __future__ import annotations

from incident_mock.engine.catalog import find
from incident_mock.engine.context import Ctx, Reply


def list_(ctx: Ctx) -> Reply:
    return {"custom_fields": list(ctx.store.catalog.custom_fields.values())}, 200


def show(ctx: Ctx, id: str) -> Reply:
    return {"custom_field": find(ctx.store.catalog.custom_fields, "custom field", id)}, 200


def list_options(ctx: Ctx, custom_field_id: str, page_size: int = 25, after: str | None = None) -> Reply:
    page, next_after = ctx.store.list_options(custom_field_id, page_size, after)
    meta = {"page_size": page_size, **({"after": next_after} if next_after else {})}
    return {"custom_field_options": page, "pagination_meta": meta}, 200
