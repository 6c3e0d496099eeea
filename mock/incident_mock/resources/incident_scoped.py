"""What the objects that belong to an incident (follow-ups, actions, attachments, memberships) share: they
are as visible as their incident.

Their declarations (x-resources, `storage: engine`) keep them in the engine's tables, and the engine's
store applies what they declare (fills, defaults, references, embeds, caps, the text budget). The
behaviour modules serving them add what a declaration cannot say, with these helpers:
- an `incident_id` a client sends must name an incident the key may see: a private incident is, for a key
  without `incidents.view_private`, an incident that does not exist (422 on `incident_id`);
- an object of a private incident is, for such a key, an object that does not exist (404), and lists
  leave it out;
- a list without an incident or a mode keeps the objects of `standard` and `retrospective` incidents, as
  upstream's lists of follow-ups and actions do;
- events are announced as `public_incident.*` or `private_incident.*` after the incident, a private
  incident's message carrying the object's id only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.records import IncidentRecord
from incident_mock.engine.context import Ctx, Json
from incident_mock.resources.incidents.storage import IncidentStore

__all__ = [
    "LISTED_MODES",
    "actor",
    "announce",
    "checked_incident",
    "incident_of",
    "list_modes",
    "shown",
    "store",
    "visible",
]

# the incident modes a list keeps when it names neither an incident nor a mode
LISTED_MODES = frozenset({"standard", "retrospective"})


def store(ctx: Ctx) -> IncidentStore:
    return cast(IncidentStore, ctx.store)


def actor(ctx: Ctx) -> Json:
    """The calling API key, as the actor that created an object."""
    return {"api_key": {"id": ctx.key.id, "name": ctx.key.name}}


def incident_of(ctx: Ctx, row: Json) -> IncidentRecord | None:
    """The incident an object belongs to, if the caller may see it."""
    record = store(ctx).by_id.get(row.get("incident_id", ""))
    if record is None or (record.visibility == "private" and not ctx.private_ok):
        return None
    return record


def checked_incident(ctx: Ctx, incident_id: str) -> IncidentRecord:
    """The incident a body or a filter names; 422 on `incident_id` for one the caller cannot see."""
    record = incident_of(ctx, {"incident_id": incident_id})
    if record is None:
        raise ValidationFailed.invalid("incident_id", "no such incident")
    return record


def shown(ctx: Ctx, name: str, object_id: str) -> Json:
    """The stored object with this id; 404 when there is none or its incident is hidden from the caller."""
    row = store(ctx).get(name, object_id)
    if incident_of(ctx, row) is None:
        kind = store(ctx).resources[name].kind
        raise NotFound(errors.NOT_FOUND.format(kind=kind, id=errors.shortened(object_id)))
    return row


def delete(ctx: Ctx, name: str, object_id: str) -> None:
    """Delete an object of an incident the caller may see; 404 as `shown`."""
    with store(ctx).lock:
        shown(ctx, name, object_id)
        store(ctx).delete(name, object_id)


def visible(
    ctx: Ctx, rows: Iterable[Json], modes: frozenset[str] | None, incident_id: str | None = None
) -> list[Json]:
    """The objects whose incident the caller may see, of an incident in one of `modes` (None: any mode).

    `incident_id`, when given, has been checked, and its objects are kept whatever the default modes."""
    kept = []
    for row in rows:
        record = incident_of(ctx, row)
        if record is None or (incident_id is not None and record.id != incident_id):
            continue
        if modes is not None and record.mode not in modes:
            continue
        kept.append(row)
    return kept


def list_modes(incident_id: str | None, incident_mode: str | None) -> frozenset[str] | None:
    """The incident modes a list keeps: the one asked for; without one, every mode for one incident's
    objects and `LISTED_MODES` otherwise."""
    if incident_mode is not None:
        return frozenset({incident_mode})
    return None if incident_id is not None else LISTED_MODES


def announce(ctx: Ctx, incident: IncidentRecord, change: str, row: Json, payload: Json) -> None:
    """Send `<visibility>_incident.<change>` for an object of this incident: the payload for a public
    incident, the object's id only for a private one."""
    if ctx.events is None:
        return
    if incident.visibility == "private":
        ctx.events.announce(f"private_incident.{change}", {"id": row["id"]})
    else:
        ctx.events.announce(f"public_incident.{change}", payload)
