"""Incident Types V1 (read-only)."""

from __future__ import annotations

from incident_mock.engine.catalog import find
from incident_mock.engine.context import Ctx, Reply


def list_(ctx: Ctx) -> Reply:
    return {"incident_types": list(ctx.store.catalog.types.values())}, 200


def show(ctx: Ctx, id: str) -> Reply:
    return {"incident_type": find(ctx.store.catalog.types, "incident type", id)}, 200
