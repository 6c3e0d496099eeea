"""Severities V1: the only settings the contract lets a key change."""

from __future__ import annotations

from incident_mock.engine.catalog import find
from incident_mock.engine.context import Ctx, Json, Reply


def list_(ctx: Ctx) -> Reply:
    return {"severities": ctx.store.list_severities()}, 200


def show(ctx: Ctx, id: str) -> Reply:
    return {"severity": find(ctx.store.catalog.severities, "severity", id)}, 200


def create(ctx: Ctx, body: Json) -> Reply:
    return {"severity": ctx.store.save_severity(body)}, 201


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    return {"severity": ctx.store.save_severity(body, severity_id=id)}, 200


def delete(ctx: Ctx, id: str) -> Reply:
    ctx.store.delete_severity(id)
    return None, 202
