"""Actions V2 over the engine's `actions` table, and the deprecated Actions V1 over the same table (the
`actions_v1` view): the visibility of their incident (incident_scoped.py), the list's incident mode,
`completed_at` following the status, and their events, in version 1's shape as upstream sends them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources import incident_scoped as scoped
from incident_mock.resources.follow_ups import updated

__all__ = ["EVENTS", "OPERATIONS"]

NAME, V1 = "actions", "actions_v1"
# the events it announces (x-webhooks)
EVENTS = frozenset(
    f"{visibility}_incident.action_{change}_v1"
    for visibility in ("public", "private")
    for change in ("created", "updated")
)


def _announce(ctx: Ctx, change: str, row: Json) -> None:
    incident = scoped.store(ctx).by_id[row["incident_id"]]
    scoped.announce(ctx, incident, f"action_{change}_v1", row, scoped.store(ctx).answer(V1, row))


def _listed(ctx: Ctx, incident_id: str | None, incident_mode: str | None) -> list[Json]:
    if incident_id is not None:
        scoped.checked_incident(ctx, incident_id)
    rows = scoped.store(ctx).rows(NAME)
    return scoped.visible(ctx, rows, scoped.list_modes(incident_id, incident_mode), incident_id)


def list_(ctx: Ctx, incident_id: str | None = None, incident_mode: str | None = None) -> Reply:
    store = scoped.store(ctx)
    return {"actions": [store.answer(NAME, r) for r in _listed(ctx, incident_id, incident_mode)]}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    store = scoped.store(ctx)
    scoped.checked_incident(ctx, body["incident_id"])
    row = store.create(NAME, body, actor=scoped.actor(ctx))
    _announce(ctx, "created", row)
    return {"action": store.answer(NAME, row)}, 201


def show(ctx: Ctx, id: str) -> Reply:
    return {"action": scoped.store(ctx).answer(NAME, scoped.shown(ctx, NAME, id))}, 200


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    row = updated(ctx, NAME, id, body)
    _announce(ctx, "updated", row)
    return {"action": scoped.store(ctx).answer(NAME, row)}, 200


def delete(ctx: Ctx, id: str) -> Reply:
    scoped.delete(ctx, NAME, id)
    return None, 204


def list_v1(
    ctx: Ctx,
    incident_id: str | None = None,
    is_follow_up: bool | None = None,
    incident_mode: str | None = None,
) -> Reply:
    """Version 1's list: every action here is an action, not a follow-up (`follow_up` false)."""
    store = scoped.store(ctx)
    rows = _listed(ctx, incident_id, incident_mode)
    if is_follow_up:
        rows = []
    return {"actions": [store.answer(V1, r) for r in rows]}, 200


def show_v1(ctx: Ctx, id: str) -> Reply:
    return {"action": scoped.store(ctx).answer(V1, scoped.shown(ctx, V1, id))}, 200


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Actions V2#List": list_,
    "Actions V2#Create": create,
    "Actions V2#Show": show,
    "Actions V2#Update": update,
    "Actions V2#Delete": delete,
    "Actions V1#List": list_v1,
    "Actions V1#Show": show_v1,
}
