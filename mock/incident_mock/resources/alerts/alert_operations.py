"""Every operation of the alerts path, by operationId (registered in resources/organisation.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.resources.alerts import alert_events, alert_list, routes, sources

__all__ = ["OPERATIONS"]

OPERATIONS: dict[str, Callable[..., Any]] = {
    **sources.OPERATIONS,
    **alert_events.OPERATIONS,
    **alert_list.OPERATIONS,
    **routes.OPERATIONS,
}
