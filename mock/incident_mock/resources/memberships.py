"""Incident Memberships V1 over the engine's `incident_memberships` table: granting a user a private
incident and revoking it, announced by `private_incident.membership_granted_v1` and `..._revoked_v1`.

Memberships are for people. What an API key sees still follows its `incidents.view_private` scope: a key
without it cannot name a private incident here either (422 on `incident_id`, as for one that does not
exist). Upstream's operation is for private incidents; a public incident is open to everyone already, so
a membership of one is kept and answered but announces nothing (only private incidents have membership
events).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.records import IncidentRecord
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources import incident_scoped as scoped

__all__ = ["EVENTS", "OPERATIONS"]

NAME = "incident_memberships"
# the events it announces (x-webhooks): only private incidents have them
EVENTS = frozenset({"private_incident.membership_granted_v1", "private_incident.membership_revoked_v1"})


def _membership(ctx: Ctx, incident_id: str, user_id: str) -> Json | None:
    rows = scoped.store(ctx).listing(NAME, {"incident_id": incident_id, "user_id": user_id})[0]
    return rows[0] if rows else None


def _announce(ctx: Ctx, incident: IncidentRecord, change: str, user_id: str) -> None:
    if incident.visibility == "private" and ctx.events is not None:
        ctx.events.announce(
            f"private_incident.membership_{change}_v1", {"incident_id": incident.id, "user_id": user_id}
        )


def _checked(ctx: Ctx, body: Json) -> IncidentRecord:
    incident = scoped.checked_incident(ctx, body["incident_id"])
    if not scoped.store(ctx).holds("users", body["user_id"]):
        raise ValidationFailed.invalid("user_id", "no such user")
    return incident


def create(ctx: Ctx, body: Json) -> Reply:
    store = scoped.store(ctx)
    with store.lock:
        incident = _checked(ctx, body)
        row = _membership(ctx, incident.id, body["user_id"])
        if row is None:
            row = store.create(NAME, {"incident_id": incident.id, "user_id": body["user_id"]})
            _announce(ctx, incident, "granted", body["user_id"])
    return {"incident_membership": store.answer(NAME, row)}, 201


def revoke(ctx: Ctx, body: Json) -> Reply:
    store = scoped.store(ctx)
    with store.lock:
        incident = _checked(ctx, body)
        row = _membership(ctx, incident.id, body["user_id"])
        if row is not None:
            store.delete(NAME, row["id"])
            _announce(ctx, incident, "revoked", body["user_id"])
    return None, 204


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Incident Memberships V1#Create": create,
    "Incident Memberships V1#Revoke": revoke,
}
