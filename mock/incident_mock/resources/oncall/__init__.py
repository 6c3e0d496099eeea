"""The on-call behaviour: escalation paths (paths.py), escalations (escalations.py), and schedules with their
entries, overrides, replicas, sync rules and sync targets (schedules.py, shifts.py), over the engine's
tables (oncall_tables.py)."""

from __future__ import annotations

from collections.abc import Callable

from incident_mock.engine.context import Reply
from incident_mock.resources.oncall import escalations, paths, schedules

__all__ = ["EVENTS", "OPERATIONS"]

OPERATIONS: dict[str, Callable[..., Reply]] = {
    **paths.OPERATIONS,
    **escalations.OPERATIONS,
    **schedules.OPERATIONS,
}
EVENTS = escalations.EVENTS | schedules.EVENTS
