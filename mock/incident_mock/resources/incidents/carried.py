"""The records incidents carry, served by the incidents' behaviour module: incident updates,
relationships, participants and their workload, postmortem documents, and the deprecated Incidents V1.

Every record is seen exactly as its incident is: for a key without `incidents.view_private`, the records
of private incidents are left out of lists, and naming a private incident (a path id, an `incident_id`
filter or body field) is answered as for an incident that does not exist (404 for a path, 422 naming the
field otherwise).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from incident_contract.query import Filter, ListQuery
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.records import IncidentRecord, timestamp
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources.incidents import postmortems, v1
from incident_mock.resources.incidents.history import KINDS, UpdateRecord
from incident_mock.resources.incidents.storage import IncidentStore

__all__ = ["OPERATIONS", "RecordEvents"]

RELATIONSHIPS = "incident_relationships"


class RecordEvents(Protocol):
    """Where these operations announce changes (kit.webhooks.SandboxWebhooks)."""

    def incident_created(self, store: IncidentStore, record: IncidentRecord) -> None: ...

    def announce(self, event_type: str, payload: Json) -> None: ...


def _store(ctx: Ctx) -> IncidentStore:
    return cast(IncidentStore, ctx.store)


def _events(ctx: Ctx) -> RecordEvents:
    return cast(RecordEvents, ctx.events)


def _named(store: IncidentStore, ref: str, private_ok: bool, field: str = "incident_id") -> IncidentRecord:
    """The incident a query parameter or body field names: 422 naming the field when it is unknown or
    hidden from the caller."""
    try:
        return store.find_incident(ref, private_ok)
    except NotFound:
        raise ValidationFailed.invalid(field, "names no incident") from None


def _seen(store: IncidentStore, incident_id: str, private_ok: bool) -> IncidentRecord | None:
    record = store.by_id.get(incident_id)
    if record is None or (record.visibility == "private" and not private_ok):
        return None
    return record


def _meta(page_size: int, after: str | None, **more: Any) -> Json:
    return {"page_size": page_size, **more, **({"after": after} if after is not None else {})}


# --- incident updates -------------------------------------------------------------------------------
def updates_list(ctx: Ctx, page_size: int, incident_id: str | None = None, after: str | None = None) -> Reply:
    """Newest first; `after` is the id of an update the previous page listed."""
    store, private_ok = _store(ctx), ctx.private_ok
    with store.lock:
        named = _named(store, incident_id, private_ok).id if incident_id is not None else None
        rows = store.history.updates_of(named)

        def shown(update: UpdateRecord) -> bool:
            return private_ok or store.by_id[update.incident_id].visibility == "public"

        index = len(rows)
        if after is not None:
            at = store.history.position.get(after)
            if named is not None:
                at = next((i for i, u in enumerate(rows) if u.id == after), None)
            if at is None or not shown(rows[at]):
                raise ValidationFailed.invalid("after", "unknown cursor")
            index = at
        page: list[UpdateRecord] = []
        more = False
        for i in range(index - 1, -1, -1):
            if shown(rows[i]):
                if len(page) == page_size:
                    more = True
                    break
                page.append(rows[i])
        items = [u.render() for u in page]
    return {
        "incident_updates": items,
        "pagination_meta": _meta(page_size, page[-1].id if more else None),
    }, 200


# --- relationships ----------------------------------------------------------------------------------
def relationships_list(ctx: Ctx, incident_id: str, page_size: int, after: str | None = None) -> Reply:
    """Both sides: a relationship between A and B is listed for A naming B and for B naming A."""
    store, private_ok = _store(ctx), ctx.private_ok
    incident = _named(store, incident_id, private_ok)
    found: list[Json] = []
    for row in store.table(RELATIONSHIPS).values():
        ends = (row["incident_id"], row["related_incident_id"])
        if incident.id not in ends or ends[0] == ends[1]:
            continue
        other = _seen(store, ends[1] if ends[0] == incident.id else ends[0], private_ok)
        if other is not None:
            found.append(
                {
                    "id": row["id"],
                    "incident": {"id": other.id, "name": other.name, "external_id": other.number},
                }
            )
    page, next_after = postmortems.listing(found, "created_at_oldest_first", page_size, after)
    return {"incident_relationships": page, "pagination_meta": _meta(page_size, next_after)}, 200


# --- participants and workloads ---------------------------------------------------------------------
def _people(ctx: Ctx, incident_id: str) -> tuple[IncidentStore, list[tuple[Json, Any]]]:
    store = _store(ctx)
    incident = _named(store, incident_id, ctx.private_ok)
    users = store.catalog.users
    with store.lock:
        stints = store.history.people(incident.id, incident.roles, incident.created_at)
        return store, [(users[u], s) for u, s in stints.items() if u in users]


def participants_list(ctx: Ctx, incident_id: str) -> Reply:
    """People holding a role are active responders; people who held one and hold none now, passive
    observers."""
    _, people = _people(ctx, incident_id)
    active = [{"user": user, "participant_type": "responder"} for user, s in people if s.since is not None]
    passive = [{"user": user, "participant_type": "observer"} for user, s in people if s.since is None]
    return {"incident_participants": {"active": active, "passive": passive}}, 200


def workloads_list(ctx: Ctx, incident_id: str) -> Reply:
    """Each participant's minutes on the incident up to now (the sandbox clock), split by hour of day."""
    store, people = _people(ctx, incident_id)
    moment = store.clock.now()
    found = []
    for user, stint in people:
        totals = stint.totals(moment)
        entry: Json = {
            "user": user,
            "participant_type": "responder" if stint.since is not None else "observer",
            "workload": {
                "minutes_spent_on_incident": round(sum(totals.values()), 3),
                **{f"minutes_spent_on_incident_in_{k}_hours": round(totals[k], 3) for k in KINDS},
            },
        }
        if stint.since is None and stint.left_at is not None:
            entry["archived_at"] = timestamp(stint.left_at)
        found.append(entry)
    return {"incident_participant_workloads": found, "metadata": {"data_synced_at": timestamp(moment)}}, 200


# --- postmortem documents ---------------------------------------------------------------------------
def _document(ctx: Ctx, id: str) -> tuple[IncidentStore, Json, IncidentRecord]:
    store = _store(ctx)
    row = postmortems.find(store, store.by_id.get, id, ctx.private_ok)
    return store, row, store.by_id[row["incident_id"]]


def postmortems_list(
    ctx: Ctx,
    page_size: int,
    sort_by: str,
    after: str | None = None,
    incident_id: str | None = None,
) -> Reply:
    store, private_ok = _store(ctx), ctx.private_ok
    named = _named(store, incident_id, private_ok).id if incident_id is not None else None
    rows = [
        r
        for r in store.table(postmortems.TABLE).values()
        if (named is None or r["incident_id"] == named) and _seen(store, r["incident_id"], private_ok)
    ]
    page, next_after = postmortems.listing(rows, sort_by, page_size, after)
    items = [postmortems.answer(r) for r in page]
    return {"postmortem_documents": items, "pagination_meta": _meta(page_size, next_after)}, 200


def postmortems_attach(ctx: Ctx, body: Json) -> Reply:
    store = _store(ctx)
    incident = _named(store, body["incident_id"], ctx.private_ok)
    return {"postmortem_document": postmortems.answer(postmortems.attach(store, incident, body))}, 201


def postmortems_show(ctx: Ctx, id: str) -> Reply:
    _, row, _ = _document(ctx, id)
    return {"postmortem_document": postmortems.answer(row)}, 200


def postmortems_update_status(ctx: Ctx, id: str, body: Json) -> Reply:
    """A move to another status emits `<visibility>_incident.postmortem_document_status_updated_v1`."""
    store, row, incident = _document(ctx, id)
    previous = row["status"]
    if body["status"] != previous:
        with store.lock:
            row = {**row, "status": body["status"], "updated_at": timestamp(store.clock.now())}
            postmortems.save(store, row)
        event = store.resources[postmortems.TABLE].webhooks["update"]  # as x-resources declares it
        _events(ctx).announce(*_status_event(event, incident, row, previous))
    return {"postmortem_document": postmortems.answer(row)}, 200


def _status_event(event: str, incident: IncidentRecord, row: Json, previous: str) -> tuple[str, Json]:
    event = event.format(visibility=incident.visibility)
    if incident.visibility == "private":
        payload: Json = {"id": row["id"]}
    else:
        payload = {
            "postmortem_document": postmortems.answer(row),
            "previous_status": postmortems.EVENT_STATUS[previous],
            "new_status": postmortems.EVENT_STATUS[row["status"]],
        }
    return event, payload


def postmortems_show_content(ctx: Ctx, id: str) -> Reply:
    _, row, incident = _document(ctx, id)
    return {"markdown": postmortems.content(row, incident)}, 200


def import_postmortem_document(ctx: Ctx, id: str, body: Json) -> Reply:
    store = _store(ctx)
    incident = store.find_incident(id, ctx.private_ok)
    base = store.catalog.organisation["dashboard_url"]
    document_id = store.ids.ulid()
    fields = {"id": document_id, "title": body["title"], "type": "in_app", "markdown": body["content"]}
    fields["document_url"] = f"{base}/incidents/{incident.number}/postmortem/{document_id}"
    row = postmortems.start(store, incident, fields)
    return {"postmortem_document": postmortems.answer(row)}, 201


# --- Incidents V1 -----------------------------------------------------------------------------------
async def incidents_v1_list(
    ctx: Ctx, page_size: int, after: str | None = None, query_pairs: Sequence[tuple[str, str]] = ()
) -> Reply:
    """Newest first, as the V2 list; `status`, repeated for several, keeps the incidents answered with one
    of those statuses (the validator checked the first value, this checks the rest)."""
    status = {value for key, value in query_pairs if key == "status"}
    if not status <= set(v1.STATUSES):
        raise ValidationFailed.invalid("status", f"must be one of {', '.join(v1.STATUSES)}")
    store = _store(ctx)
    query = ListQuery(page_size, "created_at_newest_first", "all", after)
    if status:
        ids = v1.status_ids(store.catalog, status)
        if not ids:
            meta = _meta(page_size, None, total_record_count=0)
            return {"incidents": [], "pagination_meta": meta}, 200
        query.filters.append(Filter("status", "one_of", tuple(ids)))
    scan = store.scan(query, ctx.private_ok)
    while not scan.step():
        await asyncio.sleep(0)  # let other clients in between steps
    page, next_after, total = scan.result()
    catalog = store.catalog
    items = [v1.render(catalog, record) for record in page]
    return {
        "incidents": items,
        "pagination_meta": _meta(page_size, next_after, total_record_count=total),
    }, 200


def incidents_v1_create(ctx: Ctx, body: Json) -> Reply:
    """The V2 create's rules, idempotency keys and events, from the V2 payload the V1 body stands for."""
    store = _store(ctx)
    record, replayed = store.create_incident(v1.to_v2_payload(store.catalog, body), ctx.key)
    if not replayed:
        _events(ctx).incident_created(store, record)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return {"incident": v1.render(store.catalog, record)}, 200, headers


def incidents_v1_show(ctx: Ctx, id: str) -> Reply:
    store = _store(ctx)
    return {"incident": v1.render(store.catalog, store.find_incident(id, ctx.private_ok))}, 200


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Incident Updates V2#List": updates_list,
    "Incident Relationships V1#List": relationships_list,
    "IncidentParticipants V2#List": participants_list,
    "IncidentParticipantWorkloads V2#List": workloads_list,
    "PostmortemDocuments V1#List": postmortems_list,
    "PostmortemDocuments V1#Attach": postmortems_attach,
    "PostmortemDocuments V1#Show": postmortems_show,
    "PostmortemDocuments V1#UpdateStatus": postmortems_update_status,
    "PostmortemDocuments V1#ShowContent": postmortems_show_content,
    "Incidents V2#ImportPostmortemDocument": import_postmortem_document,
    "Incidents V1#List": incidents_v1_list,
    "Incidents V1#Create": incidents_v1_create,
    "Incidents V1#Show": incidents_v1_show,
}
