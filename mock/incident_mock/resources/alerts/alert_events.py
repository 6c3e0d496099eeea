"""Alert Events V2 and Heartbeat V2: what a monitoring tool sends, authenticated by its source's token
(the HTTP path's authentication stage has found the source's sandbox before these run).

An event with `status: firing` creates an alert, or updates the firing alert of the same source and
deduplication key; `status: resolved` resolves that alert. A handler runs to its end without awaiting, so
events sent at once are applied one after the other and two with one key never make two alerts. A new alert
sends `alert_created_v1` and is offered to the alert routes (routing.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from incident_mock.domain import errors
from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.records import timestamp
from incident_mock.engine.context import Ctx, Reply
from incident_mock.engine.store import ResourceStore
from incident_mock.resources.alerts import alert_tables as tables
from incident_mock.resources.alerts import routing
from incident_mock.resources.alerts.sources import source, text_of

__all__ = ["EVENTS", "OPERATIONS", "announce", "resolve"]

Json = dict[str, Any]
ACCEPTED = "Event accepted for processing"
METADATA = "alert.metadata."
# the events this module announces (x-webhooks)
EVENTS = frozenset(f"{v}_alert.alert_{c}_v1" for v in ("public", "private") for c in ("created", "resolved"))


def announce(ctx: Ctx, alert: Json, change: str) -> None:
    """`alert_created_v1` or `alert_resolved_v1`: the alert as answered, or its id for a private source."""
    if ctx.events is None:
        return
    if alert.get("private"):
        ctx.events.announce(f"private_alert.alert_{change}_v1", {"id": alert["id"]})
    else:
        ctx.events.announce(f"public_alert.alert_{change}_v1", ctx.store.answer("alerts", alert))


def _literal(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def attributes_of(store: ResourceStore, origin: Json, metadata: Json) -> list[Json]:
    """The alert attributes an event's metadata sets: the key the source's template binds to an attribute
    (`alert.metadata.<key>`), else the key named as the attribute (ignoring case)."""
    bound = {}
    for entry in (origin.get("template") or {}).get("attributes", []):
        reference = ((entry.get("binding") or {}).get("value") or {}).get("reference") or ""
        if reference.startswith(METADATA):
            bound[entry["alert_attribute_id"]] = reference.removeprefix(METADATA)
    folded = {str(k).casefold(): v for k, v in metadata.items()}
    found = []
    for attribute in tables.rows_of(store, "alert_attributes").values():
        key = bound.get(attribute["id"])
        value = metadata.get(key) if key is not None else folded.get(str(attribute["name"]).casefold())
        if value is None:
            continue
        shown = store.answer("alert_attributes", attribute)
        if isinstance(value, list):
            items = [{"label": _literal(v), "literal": _literal(v)} for v in value]
            if not items:
                continue
            entry = {"attribute": shown, "array_value": items} if attribute["array"] else None
            found.append(entry or {"attribute": shown, "value": items[0]})
            continue
        entry = {"attribute": shown, "value": {"label": _literal(value), "literal": _literal(value)}}
        found.append(entry)
    return found


def _firing(store: ResourceStore, source_id: str, key: str) -> Json | None:
    for alert in tables.rows_of(store, "alerts").values():
        held = (alert["alert_source_id"], alert["deduplication_key"], alert["status"])
        if held == (source_id, key, "firing"):
            return alert
    return None


def _text(alert: Json) -> tuple[Any, ...]:
    return (
        alert["title"],
        alert.get("description"),
        alert.get("source_url"),
        alert["deduplication_key"],
        alert.get("metadata"),
    )


def resolve(ctx: Ctx, alert: Json) -> Json:
    """Resolve a firing alert (and announce it); a resolved one is answered as it is."""
    if alert["status"] != "firing":
        return alert
    stamp = timestamp(ctx.store.clock.now())
    done = tables.put(
        ctx.store,
        "alerts",
        {**alert, "status": "resolved", "resolved_at": stamp, "updated_at": stamp},
        _text(alert),
    )
    announce(ctx, done, "resolved")
    return done


def create_http(ctx: Ctx, alert_source_config_id: str, body: Json) -> Reply:
    store = ctx.store
    key = body.get("deduplication_key")
    if not key:
        raise ValidationFailed(
            errors.REQUIRED.format(field="deduplication_key"), code="is_required", field="deduplication_key"
        )
    with store.lock:
        origin = source(store, alert_source_config_id)
        current = _firing(store, origin["id"], key)
        if body["status"] == "resolved":
            if current is not None:
                resolve(ctx, current)
        else:
            stamp = timestamp(store.clock.now())
            metadata = body.get("metadata") or {}
            alert: Json = {
                **(current or {"id": store.ids.ulid(), "created_at": stamp, "alert_group_ids": []}),
                "alert_source_id": origin["id"],
                "deduplication_key": key,
                "status": "firing",
                "title": body["title"],
                "attributes": attributes_of(store, origin, metadata),
                "metadata": metadata,
                "private": bool((origin.get("template") or {}).get("is_private")),
                "updated_at": stamp,
            }
            for name in ("description", "source_url"):
                if name in body:
                    alert[name] = body[name]
            accepted = routing.accepting(store, alert) if current is None else []
            tables.put(store, "alerts", alert, _text(alert))
            if current is None:
                announce(ctx, alert, "created")
                routing.route(ctx, alert, accepted)
    return {"status": "success", "message": ACCEPTED, "deduplication_key": key}, 202


def ping(ctx: Ctx, alert_source_config_id: str) -> Reply:
    store = ctx.store
    with store.lock:
        origin = source(store, alert_source_config_id)
        if origin["source_type"] != "heartbeat":
            detail = f"this alert source is of type {origin['source_type']}, not heartbeat"
            raise ValidationFailed.invalid("alert_source_config_id", detail)
        pinged = {**origin, "last_ping_at": timestamp(store.clock.now())}
        tables.put(store, "alert_sources", pinged, text_of(pinged))
    return None, 204


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Alert Events V2#CreateHTTP": create_http,
    "Heartbeat V2#Ping": ping,
    "Heartbeat V2#Ping#1": ping,
}
