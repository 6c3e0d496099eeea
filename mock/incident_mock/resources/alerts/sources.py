"""Alert Sources V2: sources, their tokens and the addresses events are sent to.

A source's `secret_token` is what its alert events and heartbeat pings authenticate with. The one answered
is derived (HMAC-SHA-256) from a secret the source keeps and from the API keys of the store's sandbox,
which are the sandbox's own: so every sandbox answers its own token for the same fixtures source, and a
token names exactly one sandbox (`holder` finds it). `alert_events_url` and a heartbeat's `ping_url` are
built from the address the mock is reached at (the organisation's dashboard URL, which the mock derives
from it).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.engine.catalog import find
from incident_mock.engine.context import Ctx, Reply
from incident_mock.engine.store import ResourceStore
from incident_mock.resources.alerts import alert_tables as tables
from incident_mock.resources.alerts.bindings import answered

__all__ = ["OPERATIONS", "base_url", "holder", "secret_token", "source"]

Json = dict[str, Any]
T = TypeVar("T")
NAME = "alert_sources"
TOKEN_PREFIX = "ast_"
HEARTBEAT_DEFAULTS = {"grace_period_seconds": 0, "failure_threshold": 1}


def base_url(store: ResourceStore) -> str:
    """Where clients reach the mock: its dashboard URL without the dashboard's path."""
    url = str(store.catalog.organisation.get("dashboard_url", ""))
    return url.split("/dashboard", 1)[0].rstrip("/")


def secret_token(store: ResourceStore, row: Json) -> str:
    """The token this store's sandbox answers (and accepts) for a source."""
    return TOKEN_PREFIX + store.derived(f"{row['id']}:{row.get('secret_token', '')}")


def source(store: ResourceStore, source_id: str) -> Json:
    return find(tables.rows_of(store, NAME), "alert source", source_id)


def holder(
    candidates: Iterable[tuple[T, ResourceStore]], source_id: str, token: str
) -> tuple[T, Json] | None:
    """The sandbox (and the source) whose source `source_id` has this token; NotFound when no sandbox has
    such a source, None when some do but the token is none of theirs. Tokens compare in constant time."""
    seen, found = False, None
    for owner, store in candidates:
        row = tables.rows_of(store, NAME).get(source_id)
        if row is None:
            continue
        seen = True
        if hmac.compare_digest(secret_token(store, row).encode(), token.encode()):
            found = (owner, row)
    if not seen:
        raise NotFound(errors.NOT_FOUND.format(kind="alert source", id=errors.shortened(source_id)))
    return found


def render(store: ResourceStore, row: Json) -> Json:
    out = store.answer(NAME, row)
    out["secret_token"] = secret_token(store, row)
    out["alert_events_url"] = f"{base_url(store)}/v2/alert_events/http/{row['id']}"
    if row["source_type"] == "heartbeat" and "heartbeat_options" in row:
        ping = f"{base_url(store)}/v2/heartbeat/{row['id']}/ping"
        out["heartbeat_options"] = {**row["heartbeat_options"], "ping_url": ping}
    return out


def _checked(store: ResourceStore, body: Json, row_id: str | None) -> Json:
    """The fields a create or update body sets, as stored; 422 naming what is wrong."""
    attributes = tables.rows_of(store, "alert_attributes")
    template = body.get("template")
    if template is not None:
        for i, entry in enumerate(template.get("attributes", [])):
            if entry["alert_attribute_id"] not in attributes:
                pointer = f"/template/attributes/{i}/alert_attribute_id"
                raise ValidationFailed.invalid("alert_attribute_id", "no such alert attribute", pointer)
    name = body.get("name")
    if name is not None:
        for other in tables.rows_of(store, NAME).values():
            if other["id"] != row_id and str(other["name"]).casefold() == str(name).casefold():
                raise ValidationFailed.invalid("name", f"an alert source named {name!r} exists")
    out = {k: v for k, v in body.items() if k not in ("template", "heartbeat_options", "email_options")}
    if template is not None:
        out["template"] = {"is_private": False, **answered(template, "/template")}
    if "heartbeat_options" in body:
        out["heartbeat_options"] = {**HEARTBEAT_DEFAULTS, **body["heartbeat_options"], "ping_url": ""}
    if "email_options" in body:
        address = f"alerts-{(row_id or 'new').lower()}@mock.invalid"
        out["email_options"] = {**body["email_options"], "email_address": address}
    return out


def text_of(row: Json) -> tuple[Any, ...]:
    return (row.get("name"), row.get("template"), row.get("http_custom_options"), row.get("email_options"))


def list_(ctx: Ctx) -> Reply:
    store = ctx.store
    return {"alert_sources": [render(store, r) for r in tables.rows_of(store, NAME).values()]}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        row_id = store.ids.ulid()
        row = {"id": row_id, **_checked(store, body, row_id), "secret_token": store.ids.token(24)}
        if row["source_type"] == "heartbeat" and "heartbeat_options" not in row:
            row["heartbeat_options"] = {**HEARTBEAT_DEFAULTS, "interval_seconds": 300, "ping_url": ""}
        tables.put(store, NAME, row, text_of(row))
    return {"alert_source": render(store, row)}, 200


def validate(ctx: Ctx, body: Json) -> Reply:
    _checked(ctx.store, body, None)
    return None, 204


def show(ctx: Ctx, id: str) -> Reply:
    return {"alert_source": render(ctx.store, source(ctx.store, id))}, 200


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        row = {**source(store, id), **_checked(store, body, id)}
        tables.put(store, NAME, row, text_of(row))
    return {"alert_source": render(store, row)}, 200


def delete(ctx: Ctx, id: str) -> Reply:
    store = ctx.store
    with store.lock:
        source(store, id)
        for route in tables.rows_of(store, "alert_routes").values():
            if any(s["alert_source_id"] == id for s in route.get("alert_sources", [])):
                raise ValidationFailed.invalid("id", f"the alert route {route['name']!r} still selects it")
        tables.drop(store, NAME, id)
    return None, 204


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Alert Sources V2#List": list_,
    "Alert Sources V2#Create": create,
    "Alert Sources V2#Validate": validate,
    "Alert Sources V2#Show": show,
    "Alert Sources V2#Update": update,
    "Alert Sources V2#Delete": delete,
}
