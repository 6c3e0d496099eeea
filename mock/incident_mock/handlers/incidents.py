"""Incidents V2: the rules live in the store; these only translate.

Incident bodies are assembled from the store's cached JSON of each incident: encoding a 25-incident page
from scratch was most of the cost of a list request.
"""

from __future__ import annotations

import json

from incident_contract.document import resolved_parameters

from incident_mock.handlers.context import Ctx, Json, Reply
from incident_mock.listing import parse_query
from incident_mock.records import IncidentRecord


def _one(ctx: Ctx, record: IncidentRecord) -> bytes:
    return b'{"incident":' + ctx.store.encoded(record) + b"}"


def list_(ctx: Ctx) -> Reply:
    query = parse_query(ctx.query_string, resolved_parameters(ctx.spec, "Incidents V2#List"))
    page, after, total = ctx.store.list_incidents(query, ctx.caller.private_ok)
    meta: Json = {"page_size": query.page_size, "total_record_count": total}
    if after is not None:
        meta["after"] = after
    items = b",".join(ctx.store.encoded(record) for record in page)
    return b'{"incidents":[' + items + b'],"pagination_meta":' + json.dumps(meta).encode() + b"}", 200


def create(ctx: Ctx, body: Json) -> Reply:
    record, replayed = ctx.store.create_incident(body, ctx.caller.key)
    return _one(ctx, record), 200, ({"Idempotent-Replayed": "true"} if replayed else {})


def show(ctx: Ctx, id: str) -> Reply:
    return _one(ctx, ctx.store.find_incident(id, ctx.caller.private_ok)), 200


def edit(ctx: Ctx, id: str, body: Json) -> Reply:
    return _one(ctx, ctx.store.edit_incident(id, body, ctx.caller.private_ok)), 200
