"""What the automation behaviours share: writing a whole object into a declared resource's table, one page
of a list, reading times, and resolving users and incidents.

The engine's `ResourceStore.create` and `update` write only the fields a declared create or update body
names; the automation resources answer shapes their bodies do not have (a workflow's trigger is sent as a
name and answered as an object; a status page incident gains updates), so their behaviours build the whole
object and `put` stores it under the store's lock, with the resource's cap and its text counted as the
engine counts it (`ResourceStore.weight`), so a later delete by the engine gives back exactly that.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.records import timestamp
from incident_mock.engine.context import Ctx
from incident_mock.engine.store import ResourceStore
from incident_mock.resources.incidents.storage import IncidentStore

__all__ = ["Json", "at", "incident_id_of", "now", "stamp", "user_of"]

Json = dict[str, Any]


def at(value: str, field: str) -> dt.datetime:
    """An RFC 3339 date-time as an aware datetime; anything else is 422 naming `field`."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.invalid(field, "not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise ValidationFailed.invalid(field, "a date-time needs its offset (Z or +hh:mm)")
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:00:00-02:00 is in year 10000
        raise ValidationFailed.invalid(field, "out of the range of dates (years 1 to 9999, in UTC)") from None


def stamp(value: str, field: str) -> str:
    """A client's date-time, as the contract writes them (UTC, microseconds, Z; a year before 1000 with
    its four digits, which strftime leaves out)."""
    return at(value, field).isoformat(timespec="microseconds").replace("+00:00", "Z")


def now(store: ResourceStore) -> str:
    return timestamp(store.clock.now())


def user_of(store: ResourceStore, ref: Json, field: str) -> Json:
    """The user a UserReferencePayloadV2 names (by id, email or Slack user id); 422 on `field` otherwise."""
    for user in store.catalog.users.values():
        if any(
            ref.get(k) is not None and ref.get(k) == user.get(k) for k in ("id", "email", "slack_user_id")
        ):
            return dict(user)
    raise ValidationFailed.invalid(field, "no such user")


def incident_id_of(ctx: Ctx, ref: str, field: str) -> str:
    """The id of the incident `ref` names (its id or number), as the caller may see it; 422 on `field`
    for one it may not see or that does not exist."""
    store = ctx.store
    if not isinstance(store, IncidentStore):
        raise ValidationFailed.invalid(field, "no such incident")
    try:
        return store.find_incident(ref, ctx.private_ok).id
    except NotFound:
        raise ValidationFailed.invalid(field, "no such incident") from None
