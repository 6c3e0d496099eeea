"""Incidents V2, the incidents' behaviour module: it serves the operations the incidents' declaration
(x-resources) lists, over `IncidentStore` (storage.py); the rules live there and these only translate.

Incident bodies are assembled from the store's cached JSON of each incident: encoding a 25-incident page
from scratch was most of the cost of a list request. A list walks the incidents in steps (scan.py) and
yields to the event loop between them, so other clients are served while it walks a big store. The
records incidents carry (updates, postmortem documents, ...) and Incidents V1 are served from carried.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from incident_contract.operations import operations
from incident_mock.domain.records import IncidentRecord
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources.incidents import carried, listing
from incident_mock.resources.incidents.storage import IncidentStore

__all__ = ["OPERATIONS", "Events"]


class Events(Protocol):
    """Where the changes an operation makes are announced (kit.webhooks.SandboxWebhooks)."""

    def incident_created(self, store: IncidentStore, record: IncidentRecord) -> None: ...

    def incident_updated(
        self, store: IncidentStore, record: IncidentRecord, previous_status_id: str
    ) -> None: ...


def _store(ctx: Ctx) -> IncidentStore:
    return cast(IncidentStore, ctx.store)


def _events(ctx: Ctx) -> Events:
    return cast(Events, ctx.events)


def _one(ctx: Ctx, record: IncidentRecord) -> bytes:
    return b'{"incident":' + _store(ctx).encoded(record) + b"}"


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
    store = _store(ctx)
    scan = store.scan(query, ctx.private_ok)
    while not scan.step():
        await asyncio.sleep(0)  # let other clients in between steps
    page, next_after, total = scan.result()
    meta: Json = {"page_size": query.page_size, "total_record_count": total}
    if next_after is not None:
        meta["after"] = next_after
    items = b",".join(store.encoded(record) for record in page)
    return b'{"incidents":[' + items + b'],"pagination_meta":' + json.dumps(meta).encode() + b"}", 200


def create(ctx: Ctx, body: Json) -> Reply:
    store = _store(ctx)
    record, replayed = store.create_incident(body, ctx.key)
    if not replayed:  # a replay emits nothing (x-webhooks)
        _events(ctx).incident_created(store, record)
    return _one(ctx, record), 200, ({"Idempotent-Replayed": "true"} if replayed else {})


def show(ctx: Ctx, id: str) -> Reply:
    return _one(ctx, _store(ctx).find_incident(id, ctx.private_ok)), 200


def edit(ctx: Ctx, id: str, body: Json) -> Reply:
    store = _store(ctx)
    before = store.find_incident(id, ctx.private_ok).status_id
    record = store.edit_incident(id, body, ctx.private_ok, ctx.key)
    _events(ctx).incident_updated(store, record, before)
    return _one(ctx, record), 200


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Incidents V2#List": list_,
    "Incidents V2#Create": create,
    "Incidents V2#Show": show,
    "Incidents V2#Edit": edit,
    **carried.OPERATIONS,  # the records incidents carry, and Incidents V1 (carried.py)
}
