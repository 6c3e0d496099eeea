"""Incidents V2: the rules live in the store; these only translate."""

from __future__ import annotations

from mock.contract import resolved_parameters
from mock.handlers.context import Ctx, Json, Reply
from mock.listing import parse_query


def list_(ctx: Ctx) -> Reply:
    query = parse_query(ctx.query_string, resolved_parameters(ctx.spec, "Incidents V2#List"))
    page, after, total = ctx.store.list_incidents(query, ctx.caller.private_ok)
    meta: Json = {"page_size": query.page_size, "total_record_count": total}
    if after is not None:
        meta["after"] = after
    return {"incidents": page, "pagination_meta": meta}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    incident, replayed = ctx.store.create_incident(body, ctx.caller.key)
    return {"incident": incident}, 200, ({"Idempotent-Replayed": "true"} if replayed else {})


def show(ctx: Ctx, id: str) -> Reply:
    return {"incident": ctx.store.show_incident(id, ctx.caller.private_ok)}, 200


def edit(ctx: Ctx, id: str, body: Json) -> Reply:
    return {"incident": ctx.store.edit_incident(id, body, ctx.caller.private_ok)}, 200
