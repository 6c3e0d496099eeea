"""What an operation gets besides its HTTP arguments: the store of the caller's sandbox, who is calling,
and where the changes it makes are announced (the sandbox's webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from incident_contract.document import Spec
from incident_mock.domain.records import ApiKey, IncidentRecord
from incident_mock.engine.store import Store

__all__ = ["Ctx", "Events", "Json", "Reply"]

Json = dict[str, Any]
# A body is a dict to encode, JSON bytes already encoded, or None for no body.
Reply = tuple[Json | bytes | None, int] | tuple[Json | bytes, int, dict[str, str]]
PRIVATE_SCOPE = "incidents.view_private"


class Events(Protocol):
    """Where the changes an operation makes are announced (kit.webhooks.SandboxWebhooks)."""

    def incident_created(self, store: Store, record: IncidentRecord) -> None: ...

    def incident_updated(self, store: Store, record: IncidentRecord, previous_status_id: str) -> None: ...


@dataclass(frozen=True)
class Ctx:
    store: Store
    key: ApiKey
    scopes: frozenset[str]
    events: Events
    spec: Spec
    query_string: str

    @property
    def private_ok(self) -> bool:
        """The caller may see private incidents."""
        return PRIVATE_SCOPE in self.scopes
