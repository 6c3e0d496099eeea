"""API Keys V1: the keys that call this API, kept in the store's `keys` (what authentication reads), with
what the API answers about each besides its token in `key_details`.

The rules, as the published API states them:
- a key gives only roles whose scopes it holds itself, and no key gives the role that manages keys (the
  one granting `api_keys.create`) (422 naming `role_names` or `team_role_names`); a role the contract's
  `x-api-key-roles` lacks grants nothing here and is refused the same way;
- a create answers the new token, the only time it is shown; the key authenticates at once, in the
  caller's sandbox only (tokens are indexed per sandbox);
- a key cannot update itself (422 naming `id`), and an update changes the roles of every token of the key;
- a rotation issues a new token; the old one keeps working for `grace_period_minutes` on the sandbox's
  clock (0: not at all), and a token an earlier rotation left in its grace period is retired at once, so
  a key has at most two tokens. The caller must hold every scope of the key it rotates (403);
- a delete refuses every token of the key from the next request on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from operator import attrgetter

from incident_contract.access import role_scopes
from incident_mock.domain import errors
from incident_mock.domain.errors import Forbidden, NotFound, ValidationFailed
from incident_mock.domain.limits import capacity_reached, text_bytes
from incident_mock.domain.records import ApiKey, timestamp
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.engine.paging import page
from incident_mock.engine.store import ResourceStore

__all__ = ["OPERATIONS"]

MANAGING = "api_keys.create"  # a role granting this scope (api_keys_manage) cannot be given through the API
TOKEN_PREFIX = "inc_"
FIXTURE_STAMP = "2026-01-01T00:00:00.000000Z"  # when the fixtures' keys were made and issued
KIND = "API key"


def _details(store: ResourceStore) -> dict[str, Json]:
    """key id -> what the API answers about the key besides its name and roles."""
    return store.key_details


def _current(store: ResourceStore, key_id: str) -> ApiKey:
    """The key's current token (not one a rotation left in its grace period), or 404."""
    for key in store.keys:
        if key.id == key_id and key.expires_at is None:
            return key
    raise NotFound(errors.NOT_FOUND.format(kind=KIND, id=errors.shortened(key_id)))


def _tokens(store: ResourceStore, key_id: str) -> list[ApiKey]:
    return [k for k in store.keys if k.id == key_id]


def _render(ctx: Ctx, key: ApiKey) -> Json:
    roles = ctx.spec["x-api-key-roles"]
    info = _details(ctx.store).get(key.id, {})
    out: Json = {
        "id": key.id,
        "name": key.name,
        "roles": [{"name": r, "description": roles.get(r, {}).get("description", r)} for r in key.roles],
        "team_ids": list(info.get("team_ids", [])),
        "team_roles": [
            {"name": r, "description": roles.get(r, {}).get("description", r)}
            for r in info.get("team_role_names", [])
        ],
        "creator": info.get("creator", {}),
        "created_at": info.get("created_at", FIXTURE_STAMP),
        "token_last_issued_at": info.get("token_last_issued_at", FIXTURE_STAMP),
    }
    if info.get("comments") is not None:
        out["comments"] = info["comments"]
    return out


def _roles(ctx: Ctx, names: Sequence[str], field: str) -> tuple[str, ...]:
    """The roles a body names, once each, if the caller may give them all; 422 naming `field` otherwise."""
    grants = role_scopes(ctx.spec)
    for name in names:
        if name not in grants:
            raise ValidationFailed.invalid(field, f"{name!r} is not a role this API grants")
        if MANAGING in grants[name]:
            raise ValidationFailed.invalid(
                field, f"{name!r} manages API keys: it cannot be given through the API"
            )
        missing = sorted(grants[name] - ctx.scopes)
        if missing:
            detail = f"the calling key cannot give {name!r}: it lacks the scopes {', '.join(missing)}"
            raise ValidationFailed.invalid(field, detail)
    return tuple(dict.fromkeys(names))


def _token(store: ResourceStore) -> str:
    return TOKEN_PREFIX + store.ids.token(32)


def _weight(body: Json) -> int:
    """The text a create or update body has a key hold (the fixtures' keys hold none until updated)."""
    return text_bytes(body.get("name"), body.get("comments"), *body.get("team_ids", []))


def list_(ctx: Ctx, page_size: int, after: str | None = None) -> Reply:
    keys = [k for k in ctx.store.keys if k.expires_at is None]
    found, meta = page(keys, page_size, after, attrgetter("id"))
    return {"api_keys": [_render(ctx, k) for k in found], "pagination_meta": meta}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    roles = _roles(ctx, body["role_names"], "role_names")
    team_roles = _roles(ctx, body["team_role_names"], "team_role_names")
    with store.lock:
        held = sum(1 for k in store.keys if k.expires_at is None)
        cap = store.limits.max_rows
        if held >= cap:
            raise capacity_reached("API keys", "max_rows", cap)
        stamp = timestamp(store.clock.now())
        key = ApiKey(store.ids.ulid(), _token(store), body["name"], roles)
        held_text = _weight(body)
        store.change_keys((), (key,), held_text)
        _details(store)[key.id] = {
            "text": held_text,
            "comments": body.get("comments"),
            "team_ids": list(dict.fromkeys(body["team_ids"])),
            "team_role_names": list(team_roles),
            "creator": {"api_key": {"id": ctx.key.id, "name": ctx.key.name}},
            "created_at": stamp,
            "token_last_issued_at": stamp,
        }
    return {"api_key": _render(ctx, key), "token": key.token}, 201


def show(ctx: Ctx, id: str) -> Reply:
    return {"api_key": _render(ctx, _current(ctx.store, id))}, 200


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    store = ctx.store
    key = _current(store, id)
    if key.id == ctx.key.id:
        raise ValidationFailed.invalid("id", "a key cannot update itself")
    roles = _roles(ctx, body["role_names"], "role_names")
    team_roles = _roles(ctx, body["team_role_names"], "team_role_names")
    with store.lock:
        info = _details(store).setdefault(key.id, {})
        old = _tokens(store, id)
        new = [dataclasses.replace(k, name=body["name"], roles=roles) for k in old]
        held_text = _weight(body)
        store.change_keys(old, new, held_text - info.get("text", 0))
        info.update(
            text=held_text,
            comments=body.get("comments"),
            team_ids=list(dict.fromkeys(body["team_ids"])),
            team_role_names=list(team_roles),
        )
    return {"api_key": _render(ctx, _current(store, id))}, 200


def delete(ctx: Ctx, id: str) -> Reply:
    store = ctx.store
    with store.lock:
        key = _current(store, id)
        info = _details(store).pop(key.id, {})
        store.change_keys(_tokens(store, id), (), -info.get("text", 0))
    return None, 204


def rotate(ctx: Ctx, id: str, body: Json) -> Reply:
    store = ctx.store
    grants = role_scopes(ctx.spec)
    with store.lock:
        key = _current(store, id)
        needed = frozenset().union(*(grants.get(r, frozenset()) for r in key.roles))
        missing = sorted(needed - ctx.scopes)
        if missing:
            raise Forbidden(
                f"Rotating this key needs every scope it holds; the calling key lacks {missing[0]}"
            )
        now = store.clock.now()
        minutes: int = body["grace_period_minutes"]
        fresh = dataclasses.replace(key, token=_token(store))
        kept = (
            [dataclasses.replace(key, expires_at=now + dt.timedelta(minutes=minutes))] if minutes > 0 else []
        )
        store.change_keys(_tokens(store, id), [fresh, *kept])
        _details(store).setdefault(key.id, {})["token_last_issued_at"] = timestamp(now)
    return {"api_key": _render(ctx, fresh), "token": fresh.token}, 201


OPERATIONS: dict[str, Callable[..., Reply]] = {
    "API Keys V1#List": list_,
    "API Keys V1#Create": create,
    "API Keys V1#Show": show,
    "API Keys V1#Update": update,
    "API Keys V1#Delete": delete,
    "API Keys V1#Rotate": rotate,
}
