"""What an operation gets besides its HTTP arguments: the store of the caller's sandbox, who is calling,
and where the changes it makes are announced (the sandbox's webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incident_contract.document import Spec
from incident_mock.domain.records import ApiKey
from incident_mock.engine.store import ResourceStore

__all__ = ["Ctx", "Json", "Reply"]

Json = dict[str, Any]
# A body is a dict to encode, JSON bytes already encoded, or None for no body.
Reply = tuple[Json | bytes | None, int] | tuple[Json | bytes, int, dict[str, str]]
PRIVATE_SCOPE = "incidents.view_private"


@dataclass(frozen=True)
class Ctx:
    store: ResourceStore  # a behaviour module's own store class, which extends the engine's
    key: ApiKey
    scopes: frozenset[str]
    events: Any  # where changes are announced (kit.webhooks.SandboxWebhooks); each behaviour types its part
    spec: Spec

    @property
    def private_ok(self) -> bool:
        """The caller may see private incidents."""
        return PRIVATE_SCOPE in self.scopes
