"""Alert routes at work: a new firing alert offered to every enabled route that selects its source.

A route accepts the alert when its source entry's conditions, its own conditions and (for the incident) its
incident conditions hold (bindings.matches); which routes accept it is worked out first (`accepting`), so
an alert whose matching takes too long is refused before anything is stored. Where its incident settings
are enabled, the alert opens an incident, created by the incidents' own rules
(`IncidentStore.create_incident`, so it is an ordinary incident: listed, shown, edited, announced with
`incident_created_v2`), or joins the incident the route opened for the same values of its grouping keys,
while that incident is open and the grouping window (on the sandbox clock, from the group's first alert,
or its last for a rolling window) has not passed. Every attachment is a row of `incident_alerts`.

Escalations are not started here: `ESCALATION_HOOKS` are called with the route, the alert and the incident
(None when the route opens none) for every route that accepts an alert, so the escalations' behaviour
(oncall/escalations.py, which registers its hook when imported: this module imports nothing of on-call)
starts what the route's `escalation_config` names, once per new alert.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, cast

from incident_mock.domain.errors import ApiError
from incident_mock.domain.limits import Tally
from incident_mock.domain.records import ApiKey, IncidentRecord, timestamp
from incident_mock.engine.context import Ctx
from incident_mock.engine.store import ResourceStore
from incident_mock.resources.alerts import alert_tables as tables
from incident_mock.resources.alerts.bindings import literals, matches, subject_values
from incident_mock.resources.incidents.storage import IncidentStore

__all__ = ["CLOSED", "ESCALATION_HOOKS", "accepting", "route"]

Json = dict[str, Any]
CLOSED = frozenset({"closed", "declined", "merged", "canceled"})  # an incident in these is not joined
# (ctx, route, alert, incident or None, the work the alert's hooks have done) for every route accepting an
# alert; oncall/escalations.py adds its own
ESCALATION_HOOKS: list[Callable[[Ctx, Json, Json, IncidentRecord | None, Tally], None]] = []


def accepting(store: ResourceStore, alert: Json) -> list[tuple[Json, bool]]:
    """The enabled routes that accept an alert, each with whether it opens (or joins) an incident, changing
    nothing: 422 when matching takes more than MAX_MATCH (bindings.py), so an event is refused before its
    alert is stored."""
    tally = Tally()
    found = []
    for candidate in list(tables.rows_of(store, "alert_routes").values()):
        if not candidate.get("enabled"):
            continue
        entry = next(
            (
                s
                for s in candidate.get("alert_sources", [])
                if s["alert_source_id"] == alert["alert_source_id"]
            ),
            None,
        )
        if entry is None or not matches(entry.get("condition_groups"), alert, tally):
            continue
        if not matches(candidate.get("condition_groups"), alert, tally):
            continue
        config = candidate.get("incident_config") or {}
        found.append(
            (candidate, bool(config.get("enabled")) and matches(config.get("condition_groups"), alert, tally))
        )
    return found


def route(ctx: Ctx, alert: Json, accepted: list[tuple[Json, bool]]) -> None:
    """Act on the routes that accept a new firing alert (`accepting`; see the module's docstring)."""
    store = cast(IncidentStore, ctx.store)
    tally = Tally()  # shared by every route, so one alert's escalations are bounded together
    for candidate, opens in accepted:
        incident = None
        if opens:
            try:
                incident = _incident_for(ctx, store, candidate, alert)
            except ApiError:  # no room for another incident: the alert stays, unattached
                incident = None
        for hook in ESCALATION_HOOKS:
            hook(ctx, candidate, alert, incident, tally)


def _open(store: IncidentStore, record: IncidentRecord) -> bool:
    status = store.catalog.statuses.get(record.status_id) or {}
    return status.get("category") not in CLOSED


def _incident_for(ctx: Ctx, store: IncidentStore, chosen: Json, alert: Json) -> IncidentRecord:
    grouping = (chosen.get("grouping_config") or {}).get("default") or {}
    moment = store.clock.now()
    values = None
    if grouping.get("enabled"):
        keys = [k["reference"] for k in grouping.get("grouping_keys", [])]
        values = json.dumps([subject_values(alert, k) for k in keys])
        window = dt.timedelta(seconds=int(grouping.get("window_seconds") or 0))
        since = "last_at" if grouping.get("window_type") == "rolling" else "started_at"
        for group in list(tables.rows_of(store, tables.ROUTE_GROUPS).values()):
            if group["route_id"] != chosen["id"] or group["values"] != values:
                continue
            record = store.by_id.get(group["incident_id"])
            opened = dt.datetime.fromisoformat(group[since])
            if record is not None and _open(store, record) and moment - opened <= window:
                tables.put(store, tables.ROUTE_GROUPS, {**group, "last_at": timestamp(moment)})
                _attach(store, alert, record, chosen)
                return record
            tables.drop(store, tables.ROUTE_GROUPS, group["id"])  # over: the next alert starts another
    record = _create(ctx, store, chosen, alert)
    if values is not None:
        group = {
            "id": store.ids.ulid(),
            "route_id": chosen["id"],
            "values": values,
            "incident_id": record.id,
            "started_at": timestamp(moment),
            "last_at": timestamp(moment),
        }
        tables.put(store, tables.ROUTE_GROUPS, group)
    _attach(store, alert, record, chosen)
    return record


def _bound(template: Json, name: str) -> str | None:
    binding = (template.get(name) or {}).get("binding") or {}
    found = literals([binding])
    return found[0] if found else None


def _create(ctx: Ctx, store: IncidentStore, chosen: Json, alert: Json) -> IncidentRecord:
    template = (chosen.get("incident_config") or {}).get("template") or {}
    named = None if (template.get("name") or {}).get("autogenerated") else _bound(template, "name")
    severity = _bound(template, "severity")
    if severity not in store.catalog.severities:
        severity = min(store.catalog.severities.values(), key=lambda s: s["rank"])["id"]
    payload: Json = {
        "idempotency_key": f"alert-route:{chosen['id']}:{alert['id']}",
        "name": named or alert["title"],
        "severity_id": severity,
        "visibility": "private" if chosen.get("is_private") else "public",
    }
    summary = _bound(template, "summary")
    if summary:
        payload["summary"] = summary
    key = ApiKey(chosen["id"], "", f"Alert route: {chosen['name']}", ())
    record, _ = store.create_incident(payload, key)
    record.creator = {"alert": {"id": alert["id"], "title": alert["title"]}}
    if ctx.events is not None:
        ctx.events.incident_created(store, record)
    return record


def _attach(store: IncidentStore, alert: Json, record: IncidentRecord, chosen: Json) -> None:
    link = {
        "id": store.ids.ulid(),
        "alert_id": alert["id"],
        "incident_id": record.id,
        "alert_route_id": chosen["id"],
    }
    tables.put(store, tables.INCIDENT_ALERTS, link)
