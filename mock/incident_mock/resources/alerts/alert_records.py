"""Alerts V2: listing alerts with upstream's filters, showing and resolving one, and the links between alerts
and the incidents routes attached them to. An alert of a private source (its template's `is_private`) is
for keys that may see private things only: to any other it is left out of lists and 404, as an unknown id."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, cast

from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.engine.catalog import find
from incident_mock.engine.context import Ctx, Reply
from incident_mock.engine.paging import page
from incident_mock.resources.alerts import alert_tables as tables
from incident_mock.resources.alerts.alert_events import resolve
from incident_mock.resources.incidents.storage import IncidentStore

__all__ = ["OPERATIONS"]

Json = dict[str, Any]
PAIR = re.compile(r"([a-z_]+)\[([^\[\]]*)\](?:\[([^\[\]]*)\])?")
# filter -> its operators (attributes: per attribute id)
OPERATORS = {
    "status": ("one_of", "not_in"),
    "alert_source": ("one_of", "not_in"),
    "deduplication_key": ("is",),
    "created_at": ("gte", "lte", "date_range"),
    "updated_at": ("gte", "lte", "date_range"),
    "tags": ("one_of", "not_in"),
    "has_notes": ("is",),
    "attributes": ("one_of",),
    "alert_group_id": ("one_of",),
    "include_maintenance_window": ("is",),
}
STATUSES = ("firing", "resolved")
DATE = len("2026-01-12")  # a value this long is a date, not a timestamp
CATEGORY = {"live": "active", "learning": "post-incident"}  # our status categories in IncidentSlimV2's words


def _filters(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str, str], list[str]]:
    """(filter, attribute id or "", operator) -> the values, from the query's deepObject pairs."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for key, value in pairs:
        match = PAIR.fullmatch(key)
        if match is None:
            continue
        name, first, second = match.groups()
        if name not in OPERATORS:
            continue
        attribute, operator = (first, second or "") if name == "attributes" else ("", first)
        if operator not in OPERATORS[name]:
            known = ", ".join(OPERATORS[name])
            raise ValidationFailed.invalid(name, f"unsupported operator {operator[:50]!r}; use {known}")
        values = [v for v in value.split(",") if v]
        if name == "status" and any(v not in STATUSES for v in values):
            raise ValidationFailed.invalid(name, f"{value[:50]!r} is not one of {', '.join(STATUSES)}")
        found.setdefault((name, attribute, operator), []).extend(values)
    return found


def _moment(value: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.invalid(name, f"not a date or a timestamp: {value[:50]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


Bound = tuple[dt.datetime | None, dt.datetime | None, bool]  # low (kept), high, whether high is kept too


def _bound(name: str, operator: str, values: list[str]) -> Bound:
    """What a `created_at` or `updated_at` filter keeps, read once (every value must hold, so the latest low
    and the earliest high decide); a date bound covers the whole day, the calendar's last day included."""
    low: dt.datetime | None = None
    high: dt.datetime | None = None
    kept = False

    def day_after(moment: dt.datetime, value: str) -> dt.datetime | None:
        if len(value) > DATE:
            return moment
        try:
            return moment + dt.timedelta(days=1)
        except OverflowError:  # the day after the calendar's last: no bound
            return None

    def tighten(found: dt.datetime | None, inclusive: bool) -> None:
        nonlocal high, kept
        if found is not None and (high is None or found < high or (found == high and not inclusive)):
            high, kept = found, inclusive

    for value in values:
        if operator == "date_range":
            start, _, end = value.partition("~")
            first = _moment(start, name)
            low = first if low is None else max(low, first)
            tighten(day_after(_moment(end or start, name), end or start), False)
        elif operator == "gte":
            first = _moment(value, name)
            low = first if low is None else max(low, first)
        elif operator == "lte":
            tighten(day_after(_moment(value, name), value), True)
    return low, high, kept


def _within(alert: Json, name: str, bound: Bound) -> bool:
    held = dt.datetime.fromisoformat(alert[name])
    low, high, kept = bound
    if low is not None and held < low:
        return False
    return high is None or held < high or (kept and held == high)


def _keeps_one(
    alert: Json, key: tuple[str, str, str], values: list[str], noted: set[str], bounds: dict[Any, Bound]
) -> bool:
    name, attribute, operator = key
    if name in ("status", "alert_source"):
        held = alert["status"] if name == "status" else alert["alert_source_id"]
        return (held in values) == (operator == "one_of")
    if name == "deduplication_key":
        return alert["deduplication_key"] in values
    if name == "has_notes":
        return not values or (alert["id"] in noted) == (values[0].lower() == "true")
    if name == "tags":
        return operator != "one_of"  # the mock keeps no alert tags
    if name == "attributes":
        held_values = {
            str(v.get("literal"))
            for e in alert.get("attributes", [])
            if e["attribute"]["id"] == attribute
            for v in [e.get("value") or {}, *(e.get("array_value") or [])]
        }
        return bool(held_values & set(values))
    if name in ("created_at", "updated_at"):
        return _within(alert, name, bounds[key])
    return True  # alert groups and maintenance windows: the mock has none


def _keeps(
    alert: Json, filters: dict[tuple[str, str, str], list[str]], noted: set[str], bounds: dict[Any, Bound]
) -> bool:
    return all(_keeps_one(alert, key, values, noted, bounds) for key, values in filters.items())


def list_(
    ctx: Ctx, page_size: int, after: str | None = None, query_pairs: Sequence[tuple[str, str]] = ()
) -> Reply:
    store = ctx.store
    filters = _filters(query_pairs)
    noted = {str(n.get("alert_id")) for n in store.table("alert_notes").values()}
    bounds = {
        key: _bound(key[0], key[2], values)
        for key, values in filters.items()
        if key[0] in ("created_at", "updated_at")
    }
    rows = [
        a
        for a in tables.rows_of(store, "alerts").values()
        if _seen(ctx, a) and _keeps(a, filters, noted, bounds)
    ]
    rows.sort(key=lambda a: (a["created_at"], a["id"]), reverse=True)
    found, meta = page(rows, page_size, after)
    return {"alerts": [store.answer("alerts", a) for a in found], "pagination_meta": meta}, 200


def _seen(ctx: Ctx, alert: Json) -> bool:
    """Whether the caller's key may see this alert."""
    return ctx.private_ok or not alert.get("private")


def _alert(ctx: Ctx, alert_id: str) -> Json:
    alerts = tables.rows_of(ctx.store, "alerts")
    found = alerts.get(alert_id)
    return find(alerts if found is None or _seen(ctx, found) else {}, "alert", alert_id)


def show(ctx: Ctx, id: str) -> Reply:
    return {"alert": ctx.store.answer("alerts", _alert(ctx, id))}, 200


def resolve_(ctx: Ctx, id: str) -> Reply:
    with ctx.store.lock:
        done = resolve(ctx, _alert(ctx, id))
    return {"alert": ctx.store.answer("alerts", done)}, 200


def list_incident_alerts(
    ctx: Ctx,
    page_size: int,
    after: str | None = None,
    alert_id: str | None = None,
    incident_id: str | None = None,
) -> Reply:
    store = cast(IncidentStore, ctx.store)
    alerts = tables.rows_of(store, "alerts")
    shown = []
    for link in tables.rows_of(store, tables.INCIDENT_ALERTS).values():
        if alert_id is not None and link["alert_id"] != alert_id:
            continue
        if incident_id is not None and link["incident_id"] != incident_id:
            continue
        alert = alerts.get(link["alert_id"])
        try:
            record = store.find_incident(link["incident_id"], ctx.private_ok)
        except NotFound:  # a private incident the caller may not see
            continue
        if alert is None or not _seen(ctx, alert):
            continue
        category = store.catalog.statuses[record.status_id]["category"]
        incident: Json = {
            "id": record.id,
            "external_id": record.number,
            "name": record.name,
            "reference": f"INC-{record.number}",
            "visibility": record.visibility,
            "status_category": CATEGORY.get(category, category),
        }
        if record.summary is not None:
            incident["summary"] = record.summary
        slim = store.answer("alerts", alert)
        slim.pop("attributes", None)
        shown.append(
            {"id": link["id"], "alert": slim, "incident": incident, "alert_route_id": link["alert_route_id"]}
        )
    found, meta = page(shown, page_size, after)
    return {"incident_alerts": found, "pagination_meta": meta}, 200


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Alerts V2#List": list_,
    "Alerts V2#Show": show,
    "Alerts V2#Resolve": resolve_,
    "Alerts V2#ListIncidentAlerts": list_incident_alerts,
}
