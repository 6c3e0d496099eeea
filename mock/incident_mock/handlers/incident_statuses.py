"""Incident Statuses V1 (read-only), in lifecycle order."""

from __future__ import annotations

from incident_mock.handlers.context import Ctx, Reply


def list_(ctx: Ctx) -> Reply:
    return {"incident_statuses": sorted(ctx.store.statuses.values(), key=lambda s: s["rank"])}, 200


def show(ctx: Ctx, id: str) -> Reply:
    return {"incident_status": ctx.store.get(ctx.store.statuses, "incident status", id)}, 200
