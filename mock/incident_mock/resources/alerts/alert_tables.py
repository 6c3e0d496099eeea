"""Writing the rows of the tables the alerts path keeps in the store's catalog snapshot.

Alert sources, alerts and alert routes are declared in `x-resources` with no operations of their own: the
engine seeds their tables from the fixtures, checks those against their schemas and answers their objects
(`ResourceStore.answer`), and the handlers here write them. The links between alerts and incidents and the
routes' open groups are tables of this module's own, never answered as they are. Every write replaces the
snapshot, as the engine's do, under the store's lock; the text a client wrote is counted in the sandbox's
budget and a table holds at most its cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incident_mock.domain.limits import capacity_reached, text_bytes
from incident_mock.engine.store import ResourceStore

__all__ = ["INCIDENT_ALERTS", "ROUTE_GROUPS", "drop", "put", "rows_of"]

Json = dict[str, Any]
INCIDENT_ALERTS = "incident_alerts"  # id -> {id, alert_id, incident_id, alert_route_id}
ROUTE_GROUPS = "alert_route_groups"  # id -> {id, route_id, values, incident_id, started_at, last_at}
CAPS = {"alert_sources": "max_rows", "alerts": "max_rows", "alert_routes": "max_rows"}


def rows_of(store: ResourceStore, name: str) -> Mapping[str, Json]:
    """A table, declared or of this module's own (empty until written)."""
    return store.catalog.tables.get(name, {})


def put(store: ResourceStore, name: str, row: Json, text: tuple[Any, ...] = ()) -> Json:
    """Store a new or changed row; `text` is what a client wrote into it (counted in the text budget)."""
    with store.lock:
        table = rows_of(store, name)
        before = table.get(row["id"])
        if before is None:
            limit = getattr(store.limits, CAPS.get(name, "max_rows"))
            if len(table) >= limit:
                raise capacity_reached(name.replace("_", " "), CAPS.get(name, "max_rows"), limit)
        weight = text_bytes(*text)
        store.hold(weight - int(before.get("_text", 0)) if before is not None else weight)
        row["_text"] = weight
        store.catalog = store.catalog.with_table(name, {**table, row["id"]: row})
        return row


def drop(store: ResourceStore, name: str, row_id: str) -> None:
    with store.lock:
        table = rows_of(store, name)
        gone = table.get(row_id)
        if gone is None:
            return
        store.hold(-int(gone.get("_text", 0)))
        store.catalog = store.catalog.with_table(name, {k: v for k, v in table.items() if k != row_id})
