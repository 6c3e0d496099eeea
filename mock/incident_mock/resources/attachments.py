"""Incident Attachments V1 over the engine's `incident_attachments` table: the visibility of their incident
(incident_scoped.py), a list naming an incident or an external object, and the attached object worked out
from what the create names (the mock reaches no other system to look it up)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources import incident_scoped as scoped

__all__ = ["OPERATIONS", "attached"]

NAME = "incident_attachments"
APART = "external_id and resource_type name an external object together: give both"
ONE_OF = "give the resource's external_id or its url, not both"
NEEDS_URL = "an arbitrary_url resource takes a url"


def attached(resource: Json, dashboard_url: str) -> Json:
    """The object a create names, as the answer shows it: `permalink` the url given (or one made from the
    type and id under the organisation's dashboard), `external_id` the id given (or the url), `title` the
    title given (or the external id)."""
    external_id, url = resource.get("external_id"), resource.get("url")
    if (external_id is None) == (url is None):
        raise ValidationFailed.invalid("resource", ONE_OF)
    kind = resource["resource_type"]
    if kind == "arbitrary_url" and url is None:
        raise ValidationFailed.invalid("resource", NEEDS_URL)
    ident = external_id if external_id is not None else url
    link = url if url is not None else f"{dashboard_url.rstrip('/')}/external/{kind}/{external_id}"
    return {
        "resource_type": kind,
        "external_id": ident,
        "permalink": link,
        "title": resource.get("title") or ident,
    }


def list_(
    ctx: Ctx, incident_id: str | None = None, external_id: str | None = None, resource_type: str | None = None
) -> Reply:
    store = scoped.store(ctx)
    if (external_id is None) != (resource_type is None):
        raise ValidationFailed.invalid("external_id" if external_id is None else "resource_type", APART)
    if incident_id is not None:
        scoped.checked_incident(ctx, incident_id)
    rows = [
        r
        for r in store.rows(NAME)
        if (external_id is None or r["resource"]["external_id"] == external_id)
        and (resource_type is None or r["resource"]["resource_type"] == resource_type)
    ]
    kept = scoped.visible(ctx, rows, None, incident_id)
    return {"incident_attachments": [store.answer(NAME, r) for r in kept]}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    store = scoped.store(ctx)
    scoped.checked_incident(ctx, body["incident_id"])
    resource = attached(body["resource"], store.catalog.organisation["dashboard_url"])
    row = store.create(NAME, {"incident_id": body["incident_id"], "resource": resource})
    return {"incident_attachment": store.answer(NAME, row)}, 201


def delete(ctx: Ctx, id: str) -> Reply:
    scoped.delete(ctx, NAME, id)
    return None, 204


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Incident Attachments V1#List": list_,
    "Incident Attachments V1#Create": create,
    "Incident Attachments V1#Delete": delete,
}
