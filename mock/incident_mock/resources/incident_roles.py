"""Incident Roles V2 (read-only)."""

from __future__ import annotations

from incident_mock.engine.catalog import find
from incident_mock.engine.context import Ctx, Reply


def list_(ctx: Ctx) -> Reply:
    return {"incident_roles": list(ctx.store.catalog.roles.values())}, 200


def show(ctx: Ctx, id: str) -> Reply:
    return {"incident_role": find(ctx.store.catalog.roles, "incident role", id)}, 200
