"""The incident-contract mock: Connexion serves openapi.yaml over a stateful in-memory store.

The public surface is `create_app()` (an ASGI app; `app.holder.store` is its `Store`, `app.holder.reset()`
reloads the fixtures) and `DEFAULT_FIXTURES`. They are imported on first use, so that the console script
(`incident_mock.launch`) can name a missing `[mock]` extra before anything imports Connexion.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

# Connexion 3.3 imports starlette.testclient, which warns about httpx at import time; it is not ours to fix.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

if TYPE_CHECKING:
    from incident_mock.app import create_app
    from incident_mock.store import DEFAULT_FIXTURES, Store, StoreHolder

__all__ = ["DEFAULT_FIXTURES", "Store", "StoreHolder", "create_app"]

_HOMES = {
    "create_app": "incident_mock.app",
    "DEFAULT_FIXTURES": "incident_mock.store",
    "Store": "incident_mock.store",
    "StoreHolder": "incident_mock.store",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'incident_mock' has no attribute {name!r}")
