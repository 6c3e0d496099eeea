"""What a handler gets besides its HTTP arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incident_contract.document import Spec
from incident_mock.auth import Caller
from incident_mock.store import Store

__all__ = ["Ctx", "Json", "Reply"]

Json = dict[str, Any]
# A body is a dict to encode, JSON bytes already encoded, or None for no body.
Reply = tuple[Json | bytes | None, int] | tuple[Json | bytes, int, dict[str, str]]


@dataclass(frozen=True)
class Ctx:
    store: Store
    caller: Caller
    spec: Spec
    query_string: str
