"""MaintenanceWindows V1: the list with its `status` filter, the create, the update and the delete; the show
is the engine's (x-resources `maintenance_windows`).

The lead is a user named by id, email or Slack user id, answered as that user; the incident, when one is
named, must be one the caller may see; a window ends after it starts. Each is a 422 naming its field, and
nothing is stored. Which windows are active, upcoming or past is read from the sandbox's clock; an active
window is deleted only with `force`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.context import Ctx, Reply
from incident_mock.engine.paging import page
from incident_mock.resources.automation.saving import Json, at, incident_id_of, now, stamp, user_of
from incident_mock.resources.automation.workflow_config import binding, condition_groups

__all__ = ["OPERATIONS"]

TABLE = "maintenance_windows"
PLAIN = (
    "name",
    "notification_message",
    "notify_start_minutes_before",
    "notify_end_minutes_before",
    "show_in_sidebar",
    "resolve_on_end",
    "reroute_on_end",
    "owning_team_ids",
)


def _channel(sent: Json) -> Json:
    out: Json = {"channel_id": sent["channel_id"], "channel_type": sent.get("channel_type", "slack")}
    out.update((k, sent[k]) for k in ("channel_name", "is_private") if k in sent)
    return out


def _target(sent: Json) -> Json:
    return {k: binding(sent[k]) for k in ("escalation_paths", "users") if k in sent}


def build(ctx: Ctx, body: Json, current: Json | None) -> Json:
    """The stored window from a create or update body (an update replaces what it sends)."""
    store = ctx.store
    start, end = at(body["start_at"], "start_at"), at(body["end_at"], "end_at")
    if end <= start:
        raise ValidationFailed.invalid("end_at", "a maintenance window must end after it starts")
    moment = now(store)
    row: Json = (
        dict(current)
        if current is not None
        else {"id": store.ids.ulid(), "created_at": moment, "resolve_on_end": False, "reroute_on_end": False}
    )
    row.update((k, body[k]) for k in PLAIN if k in body)
    row["lead"] = {"user": user_of(store, body["lead"], "lead")}
    row["start_at"], row["end_at"] = stamp(body["start_at"], "start_at"), stamp(body["end_at"], "end_at")
    row["alert_condition_groups"] = condition_groups(body["alert_condition_groups"])
    if "notify_channels" in body:
        row["notify_channels"] = [_channel(c) for c in body["notify_channels"]]
    if "escalation_targets" in body:
        row["escalation_targets"] = [_target(t) for t in body["escalation_targets"]]
    if body.get("incident_id") is not None:
        row["incident_id"] = incident_id_of(ctx, body["incident_id"], "incident_id")
    row["updated_at"] = moment
    return row


def _state(row: Json, moment: Any) -> str:
    if moment < at(row["start_at"], "start_at"):
        return "upcoming"
    return "active" if moment < at(row["end_at"], "end_at") else "past"


def list_(ctx: Ctx, page_size: int, after: str | None = None, status: str | None = None) -> Reply:
    moment = ctx.store.clock.now()
    rows = sorted(ctx.store.rows(TABLE), key=lambda r: (r["start_at"], r["id"]))
    if status is not None:
        rows = [r for r in rows if _state(r, moment) == status]
    chosen, meta = page(rows, page_size, after)
    return {"maintenance_windows": [ctx.store.answer(TABLE, r) for r in chosen], "pagination_meta": meta}, 200


def delete(ctx: Ctx, id: str, force: bool = False) -> Reply:
    """Deletes a window; an active one only with `force` (which ends it at once)."""
    store = ctx.store
    with store.lock:
        if not force and _state(store.get(TABLE, id), store.clock.now()) == "active":
            raise ValidationFailed.invalid(
                "force", "the maintenance window is active; send force=true to end it"
            )
        store.delete(TABLE, id)
    return None, 204


def create(ctx: Ctx, body: Json) -> Reply:
    return {"maintenance_window": ctx.store.answer(TABLE, ctx.store.put(TABLE, build(ctx, body, None)))}, 201


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    with ctx.store.lock:
        current = ctx.store.get(TABLE, id)
        return {
            "maintenance_window": ctx.store.answer(TABLE, ctx.store.put(TABLE, build(ctx, body, current)))
        }, 200


OPERATIONS: dict[str, Callable[..., Any]] = {
    "MaintenanceWindows V1#List": list_,
    "MaintenanceWindows V1#Create": create,
    "MaintenanceWindows V1#Update": update,
    "MaintenanceWindows V1#Delete": delete,
}
