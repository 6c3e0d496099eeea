"""Utilities V1."""

from __future__ import annotations

from collections.abc import Callable

from incident_mock.engine.context import Ctx, Reply


def identity(ctx: Ctx) -> Reply:
    key = ctx.key
    org = ctx.store.catalog.organisation
    body = {
        "name": key.name,
        "roles": list(key.roles),
        "team_roles": [],
        "teams": [],
        "dashboard_url": org["dashboard_url"],
    }
    return {"identity": body}, 200


OPERATIONS: dict[str, Callable[..., Reply]] = {"Utilities V1#Identity": identity}
