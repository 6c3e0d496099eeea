"""Every operation of the alerts path, by operationId (registered in resources/organisation.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.resources.alerts import alert_events as events
from incident_mock.resources.alerts import alert_records as alerts
from incident_mock.resources.alerts import notes, routes, sources

__all__ = ["OPERATIONS"]

OPERATIONS: dict[str, Callable[..., Any]] = {
    **sources.OPERATIONS,
    **events.OPERATIONS,
    **alerts.OPERATIONS,
    **routes.OPERATIONS,
    **notes.OPERATIONS,
}
