"""Status Pages V2 (and V1's response incidents): what a status page publishes.

A status page's structure (x-resources `status_page_structures`, by the status page's id) lists its
components, alone, in groups or on sub-pages; its incidents and maintenances name components of that
structure only. An incident is created with its first update, and every update appends to it: the update's
status becomes the incident's, and its component statuses open, change or end the incident's component
impacts (`operational` ends one, resolving ends them all). A maintenance gets a period per affected
component, and its updates set its status. The shows and the incident's rename are the engine's. An
`idempotency_key` already used on a status page answers what it created, and creates nothing. The response
incidents a status page incident is linked to are the table `status_page_incident_links`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.engine.context import Ctx, Reply
from incident_mock.engine.paging import page
from incident_mock.engine.store import ResourceStore
from incident_mock.resources.automation.saving import Json, at, now, stamp
from incident_mock.resources.incidents.storage import IncidentStore

__all__ = ["OPERATIONS"]

INCIDENTS, MAINTENANCES = "status_page_incidents", "status_page_maintenances"
MAX_UPDATES = 100  # per incident or maintenance


def _status_page(store: ResourceStore, status_page_id: str, field: str) -> None:
    if status_page_id not in store.table("status_pages"):
        raise ValidationFailed.invalid(field, "no such status page")


def _places(store: ResourceStore, status_page_id: str) -> dict[str, tuple[str | None, str | None]]:
    """component id -> (its group's id, its sub-page's id), for every component of the status page."""
    found: dict[str, tuple[str | None, str | None]] = {}

    def walk(items: Iterable[Json], sub_page: str | None) -> None:
        for item in items:
            if "component" in item:
                found[item["component"]["component_id"]] = (None, sub_page)
            if "group" in item:
                for c in item["group"]["components"]:
                    found[c["component_id"]] = (item["group"]["id"], sub_page)
            if "sub_page" in item:
                walk(item["sub_page"]["items"], item["sub_page"]["id"])

    structure = store.table("status_page_structures").get(status_page_id, {"items": []})
    walk(structure["items"], None)
    return found


def _components(store: ResourceStore, status_page_id: str, ids: Iterable[str], field: str) -> None:
    places = _places(store, status_page_id)
    for component_id in ids:
        if component_id not in places:
            raise ValidationFailed.invalid(
                field, f"{component_id[:40]!r} is not a component of the status page"
            )


def _replayed(store: ResourceStore, table: str, body: Json) -> Json | None:
    """The object an earlier create on the same status page made with this idempotency key."""
    for row in store.table(table).values():
        if (
            row["status_page_id"] == body["status_page_id"]
            and row.get("idempotency_key") == body["idempotency_key"]
        ):
            return row
    return None


# --- incidents -----------------------------------------------------------------------------------------
def _apply(incident: Json, status: str, statuses: Sequence[Json], moment: str) -> None:
    """Move an incident to `status` and its component impacts to `statuses`, at `moment`."""
    impacts = [dict(i) for i in incident["component_impacts"]]
    for sent in statuses:
        component, state = sent["component_id"], sent["component_status"]
        open_ = next((i for i in impacts if i["component_id"] == component and "end_at" not in i), None)
        if open_ is not None and open_["component_status"] != state:
            open_["end_at"] = moment
            open_ = None
        if open_ is None and state != "operational":
            impacts.append({"component_id": component, "component_status": state, "start_at": moment})
    if status == "resolved":
        for impact in impacts:
            impact.setdefault("end_at", moment)
    incident["component_impacts"] = impacts
    incident["incident_status"] = status


def _append(store: ResourceStore, incident: Json, sent: Json, moment: str) -> Json:
    """Append an update to `incident` (a copy the caller stores) and apply it; returns the update."""
    if len(incident["updates"]) >= MAX_UPDATES:
        raise ValidationFailed.invalid(
            "status_page_incident_id", f"a status page incident takes at most {MAX_UPDATES} updates"
        )
    statuses = [dict(s) for s in sent.get("component_statuses", [])]
    update = {
        "id": store.ids.ulid(),
        "status_page_incident_id": incident["id"],
        "published_at": moment,
        "message": sent["message"],
        "incident_status": sent.get("incident_status", incident["incident_status"]),
        "component_statuses": statuses,
    }
    incident["updates"] = [*incident["updates"], update]
    _apply(incident, update["incident_status"], statuses, moment)
    return update


def _new_incident(store: ResourceStore, body: Json, moment: str) -> Json:
    return {
        "id": store.ids.ulid(),
        "status_page_id": body["status_page_id"],
        "name": body["name"],
        "published_at": moment,
        "incident_status": "investigating",
        "component_impacts": [],
        "updates": [],
        "idempotency_key": body["idempotency_key"],
    }


def create_incident(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        _status_page(store, body["status_page_id"], "status_page_id")
        _components(
            store,
            body["status_page_id"],
            (s["component_id"] for s in body.get("component_statuses", [])),
            "component_statuses",
        )
        earlier = _replayed(store, INCIDENTS, body)
        if earlier is not None:
            return {"status_page_incident": store.answer(INCIDENTS, earlier)}, 201
        moment = now(store)
        incident = _new_incident(store, body, moment)
        _append(store, incident, body, moment)
        return {"status_page_incident": store.answer(INCIDENTS, store.put(INCIDENTS, incident))}, 201


def create_retrospective_incident(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        _status_page(store, body["status_page_id"], "status_page_id")
        if not body["updates"]:
            raise ValidationFailed.invalid("updates", "a retrospective incident needs at least one update")
        sent = sorted(body["updates"], key=lambda u: at(u["published_at"], "updates"))
        _components(
            store,
            body["status_page_id"],
            (s["component_id"] for u in sent for s in u.get("component_statuses", [])),
            "updates",
        )
        earlier = _replayed(store, INCIDENTS, body)
        if earlier is not None:
            return {"status_page_incident": store.answer(INCIDENTS, earlier)}, 201
        incident = _new_incident(store, body, stamp(sent[0]["published_at"], "updates"))
        for update in sent:
            _append(store, incident, update, stamp(update["published_at"], "updates"))
        return {"status_page_incident": store.answer(INCIDENTS, store.put(INCIDENTS, incident))}, 201


def create_incident_update(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        found = store.table(INCIDENTS).get(body["status_page_incident_id"])
        if found is None:
            raise ValidationFailed.invalid("status_page_incident_id", "no such status page incident")
        _components(
            store,
            found["status_page_id"],
            (s["component_id"] for s in body.get("component_statuses", [])),
            "component_statuses",
        )
        incident = dict(found)
        update = _append(store, incident, body, now(store))
        store.put(INCIDENTS, incident)
        return {"status_page_incident_update": update}, 201


# --- maintenances --------------------------------------------------------------------------------------
def create_maintenance(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        _status_page(store, body["status_page_id"], "status_page_id")
        _components(store, body["status_page_id"], body["affected_component_ids"], "affected_component_ids")
        start, end = stamp(body["start_at"], "start_at"), stamp(body["end_at"], "end_at")
        if at(end, "end_at") <= at(start, "start_at"):
            raise ValidationFailed.invalid("end_at", "a maintenance must end after it starts")
        earlier = _replayed(store, MAINTENANCES, body)
        if earlier is not None:
            return {"status_page_maintenance": store.answer(MAINTENANCES, earlier)}, 201
        moment = now(store)
        status = body["maintenance_status"]
        shown = "under_maintenance" if status == "maintenance_in_progress" else "operational"
        maintenance_id = store.ids.ulid()
        row = {
            "id": maintenance_id,
            "status_page_id": body["status_page_id"],
            "name": body["name"],
            "published_at": moment,
            "maintenance_status": status,
            "automate_maintenance_status": body.get("automate_maintenance_status", False),
            "component_maintenance_periods": [
                {"component_id": c, "start_at": start, "end_at": end} for c in body["affected_component_ids"]
            ],
            "updates": [
                {
                    "id": store.ids.ulid(),
                    "status_page_maintenance_id": maintenance_id,
                    "published_at": moment,
                    "message": body["message"],
                    "maintenance_status": status,
                    "component_statuses": [
                        {"component_id": c, "component_status": shown} for c in body["affected_component_ids"]
                    ],
                }
            ],
            "idempotency_key": body["idempotency_key"],
        }
        return {"status_page_maintenance": store.answer(MAINTENANCES, store.put(MAINTENANCES, row))}, 201


def create_maintenance_update(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        found = store.table(MAINTENANCES).get(body["status_page_maintenance_id"])
        if found is None:
            raise ValidationFailed.invalid("status_page_maintenance_id", "no such status page maintenance")
        if len(found["updates"]) >= MAX_UPDATES:
            raise ValidationFailed.invalid(
                "status_page_maintenance_id", f"a status page maintenance takes at most {MAX_UPDATES} updates"
            )
        statuses = [dict(s) for s in body.get("component_statuses", [])]
        _components(
            store, found["status_page_id"], (s["component_id"] for s in statuses), "component_statuses"
        )
        status = body.get("maintenance_status", found["maintenance_status"])
        update = {
            "id": store.ids.ulid(),
            "status_page_maintenance_id": found["id"],
            "published_at": now(store),
            "message": body["message"],
            "maintenance_status": status,
            "component_statuses": statuses,
        }
        store.put(
            MAINTENANCES,
            {**found, "maintenance_status": status, "updates": [*found["updates"], update]},
        )
        return {"status_page_maintenance_update": update}, 201


# --- lists ---------------------------------------------------------------------------------------------
def _listed(
    ctx: Ctx,
    table: str,
    periods: str,
    status_page_id: str,
    component_id: str | None,
    group_id: str | None,
    sub_page_id: str | None,
    start_at: str | None,
    end_at: str | None,
) -> list[Json]:
    """The objects of one status page that the filters keep, newest first."""
    store = ctx.store
    _status_page(store, status_page_id, "status_page_id")
    places = _places(store, status_page_id)
    wanted: set[str] | None = None
    for name, value, index in (
        ("component_id", component_id, None),
        ("group_id", group_id, 0),
        ("sub_page_id", sub_page_id, 1),
    ):
        if value is None:
            continue
        chosen = {
            c for c, place in places.items() if (c == value if index is None else place[index] == value)
        }
        if not chosen:
            raise ValidationFailed.invalid(name, "not part of the status page")
        wanted = chosen if wanted is None else wanted & chosen
    low = at(start_at, "start_at") if start_at is not None else dt.datetime.min.replace(tzinfo=dt.UTC)
    high = at(end_at, "end_at") if end_at is not None else dt.datetime.max.replace(tzinfo=dt.UTC)
    filtered = wanted is not None or start_at is not None or end_at is not None

    def keep(row: Json) -> bool:
        if not filtered:
            return True
        return any(
            (wanted is None or p["component_id"] in wanted)
            and at(p["start_at"], "start_at") <= high
            and ("end_at" not in p or at(p["end_at"], "end_at") >= low)
            for p in row[periods]
        )

    rows = [
        store.answer(table, r)
        for r in store.table(table).values()
        if r["status_page_id"] == status_page_id and keep(r)
    ]
    rows.sort(key=lambda r: (r["published_at"], r["id"]), reverse=True)
    return rows


def _lister(table: str, periods: str, member: str) -> Callable[..., Reply]:
    """The list of a status page's incidents or maintenances: newest first, kept by component, group, sub
    page and the window their periods overlap."""

    def list_(
        ctx: Ctx,
        status_page_id: str,
        page_size: int,
        component_id: str | None = None,
        group_id: str | None = None,
        sub_page_id: str | None = None,
        start_at: str | None = None,
        end_at: str | None = None,
        after: str | None = None,
    ) -> Reply:
        rows = _listed(
            ctx, table, periods, status_page_id, component_id, group_id, sub_page_id, start_at, end_at
        )
        chosen, meta = page(rows, page_size, after)
        return {member: chosen, "pagination_meta": meta}, 200

    return list_


list_incidents = _lister(INCIDENTS, "component_impacts", "status_page_incidents")
list_maintenances = _lister(MAINTENANCES, "component_maintenance_periods", "status_page_maintenances")


def show_structure(ctx: Ctx, status_page_id: str) -> Reply:
    structure = ctx.store.get("status_page_structures", status_page_id)
    return {
        "current_structure": {"items": structure["items"]},
        "display_uptime_mode": structure.get("display_uptime_mode", "chart_and_percentage"),
        "management_meta": {"annotations": {}, "managed_by": "dashboard"},
    }, 200


def list_response_incidents(ctx: Ctx, id: str, incident_id: str) -> Reply:
    """V1: the organisation's incidents a status page incident is linked to (those the caller may see)."""
    store = ctx.store
    if id not in store.table("status_pages"):
        raise NotFound(f"No status page with id {id[:100]!r}")
    found = store.table(INCIDENTS).get(incident_id)
    if found is None or found["status_page_id"] != id:
        raise NotFound(f"No status page incident with id {incident_id[:100]!r} on this status page")
    links = [
        link
        for link in store.rows("status_page_incident_links")
        if link["status_page_incident_id"] == incident_id
    ]
    if not ctx.private_ok and isinstance(store, IncidentStore):
        records = store.by_id
        links = [
            link
            for link in links
            if link["incident_id"] not in records or records[link["incident_id"]].visibility != "private"
        ]
    return {"incidents": [{"id": link["incident_id"], "linked_at": link["linked_at"]} for link in links]}, 200


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Status Pages V2#CreateStatusPageIncident": create_incident,
    "Status Pages V2#CreateStatusPageRetrospectiveIncident": create_retrospective_incident,
    "Status Pages V2#CreateStatusPageIncidentUpdate": create_incident_update,
    "Status Pages V2#CreateStatusPageMaintenance": create_maintenance,
    "Status Pages V2#CreateStatusPageMaintenanceUpdate": create_maintenance_update,
    "Status Pages V2#ListStatusPageIncidents": list_incidents,
    "Status Pages V2#ListStatusPageMaintenances": list_maintenances,
    "Status Pages V1#ListResponseIncidents": list_response_incidents,
    "Status Pages V2#ShowStatusPageStructure": show_structure,
}
