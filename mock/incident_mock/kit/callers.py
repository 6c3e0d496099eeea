"""Who is calling: an API key, the scopes its roles grant, and the sandbox its token belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from incident_mock.domain.records import ApiKey
from incident_mock.kit.sandboxes import SandboxState

__all__ = ["Caller"]


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    scopes: frozenset[str]
    sandbox: SandboxState  # the one its token belongs to: every handler works on its store

    @property
    def private_ok(self) -> bool:
        return "incidents.view_private" in self.scopes
