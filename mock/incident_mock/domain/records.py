"""Plain records the store keeps. No web framework, no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiKey", "IncidentRecord", "now", "timestamp"]

Json = dict[str, Any]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def timestamp(moment: dt.datetime) -> str:
    """RFC 3339 with microseconds and Z, as the contract's examples show."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ApiKey:
    id: str
    token: str
    name: str
    roles: tuple[str, ...]
    # a token a rotation replaced: refused from this moment on (the sandbox's clock); None: no end
    expires_at: dt.datetime | None = None


@dataclass(slots=True)
class IncidentRecord:
    """An incident as stored: references by id, rendered to IncidentV2 on the way out.

    Slotted: a store holds up to its incident cap of these, and a record without a `__dict__` is smaller
    and one object fewer for the garbage collector to walk.
    """

    id: str
    number: int
    seq: int
    name: str
    visibility: str
    mode: str
    status_id: str
    severity_id: str
    type_id: str
    creator: Json
    created_at: dt.datetime
    updated_at: dt.datetime
    summary: str | None = None
    call_url: str | None = None
    slack_channel_id: str = ""
    slack_channel_name_override: str | None = None
    postmortem_document_url: str | None = None
    custom_fields: dict[str, list[Json]] = field(default_factory=dict)  # field id -> values (payload shape)
    roles: dict[str, str] = field(default_factory=dict)  # role id -> user id
    timestamps: dict[str, str] = field(default_factory=dict)  # timestamp id -> RFC 3339 value
    version: int = 0  # bumped by every edit, so a cached rendering can tell it is stale
