"""Alert Notes V1 over the engine's `alert_notes` table, as visible as their alert: a note on a private
source's alert is, for a key without `incidents.view_private`, a note that does not exist (404, left out of
lists), and such an alert one that does not exist when a note names it (422 on `alert_id`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.engine import paging
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources.alerts import alert_tables as tables

__all__ = ["OPERATIONS"]

NAME = "alert_notes"


def _actor(ctx: Ctx) -> Json:
    return {"api_key": {"id": ctx.key.id, "name": ctx.key.name}}


def _seen(ctx: Ctx, alert_id: Any) -> bool:
    """Whether the alert exists and the caller may see it."""
    alert = tables.rows_of(ctx.store, "alerts").get(alert_id) if isinstance(alert_id, str) else None
    return alert is not None and (ctx.private_ok or not alert.get("private"))


def _checked(ctx: Ctx, alert_id: Any) -> None:
    if not _seen(ctx, alert_id):
        raise ValidationFailed.invalid("alert_id", "no such alert")


def _note(ctx: Ctx, id: str) -> Json:
    row = ctx.store.get(NAME, id)
    if not _seen(ctx, row.get("alert_id")):
        raise NotFound(errors.NOT_FOUND.format(kind="alert note", id=errors.shortened(id)))
    return row


def list_(
    ctx: Ctx,
    page_size: int,
    after: str | None = None,
    alert_id: str | None = None,
    alert_group_id: str | None = None,
) -> Reply:
    if alert_id is not None:
        _checked(ctx, alert_id)
    rows = ctx.store.listing(NAME, {"alert_id": alert_id} if alert_id is not None else {})[0]
    found, cursor = paging.cut([r for r in rows if _seen(ctx, r.get("alert_id"))], page_size, after)
    meta: Json = {"page_size": page_size, **({"after": cursor} if cursor else {})}
    return {"alert_notes": [ctx.store.answer(NAME, r) for r in found], "pagination_meta": meta}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    _checked(ctx, body.get("alert_id"))
    row = ctx.store.create(NAME, body, actor=_actor(ctx))
    return {"alert_note": ctx.store.answer(NAME, row)}, 201


def show(ctx: Ctx, id: str) -> Reply:
    return {"alert_note": ctx.store.answer(NAME, _note(ctx, id))}, 200


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    with ctx.store.lock:
        _note(ctx, id)
        if "alert_id" in body:
            _checked(ctx, body["alert_id"])
        row = ctx.store.update(NAME, id, body, actor=_actor(ctx))
    return {"alert_note": ctx.store.answer(NAME, row)}, 200


def delete(ctx: Ctx, id: str) -> Reply:
    with ctx.store.lock:
        _note(ctx, id)
        ctx.store.delete(NAME, id)
    return None, 204


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Alert Notes V1#List": list_,
    "Alert Notes V1#Create": create,
    "Alert Notes V1#Show": show,
    "Alert Notes V1#Update": update,
    "Alert Notes V1#Delete": delete,
}
