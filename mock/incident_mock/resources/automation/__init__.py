"""The automation behaviours: workflows and their runs, maintenance windows and status pages.

Each resource is declared in the contract's x-resources, and the engine serves what its declaration lists
(lists, shows, deletes); the modules here serve the rest, on the engine's tables: the writes whose answer
has a shape the body does not (workflows, maintenance windows, status page incidents and maintenances and
their updates) and the lists whose filters a declaration cannot say. `OPERATIONS` is all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.resources.automation import (
    maintenance_windows,
    status_pages,
    workflow_config,
    workflow_runs,
)

__all__ = ["OPERATIONS"]

OPERATIONS: dict[str, Callable[..., Any]] = {
    **workflow_config.OPERATIONS,
    **workflow_runs.OPERATIONS,
    **maintenance_windows.OPERATIONS,
    **status_pages.OPERATIONS,
}
