"""WorkflowRuns V2: the list, with its filters; the show is the engine's (x-resources `workflow_runs`).

Runs are read-only: the mock holds the runs of its fixtures and never starts one. A run of a private
incident is left out for a caller that may not see private incidents, as the incident itself is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from incident_contract.query import key_parts, parse_date
from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.context import Ctx, Reply
from incident_mock.engine.paging import page
from incident_mock.resources.automation.saving import at, incident_id_of
from incident_mock.resources.incidents.storage import IncidentStore

__all__ = ["OPERATIONS"]

TABLE = "workflow_runs"


def _date(value: str) -> dt.date:
    try:
        return parse_date(value)
    except ValueError:
        raise ValidationFailed.invalid("created_at", f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None


def _created_between(pairs: Sequence[tuple[str, str]]) -> tuple[dt.date, dt.date]:
    """The first and last day `created_at[gte|lte|date_range]` allow (the validator checked the keys)."""
    low, high = dt.date.min, dt.date.max
    for key, value in pairs:
        parts = key_parts(key)
        if parts is None or parts[0] != "created_at":
            continue
        if parts[1] == "gte":
            low = max(low, _date(value))
        elif parts[1] == "lte":
            high = min(high, _date(value))
        elif parts[1] == "date_range":
            start, _, end = value.partition("~")
            first, last = _date(start), _date(end)
            if first > last:
                raise ValidationFailed.invalid("created_at", f"{value!r} starts after it ends (START~END)")
            low, high = max(low, first), min(high, last)
    return low, high


def _hidden(ctx: Ctx) -> set[str]:
    """The ids of the incidents the caller may not see."""
    store = ctx.store
    if ctx.private_ok or not isinstance(store, IncidentStore):
        return set()
    return {i.id for i in store.incidents if i.visibility == "private"}


def list_(
    ctx: Ctx,
    page_size: int,
    workflow_id: str | None = None,
    incident_id: str | None = None,
    after: str | None = None,
    query_pairs: Sequence[tuple[str, str]] = (),
) -> Reply:
    store = ctx.store
    if workflow_id is not None and workflow_id not in store.table("workflows"):
        raise ValidationFailed.invalid("workflow_id", "no such workflow")
    wanted_incident = incident_id_of(ctx, incident_id, "incident_id") if incident_id is not None else None
    low, high = _created_between(query_pairs)
    hidden = _hidden(ctx)
    rows = [
        run
        for run in store.rows(TABLE)
        if (workflow_id is None or run["workflow_id"] == workflow_id)
        and (wanted_incident is None or run.get("incident_id") == wanted_incident)
        and run.get("incident_id") not in hidden
        and low <= at(run["created_at"], "created_at").date() <= high
    ]
    rows.sort(key=lambda run: (run["created_at"], run["id"]), reverse=True)
    chosen, meta = page(rows, page_size, after)
    meta["total_record_count"] = len(rows)
    return {"workflow_runs": [store.answer(TABLE, r) for r in chosen], "pagination_meta": meta}, 200


OPERATIONS: dict[str, Callable[..., Any]] = {"WorkflowRuns V2#List": list_}
