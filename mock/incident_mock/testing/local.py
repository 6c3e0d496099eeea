"""A mock started in this process for the Python API: the one module of the client side that reaches the
server side, imported only when `IncidentMock()` or `AsyncIncidentMock()` is given no URL."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from contextlib import AbstractContextManager, ExitStack
from typing import Any

__all__ = ["start"]


def start(stack: ExitStack, options: Mapping[str, Any]) -> str:
    """Start a mock in a background thread, stopped when `stack` closes; its URL.

    Connexion 3.3 and Starlette warn about their own dependencies when imported (jsonschema's RefResolver,
    Starlette's test client over httpx); a suite run with `-W error` must not fail on that, so those
    warnings are ignored while the mock is imported and built."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from incident_mock.server import MockServer

        server = MockServer(**options)
    running: AbstractContextManager[Any] = server.running()
    url: str = stack.enter_context(running).url
    return url
