"""What a handler gets besides its HTTP arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock.auth import Caller
from mock.contract import Spec
from mock.store import Store

__all__ = ["Ctx", "Json", "Reply"]

Json = dict[str, Any]
Reply = tuple[Json | None, int] | tuple[Json, int, dict[str, str]]


@dataclass(frozen=True)
class Ctx:
    store: Store
    caller: Caller
    spec: Spec
    query_string: str
