"""Incident Statuses V1 (read-only), in lifecycle order."""

from __future__ import annotations

from incident_mock.engine.catalog import find
from incident_mock.engine.context import Ctx, Reply


def list_(ctx: Ctx) -> Reply:
    return {"incident_statuses": sorted(ctx.store.catalog.statuses.values(), key=lambda s: s["rank"])}, 200


def show(ctx: Ctx, id: str) -> Reply:
    return {"incident_status": find(ctx.store.catalog.statuses, "incident status", id)}, 200
