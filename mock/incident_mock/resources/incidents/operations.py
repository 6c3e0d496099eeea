"""Incidents V2: the rules live in the store; these only translate.

Incident bodies are assembled from the store's cached JSON of each incident: encoding a 25-incident page
from scratch was most of the cost of a list request. A list walks the incidents in steps (scan.py) and
yields to the event loop between them, so other clients are served while it walks a big store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from incident_contract.operations import operations
from incident_mock.domain.records import IncidentRecord
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources.incidents import listing


def _one(ctx: Ctx, record: IncidentRecord) -> bytes:
    return b'{"incident":' + ctx.store.encoded(record) + b"}"


async def list_(
    ctx: Ctx,
    page_size: int,
    sort_by: str,
    filter_mode: str,
    after: str | None = None,
    query_pairs: Sequence[tuple[str, str]] = (),
) -> Reply:
    """The plain parameters arrive checked; the filters are read from the query's pairs, as the validator
    split them."""
    scalars = {"page_size": page_size, "sort_by": sort_by, "filter_mode": filter_mode, "after": after}
    params = operations(ctx.spec)["Incidents V2#List"].parameters
    query = listing.parse(query_pairs, params, scalars)
    scan = ctx.store.scan(query, ctx.private_ok)
    while not scan.step():
        await asyncio.sleep(0)  # let other clients in between steps
    page, next_after, total = scan.result()
    meta: Json = {"page_size": query.page_size, "total_record_count": total}
    if next_after is not None:
        meta["after"] = next_after
    items = b",".join(ctx.store.encoded(record) for record in page)
    return b'{"incidents":[' + items + b'],"pagination_meta":' + json.dumps(meta).encode() + b"}", 200


def create(ctx: Ctx, body: Json) -> Reply:
    record, replayed = ctx.store.create_incident(body, ctx.key)
    if not replayed:  # a replay emits nothing (x-webhooks)
        ctx.events.incident_created(ctx.store, record)
    return _one(ctx, record), 200, ({"Idempotent-Replayed": "true"} if replayed else {})


def show(ctx: Ctx, id: str) -> Reply:
    return _one(ctx, ctx.store.find_incident(id, ctx.private_ok)), 200


def edit(ctx: Ctx, id: str, body: Json) -> Reply:
    before = ctx.store.find_incident(id, ctx.private_ok).status_id
    record = ctx.store.edit_incident(id, body, ctx.private_ok)
    ctx.events.incident_updated(ctx.store, record, before)
    return _one(ctx, record), 200
