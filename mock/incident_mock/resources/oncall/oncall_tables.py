"""Writing the on-call tables: the rows the behaviour builds whole (schedules, overrides, replicas, sync rules
and targets, escalations) go into the engine's tables as they are, under the declared caps and counted
against the sandbox's text budget; people named by reference are looked up in the users' table.

The engine writes only the fields a declared create or update body names, and these resources' bodies are
wrapped (`{"schedule": {...}}`) or resolved first, so the behaviour stores the finished row itself. Each
row keeps the text it counted in `held_text` (never answered: answers hold the schema's properties only),
and deleting it gives exactly that back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from incident_mock.domain.clock import EARLIEST, LATEST
from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.limits import text_bytes
from incident_mock.domain.records import timestamp
from incident_mock.engine.store import ResourceStore

__all__ = ["HELD", "drop", "moment", "person", "put", "stamp"]

Json = dict[str, Any]
HELD = "held_text"


def put(store: ResourceStore, name: str, row: Json) -> Json:
    """Store a whole row (a new one, or one replacing the row with its id); 422 past the resource's cap."""
    return store.put(name, {**row, HELD: text_bytes(row)}, weigh=lambda held: int(held.get(HELD, 0)))


def remove(store: ResourceStore, name: str, object_id: str, fixed: Mapping[str, str] | None = None) -> None:
    """Delete one object: 404 when there is none (or, with `fixed`, when it is another parent's)."""
    with store.lock:
        store.get(name, object_id, fixed)
        drop(store, {name: [object_id]})


def drop(store: ResourceStore, gone: Mapping[str, Iterable[str]]) -> None:
    """Delete rows, resource name -> ids, in one write; each gives back the text it counted."""
    with store.lock:
        changed: dict[str, dict[str, Json]] = {}
        freed = 0
        for name, ids in gone.items():
            table = dict(changed.get(store.resources[name].table, store.table(name)))
            for object_id in ids:
                row = table.pop(object_id, None)
                if row is not None:
                    freed += int(row.get(HELD, 0))
            changed[store.resources[name].table] = table
        store.hold(-freed)
        store.catalog = store.catalog.with_tables(changed.items())


def stamp(store: ResourceStore) -> str:
    return timestamp(store.clock.now())


def moment(value: Any, field: str) -> dt.datetime:
    """A date-time a client sent, as an aware UTC datetime between the years the sandbox clock may show;
    422 naming the field otherwise."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValidationFailed.invalid(field, "is not an RFC 3339 date-time") from None
    else:
        raise ValidationFailed.invalid(field, "is not an RFC 3339 date-time")
    if parsed.tzinfo is None:
        raise ValidationFailed.invalid(field, "has no timezone offset")
    try:
        found = parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationFailed.invalid(field, "is out of range") from None
    if not EARLIEST <= found < LATEST:  # room for a schedule's window and handovers either side
        raise ValidationFailed.invalid(field, f"must be between {EARLIEST.year} and {LATEST.year}")
    return found


def person(store: ResourceStore, ref: Any, field: str) -> Json:
    """The user a reference names by `id`, `email` or `slack_user_id`, as a UserV2; 422 naming the field."""
    if not isinstance(ref, dict) or not any(ref.get(k) for k in ("id", "email", "slack_user_id")):
        raise ValidationFailed.invalid(field, "must name a user by id, email or slack_user_id")
    users = store.table("users")
    found = users.get(ref["id"]) if ref.get("id") else None
    if found is None and ref.get("email"):
        wanted = str(ref["email"]).casefold()
        found = next((u for u in users.values() if str(u.get("email", "")).casefold() == wanted), None)
    if found is None and ref.get("slack_user_id"):
        found = next((u for u in users.values() if u.get("slack_user_id") == ref["slack_user_id"]), None)
    if found is None:
        raise ValidationFailed.invalid(field, "names no user of the organisation")
    return store.answer("users", found)
