"""Utilities V1#OpenAPIV3: the contract the mock serves, as JSON, encoded once per contract."""

from __future__ import annotations

import json
from collections.abc import Callable

from incident_mock.engine.context import Ctx, Reply

__all__ = ["OPERATIONS"]

_ENCODED: dict[int, tuple[object, bytes]] = {}


def openapi(ctx: Ctx) -> Reply:
    hit = _ENCODED.get(id(ctx.spec))
    if hit is None or hit[0] is not ctx.spec:
        hit = (ctx.spec, json.dumps(ctx.spec, ensure_ascii=False, separators=(",", ":")).encode())
        _ENCODED[id(ctx.spec)] = hit
    return hit[1], 200


OPERATIONS: dict[str, Callable[..., Reply]] = {"Utilities V1#OpenAPIV3": openapi}
