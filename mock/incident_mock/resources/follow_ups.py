"""Follow-ups V2 over the engine's `follow_ups` table, with what their declaration cannot say: the
visibility of their incident (incident_scoped.py), the list's incident mode, `completed_at` following the
status, linking an existing issue (`actions/connect_external_issue`), and their events, in version 2's
shape and version 1's (an action with `follow_up` true)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.records import timestamp
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources import incident_scoped as scoped

__all__ = ["EVENTS", "OPERATIONS", "completion", "issue_name", "updated"]

NAME = "follow_ups"
# the events it announces (x-webhooks)
EVENTS = frozenset(
    f"{visibility}_incident.follow_up_{change}_{version}"
    for visibility in ("public", "private")
    for change in ("created", "updated")
    for version in ("v1", "v2")
)
LINKED = "the follow-up is already linked to an external issue"


def completion(ctx: Ctx, row: Json, status: str | None) -> dict[str, str | None]:
    """`completed_at` after a status change: set on moving to `completed`, cleared on moving away."""
    if status is None or status == row.get("status"):
        return {}
    if status == "deleted":
        raise ValidationFailed.invalid("status", "delete the object instead of setting `deleted`")
    return {"completed_at": timestamp(scoped.store(ctx).clock.now()) if status == "completed" else None}


def updated(ctx: Ctx, name: str, id: str, body: Json) -> Json:
    """Update a follow-up or an action the key may see, with `completed_at` following its status."""
    store = scoped.store(ctx)
    with store.lock:
        completed = completion(ctx, scoped.shown(ctx, name, id), body.get("status"))
        row = store.update(name, id, body)
        return store.amend(name, id, completed) if completed else row


def as_action_v1(ctx: Ctx, row: Json) -> Json:
    """A follow-up as version 1 showed it: an action marked `follow_up`, its title as the description."""
    answered = scoped.store(ctx).answer("actions_v1", {**row, "description": row["title"]})
    return {**answered, "follow_up": True}


def _announce(ctx: Ctx, change: str, row: Json, answered: Json) -> None:
    incident = scoped.store(ctx).by_id[row["incident_id"]]
    scoped.announce(ctx, incident, f"follow_up_{change}_v2", row, answered)
    scoped.announce(ctx, incident, f"follow_up_{change}_v1", row, as_action_v1(ctx, row))


def list_(
    ctx: Ctx,
    incident_id: str | None = None,
    incident_mode: str | None = None,
    assignee_team_id: str | None = None,
) -> Reply:
    store = scoped.store(ctx)
    if incident_id is not None:
        scoped.checked_incident(ctx, incident_id)
    chosen = {"assignee_team_id": assignee_team_id} if assignee_team_id is not None else {}
    rows = store.listing(NAME, chosen)[0]
    kept = scoped.visible(ctx, rows, scoped.list_modes(incident_id, incident_mode), incident_id)
    return {"follow_ups": [store.answer(NAME, r) for r in kept]}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    store = scoped.store(ctx)
    scoped.checked_incident(ctx, body["incident_id"])
    row = store.create(NAME, body, actor=scoped.actor(ctx))
    answered = store.answer(NAME, row)
    _announce(ctx, "created", row, answered)
    return {"follow_up": answered}, 201


def show(ctx: Ctx, id: str) -> Reply:
    return {"follow_up": scoped.store(ctx).answer(NAME, scoped.shown(ctx, NAME, id))}, 200


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    row = updated(ctx, NAME, id, body)
    answered = scoped.store(ctx).answer(NAME, row)
    _announce(ctx, "updated", row, answered)
    return {"follow_up": answered}, 200


def delete(ctx: Ctx, id: str) -> Reply:
    store = scoped.store(ctx)
    with store.lock:
        current = scoped.shown(ctx, NAME, id)
        if "external_issue_reference" in current:  # its text was counted when it was linked
            store.amend(NAME, id, {"external_issue_reference": None})
        store.delete(NAME, id)
    return None, 204


def issue_name(url: str) -> str:
    """What a tracker calls an issue, read from its URL: the last segment of the path (`PAY-88` in
    `https://linear.app/example/issue/PAY-88`), else the whole URL."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return segments[-1] if segments else url


def connect_external_issue(ctx: Ctx, id: str, body: Json) -> Reply:
    store = scoped.store(ctx)
    with store.lock:
        current = scoped.shown(ctx, NAME, id)
        if "external_issue_reference" in current:
            raise ValidationFailed.invalid("id", LINKED)
        url = body["url"]
        reference = {"provider": body["provider"], "issue_name": issue_name(url), "issue_permalink": url}
        store.amend(NAME, id, {"external_issue_reference": reference})
        # the write is an update: `updated_at` moves as the declaration's `touched` says
        row = store.update(NAME, id, {})
    answered = store.answer(NAME, row)
    _announce(ctx, "updated", row, answered)
    return {"follow_up": answered}, 200


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Follow-ups V2#List": list_,
    "Follow-ups V2#Create": create,
    "Follow-ups V2#Show": show,
    "Follow-ups V2#Update": update,
    "Follow-ups V2#Delete": delete,
    "Follow-ups V2#ConnectExternalIssue": connect_external_issue,
}
