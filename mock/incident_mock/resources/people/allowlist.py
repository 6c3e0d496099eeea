"""IPAllowlists V1: the organisation's one IP allowlist, a row of the `ip_allowlists` table (id
`organisation`). The mock stores and answers it; it does not refuse requests from addresses outside it.

An update must name the version it replaces (422 naming `version` otherwise), so that two writers cannot
overwrite each other unknowingly, and every item's `value` must be an IPv4 or IPv6 address or CIDR
prefix.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.records import timestamp
from incident_mock.engine.context import Ctx, Json, Reply

__all__ = ["OPERATIONS"]

ROW = "organisation"  # the id of the one row
ANSWERED = ("enabled", "version", "allowlist", "updated_at")
EMPTY: Json = {"id": ROW, "enabled": False, "version": 1, "allowlist": []}  # when the fixtures hold none


def _current(ctx: Ctx) -> Json:
    return ctx.store.table("ip_allowlists").get(ROW, EMPTY)


def _render(row: Json) -> Json:
    return {k: row[k] for k in ANSWERED if k in row}


def show(ctx: Ctx) -> Reply:
    return {"ip_allowlist": _render(_current(ctx))}, 200


def update(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    for i, item in enumerate(body["allowlist"]):
        try:
            ipaddress.ip_network(item["value"], strict=False)
        except ValueError:
            detail = "not an IPv4 or IPv6 address or CIDR prefix"
            raise ValidationFailed.invalid("allowlist", detail, f"/allowlist/{i}/value") from None
    with store.lock:
        current = _current(ctx)
        if body["version"] != current["version"]:
            detail = f"the allowlist is at version {current['version']}: read it again, then update"
            raise ValidationFailed.invalid("version", detail)
        saved = store.put(
            "ip_allowlists",
            {
                "id": ROW,
                "enabled": body["enabled"],
                "allowlist": [dict(item) for item in body["allowlist"]],
                "version": current["version"] + 1,
                "updated_at": timestamp(store.clock.now()),
            },
        )
    return {"ip_allowlist": _render(saved)}, 200


OPERATIONS: dict[str, Callable[..., Reply]] = {
    "IPAllowlists V1#ShowIPAllowlist": show,
    "IPAllowlists V1#UpdateIPAllowlist": update,
}
