"""The incident-contract mock: Connexion serves openapi.yaml over a stateful in-memory store.

The public surface: `create_app()` (an ASGI app; `app.sandboxes` its `Sandboxes`, `app.holder` the default
`Sandbox`: `app.holder.store` is its `Store`, `app.holder.reset()` reloads the fixtures), `Store`,
`StoreHolder` and `DEFAULT_FIXTURES`. They are imported on first use, by
name rather than by an import statement, so the console script (`incident_mock.launch`) can name a
missing `[mock]` extra before anything imports Connexion, and no module of the package imports back
into it.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

# Connexion 3.3 imports starlette.testclient, which warns about httpx at import time; it is not ours to fix.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

__all__ = ["DEFAULT_FIXTURES", "Sandbox", "Sandboxes", "Store", "StoreHolder", "create_app"]

_HOMES = {
    "create_app": "incident_mock.app",
    "DEFAULT_FIXTURES": "incident_mock.domain.settings",
    "Store": "incident_mock.resources.organisation",
    "StoreHolder": "incident_mock.resources.organisation",
    "Sandbox": "incident_mock.kit.sandboxes",
    "Sandboxes": "incident_mock.kit.sandboxes",
}


_RENAMED = {"Sandbox": "SandboxState"}  # the public name -> the class's own


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), _RENAMED.get(name, name))
    raise AttributeError(f"module 'incident_mock' has no attribute {name!r}")
