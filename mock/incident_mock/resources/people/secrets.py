"""Secrets V2: named values for workflows, of which only metadata is ever answered.

A secret is a row of the `secrets` table (SecretV2); the mock keeps no value at all, only the last four
characters of the current one (none when it has four or fewer). Each value set is a row of
`secret_versions` (SecretVersionV2, with the secret's id in `secret_id`), so deleting a secret, which the
engine serves, takes its history with it (the declared cascade). `version` counts the writes: 1 at
creation, one more on every update (the engine's `version` fill) and every rotation; a rotation adds to
the history, an update does not.
"""

from __future__ import annotations

from collections.abc import Callable

from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.records import timestamp
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.engine.paging import page

__all__ = ["OPERATIONS"]

SHOWN = 4  # characters of a value answered, at its end
ANSWERED = (
    "id",
    "name",
    "description",
    "owning_team_ids",
    "last_four_chars",
    "version",
    "created_at",
    "updated_at",
)
VERSION_FIELDS = ("version", "created_at", "created_by", "last_four_chars")


def render(row: Json) -> Json:
    return {k: row[k] for k in ANSWERED if k in row}


def _tail(value: str) -> Json:
    return {"last_four_chars": value[-SHOWN:]} if len(value) > SHOWN else {}


def _set_value(ctx: Ctx, secret: Json, value: str, version: int, stamp: str | None = None) -> Json:
    """The secret with a new value as `version`, and the value's entry in its history, set at `stamp`
    (now when None)."""
    store = ctx.store
    stamp = stamp or timestamp(store.clock.now())
    saved = {k: v for k, v in secret.items() if k != "last_four_chars"}
    saved.update(_tail(value), version=version, updated_at=stamp)
    store.put(
        "secret_versions",
        {
            "id": store.ids.ulid(),
            "secret_id": secret["id"],
            "version": version,
            "created_at": stamp,
            "created_by": {"api_key": {"id": ctx.key.id, "name": ctx.key.name}},
            **_tail(value),
        },
    )
    return store.put("secrets", saved)


def list_(ctx: Ctx, page_size: int, after: str | None = None, team_ids: list[str] | None = None) -> Reply:
    rows = ctx.store.rows("secrets")
    if team_ids:
        wanted = set(team_ids)
        rows = [r for r in rows if wanted.intersection(r.get("owning_team_ids", ()))]
    found, meta = page(rows, page_size, after)
    return {"secrets": [render(r) for r in found], "pagination_meta": meta}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        fields = {k: v for k, v in body.items() if k != "value"}  # the value is never kept
        secret = store.create("secrets", fields)
        try:
            saved = _set_value(ctx, secret, body["value"], 1, secret["created_at"])
        except ValidationFailed:  # its history is full: no secret either
            store.delete("secrets", secret["id"])
            raise
    return {"secret": render(saved)}, 201


def show(ctx: Ctx, id: str) -> Reply:
    secret = ctx.store.get("secrets", id)
    versions = [
        {k: v[k] for k in VERSION_FIELDS if k in v}
        for v in ctx.store.rows("secret_versions")
        if v.get("secret_id") == id
    ]
    return {"secret": render(secret), "versions": versions}, 200


def rotate(ctx: Ctx, id: str, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        secret = store.get("secrets", id)
        saved = _set_value(ctx, secret, body["value"], secret["version"] + 1)
    return {"secret": render(saved)}, 200


OPERATIONS: dict[str, Callable[..., Reply]] = {
    "Secrets V2#List": list_,
    "Secrets V2#Create": create,
    "Secrets V2#Show": show,
    "Secrets V2#Rotate": rotate,
}
