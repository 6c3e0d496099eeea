"""The on-call behaviour: escalation paths (paths.py), escalations (escalations.py, which also starts the
escalations alert routes name), schedules with their entries, overrides, replicas, sync rules and sync
targets (schedules.py, shifts.py) and the shift changes a move of the sandbox clock passes
(shift_changes.py), over the engine's tables (oncall_tables.py)."""

from __future__ import annotations

from collections.abc import Callable

from incident_mock.engine.context import Reply
from incident_mock.resources.oncall import escalations, paths, schedules
from incident_mock.resources.oncall.escalations import acknowledge
from incident_mock.resources.oncall.shift_changes import clock_moved

__all__ = ["EVENTS", "OPERATIONS", "acknowledge", "clock_moved"]

OPERATIONS: dict[str, Callable[..., Reply]] = {
    **paths.OPERATIONS,
    **escalations.OPERATIONS,
    **schedules.OPERATIONS,
}
EVENTS = escalations.EVENTS | schedules.EVENTS
