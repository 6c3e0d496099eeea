"""Escalations V2: escalations follow their path on the sandbox clock; nobody is paged.

At create, the escalation plans its levels from the path (or one level for `user_ids`): when each level
starts, whom it would page (user targets, and whoever a schedule target's entries put on call at that
moment) and when the last one ends (`expires_at`). Its status and events are worked out from that plan
and the sandbox clock whenever it is read: `triggered` until `expires_at`, then `expired`; `cancelled`
from the cancel action on; `acked` from the control plane's acknowledge action on (nobody is paged, so
nobody else acknowledges): an acknowledged escalation pages no further level and never expires. An
escalation is private when its incident is or when it escalates a private source's alert. The
first read that finds an escalation past its end stores it as expired and announces the change.
Idempotency keys are kept on the escalations themselves, so a key is remembered as long as its escalation
is. Planning is bounded: past `MAX_PLAN` steps (handovers walked on schedule targets, people named) a
create is 422 on `escalation_path_id`, before anything is stored.

Alert routes escalate through `from_route`, registered in the routing's `ESCALATION_HOOKS`: for every new
firing alert a route accepts, one escalation per escalation path its `escalation_config` targets name, and
one for the users they name together, each linking the alert (and the incident the route opened or
joined) and keyed by route, alert and target, so the same alert never starts the same escalation twice.
The planning of one alert's escalations, through all its routes, shares one `MAX_PLAN`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import cast

import incident_mock.resources.oncall.shifts as shifts
from incident_contract.query import key_parts
from incident_mock.domain.clock import LATEST
from incident_mock.domain.errors import ApiError, ValidationFailed
from incident_mock.domain.limits import Tally
from incident_mock.domain.records import IncidentRecord, timestamp
from incident_mock.engine.context import PRIVATE_SCOPE, Ctx, Json, Reply
from incident_mock.engine.store import ResourceStore
from incident_mock.resources.alerts import alert_tables as tables
from incident_mock.resources.alerts import routing
from incident_mock.resources.alerts.bindings import literals
from incident_mock.resources.incidents.storage import IncidentStore
from incident_mock.resources.oncall.oncall_tables import moment, put
from incident_mock.resources.oncall.schedules import overrides_of

__all__ = ["EVENTS", "OPERATIONS", "acknowledge", "from_route"]

# the events this module announces (x-webhooks)
EVENTS = frozenset(
    f"{v}_escalation.escalation_{c}_v1" for v in ("public", "private") for c in ("created", "status_updated")
)

DIRECT_LEVEL = dt.timedelta(seconds=300)  # a direct escalation to users: one level this long
DEFAULT_ACK = 300  # a level with no time_to_ack_seconds
MAX_DEPTH = 16  # nested branches followed
MAX_PLAN = (
    250_000  # steps of planning (handovers walked, people named) for one request or one alert: ~a second
)
TOO_LONG = "the path's targets take too long to work out: name fewer levels or schedules"
PRIORITY = {"name": "High"}
SHOWN = (
    "id",
    "title",
    "description",
    "escalation_path_id",
    "status",
    "priority",
    "creator",
    "related_incidents",
    "related_alerts",
    "created_at",
    "updated_at",
)
SLIM_ALERT = (
    "id",
    "title",
    "description",
    "deduplication_key",
    "alert_source_id",
    "alert_group_ids",
    "source_url",
    "status",
    "created_at",
    "updated_at",
    "resolved_at",
)
SLIM_INCIDENT = ("id", "external_id", "name", "reference", "visibility", "status_category", "summary")
LISTS = ("one_of", "not_in")
OPERATORS = {
    "escalation_path": LISTS,
    "status": LISTS,
    "alert": LISTS,
    "incident": LISTS,
    "idempotency_key": LISTS,
    "created_at": ("gte", "lte"),
    "updated_at": ("gte", "lte"),
}
MAX_VALUES = 500  # of one filter, as the contract's maxItems says
STATUSES = (
    "pending",
    "triggered",
    "acked",
    "resolved",
    "expired",
    "cancelled",
    "snoozed",
    "delayed",
    "pending_repeat",
)


# --- the plan -----------------------------------------------------------------------------------------------
def _targets(
    store: ResourceStore, targets: Sequence[Json], at: dt.datetime, tally: Tally
) -> dict[str, list[Json]]:
    """urgency -> the people the targets name at moment `at` (each once); 422 once `tally` is past
    MAX_PLAN."""
    found: dict[str, list[Json]] = {}
    users = store.table("users")
    for target in targets:
        people: list[Json] = []
        if target.get("type") == "user" and target.get("id") in users:
            people = [store.answer("users", users[target["id"]])]
        elif target.get("type") == "schedule":
            schedule = store.table("schedules").get(target.get("id", ""))
            if schedule is not None:
                if target.get("schedule_mode") in ("all_users", "all_users_for_rota"):
                    rotations = schedule.get("config", {}).get("rotations", [])
                    people = [u for r in rotations for u in r.get("users", [])]
                else:
                    overrides = overrides_of(store, schedule["id"])
                    tally.steps += len(overrides)
                    people = [e["user"] for e in shifts.on_call(schedule, overrides, at, tally)]
        tally.steps += 1 + len(people)
        if tally.steps > MAX_PLAN:
            raise ValidationFailed.invalid("escalation_path_id", TOO_LONG)
        mine = found.setdefault(str(target.get("urgency") or "high"), [])
        mine += [p for p in people if all(p["id"] != q["id"] for q in mine)]
    return {urgency: people for urgency, people in found.items() if people}


def _walk(
    store: ResourceStore, nodes: Sequence[Json], at: dt.datetime, levels: list[Json], depth: int, tally: Tally
) -> dt.datetime:
    for node in nodes:
        kind = node.get("type")
        if kind == "level" and isinstance(node.get("level"), dict):
            level = node["level"]
            for urgency, people in _targets(store, level.get("targets", []), at, tally).items():
                levels.append({"at": timestamp(at), "users": people, "urgency": urgency})
            at += dt.timedelta(seconds=max(0, int(level.get("time_to_ack_seconds") or DEFAULT_ACK)))
        elif kind == "notify_channel" and isinstance(node.get("notify_channel"), dict):
            at += dt.timedelta(seconds=max(0, int(node["notify_channel"].get("time_to_ack_seconds") or 0)))
        elif kind == "delay" and isinstance(node.get("delay"), dict):
            at += dt.timedelta(seconds=max(0, int(node["delay"].get("delay_seconds") or 0)))
        elif kind == "if_else" and isinstance(node.get("if_else"), dict) and depth < MAX_DEPTH:
            at = _walk(store, node["if_else"].get("else_path") or [], at, levels, depth + 1, tally)
    return at


def _plan(store: ResourceStore, body: Json, now: dt.datetime, tally: Tally) -> tuple[list[Json], dt.datetime]:
    levels: list[Json] = []
    if tally.steps > MAX_PLAN:  # an alert whose earlier escalations took the whole budget
        raise ValidationFailed.invalid("escalation_path_id", TOO_LONG)
    if body.get("escalation_path_id") is not None:
        path = store.table("escalation_paths").get(body["escalation_path_id"])
        if path is None:
            raise ValidationFailed.invalid("escalation_path_id", "no such escalation path")
        try:
            end = _walk(store, path.get("path", []), now, levels, 0, tally)
        except OverflowError:
            end = LATEST
        if end >= LATEST:  # every instant it keeps must be one the sandbox clock can show
            raise ValidationFailed.invalid("escalation_path_id", "the path's levels last too long")
        return levels, end
    users = store.table("users")
    ids = body.get("user_ids") or []
    for i, user_id in enumerate(ids):
        if user_id not in users:
            raise ValidationFailed.invalid(f"user_ids[{i}]", "names no user of the organisation")
    people = [store.answer("users", users[u]) for u in dict.fromkeys(ids)]
    return [{"at": timestamp(now), "users": people, "urgency": "high"}], now + DIRECT_LEVEL


# --- status and answer --------------------------------------------------------------------------------------
def _events(row: Json, now: dt.datetime) -> list[Json]:
    if "levels" not in row:  # seeded from fixtures: its history as written there
        return list(row.get("events", []))
    created = row["created_at"]
    events: list[Json] = [{"event": "triggered", "occurred_at": created}]
    cutoff = now
    for status, stopped in (("cancelled", "cancelled_at"), ("acked", "acked_at")):
        if row["status"] == status and row.get(stopped):
            cutoff = min(now, moment(row[stopped], stopped))
    for level in row.get("levels", []):
        if moment(level["at"], "at") <= cutoff:
            events.append(
                {
                    "event": "notified_users",
                    "occurred_at": level["at"],
                    "users": level["users"],
                    "urgency": level["urgency"],
                }
            )
    if row["status"] == "expired":
        events.append({"event": "expired", "occurred_at": row["expires_at"]})
    elif row["status"] == "cancelled" and row.get("cancelled_at"):
        events.append({"event": "cancelled", "occurred_at": row["cancelled_at"]})
    elif row["status"] == "acked" and row.get("acked_at"):
        events.append({"event": "acked", "occurred_at": row["acked_at"]})
    return [{"id": f"{row['id']}-{i}", **e} for i, e in enumerate(events)]


def _shown(row: Json, now: dt.datetime) -> Json:
    out = {k: row[k] for k in SHOWN if k in row}
    out["events"] = _events(row, now)
    return out


def _visibility(store: ResourceStore, row: Json) -> str:
    """Private when its incident is, or when it escalates an alert of a private source."""
    incident = row.get("incident_id")
    alerts = tables.rows_of(store, "alerts")
    if any((alerts.get(a.get("id", "")) or {}).get("private") for a in row.get("related_alerts", [])):
        return "private"
    return (store.visibility_of(incident) if isinstance(incident, str) else None) or "public"


def _settle(ctx: Ctx, rows: Sequence[Json]) -> list[Json]:
    """The rows as of the sandbox clock: a triggered one past its end is stored as expired, and announced."""
    store, now = ctx.store, ctx.store.clock.now()
    out: list[Json] = []
    for row in rows:
        if (
            row.get("status") == "triggered"
            and row.get("expires_at")
            and moment(row["expires_at"], "expires_at") <= now
        ):
            with store.lock:
                latest = store.table("escalations").get(row["id"], row)
                if latest.get("status") == "triggered":
                    latest = put(
                        store,
                        "escalations",
                        {**latest, "status": "expired", "updated_at": latest["expires_at"]},
                    )
                    _status_changed(ctx, latest, "triggered", None)
            row = latest
        out.append(row)
    return out


def _status_changed(ctx: Ctx, row: Json, previous: str, actor: Json | None) -> None:
    if ctx.events is None:
        return
    visibility = _visibility(ctx.store, row)
    event = f"{visibility}_escalation.escalation_status_updated_v1"
    if visibility == "private":
        ctx.events.announce(event, {"id": row["id"]})
        return
    change: Json = {
        "escalation": _shown(row, ctx.store.clock.now()),
        "previous_status": previous,
        "new_status": row["status"],
    }
    if actor is not None:
        change["actor"] = actor
    ctx.events.announce(event, change)


# --- operations ---------------------------------------------------------------------------------------------
def _incident(ctx: Ctx, incident_id: str) -> Json:
    store = cast(IncidentStore, ctx.store)
    try:
        record = store.find_incident(incident_id, ctx.private_ok)
    except ApiError:
        raise ValidationFailed.invalid("incident_id", "no such incident") from None
    full = json.loads(store.encoded(record))
    slim = {k: full[k] for k in SLIM_INCIDENT if k in full}
    slim["status_category"] = full.get("incident_status", {}).get("category", "active")
    slim.setdefault("external_id", int(str(full.get("reference", "INC-0")).rsplit("-", 1)[-1] or 0))
    return slim


def _digest(body: Json) -> str:
    sent = {k: body.get(k) for k in ("title", "escalation_path_id", "user_ids", "incident_id")}
    return hashlib.sha256(json.dumps(sent, sort_keys=True).encode()).hexdigest()


def create(ctx: Ctx, body: Json) -> Reply:
    row, replayed = _start(ctx, body)
    answer = {"escalation": _shown(row, ctx.store.clock.now())}
    return (answer, 201, {"Idempotent-Replayed": "true"}) if replayed else (answer, 201)


def _start(
    ctx: Ctx, body: Json, creator: Json | None = None, alerts: Sequence[Json] = (), tally: Tally | None = None
) -> tuple[Json, bool]:
    """The escalation `body` asks for, created (and announced) or, for a key used before, the earlier one
    (True: a replay); `creator` and `alerts` are an alert route's, `tally` the planning its alert has
    done so far."""
    store = ctx.store
    if (body.get("escalation_path_id") is None) == (body.get("user_ids") is None):
        raise ValidationFailed.invalid(
            "escalation_path_id", "give exactly one of escalation_path_id and user_ids"
        )
    if body.get("user_ids") is not None and not body["user_ids"]:
        raise ValidationFailed.invalid("user_ids", "must name at least one user")
    digest = _digest(body)
    with store.lock:
        for earlier in store.rows("escalations"):
            if earlier.get("idempotency_key") == body["idempotency_key"]:
                # one the caller may not see is never answered to it: as for another request
                if earlier.get("request") != digest or not _visible(ctx, earlier):
                    raise ValidationFailed.invalid(
                        "idempotency_key", "was used for an escalation with a different request"
                    )
                [earlier] = _settle(ctx, [earlier])
                return earlier, True
        now = store.clock.now()
        incidents = [_incident(ctx, body["incident_id"])] if body.get("incident_id") else []
        levels, end = _plan(store, body, now, tally if tally is not None else Tally())
        row: Json = {
            "id": store.ids.ulid(),
            "title": body["title"],
            "description": incidents[0].get("summary", "") if incidents else "",
            "status": "triggered",
            "priority": dict(PRIORITY),
            "creator": dict(creator or {}),
            "related_incidents": incidents,
            "related_alerts": list(alerts),
            "events": [],  # worked out when read (_events)
            "idempotency_key": body["idempotency_key"],
            "request": digest,
            "levels": levels,
            "expires_at": timestamp(end),
            "created_at": timestamp(now),
            "updated_at": timestamp(now),
        }
        if body.get("escalation_path_id") is not None:
            row["escalation_path_id"] = body["escalation_path_id"]
        if body.get("user_ids") is not None:
            row["user_ids"] = list(body["user_ids"])
        if body.get("incident_id"):
            row["incident_id"] = body["incident_id"]
        row = put(store, "escalations", row)
    if ctx.events is not None:
        visibility = _visibility(store, row)
        event = f"{visibility}_escalation.escalation_created_v1"
        ctx.events.announce(event, {"id": row["id"]} if visibility == "private" else _shown(row, now))
    [row] = _settle(ctx, [row])  # a path with no levels ends at once
    return row, False


def _visible(ctx: Ctx, row: Json) -> bool:
    return ctx.private_ok or _visibility(ctx.store, row) != "private"


def show(ctx: Ctx, id: str) -> Reply:
    row = ctx.store.get("escalations", id)
    if not _visible(ctx, row):
        ctx.store.get("escalations", "")  # answers 404, as for an unknown id
    [row] = _settle(ctx, [row])
    return {"escalation": _shown(row, ctx.store.clock.now())}, 200


def _filters(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """The list's filters from the query's pairs (`status[one_of]=triggered`), checked as the contract
    declares them; 422 naming the parameter otherwise."""
    found: dict[tuple[str, str], list[str]] = {}
    for key, value in pairs:
        if key in ("page_size", "after"):
            continue
        parts = key_parts(key)
        name, op = (parts[0], parts[1] or "") if parts is not None else (key, "")
        if name not in OPERATORS or op not in OPERATORS[name]:
            raise ValidationFailed.invalid(
                name, f"takes {', '.join(f'{name}[{o}]' for o in OPERATORS.get(name, ()))}"
            )
        if not value:
            raise ValidationFailed.invalid(name, "is empty")
        if name == "status" and value not in STATUSES:
            raise ValidationFailed.invalid(name, f"{value[:40]!r} is not an escalation status")
        if op in ("gte", "lte"):
            moment(value, f"{name}[{op}]")
        values = found.setdefault((name, op), [])
        values.append(value)
        if len(values) > (1 if op in ("gte", "lte") else MAX_VALUES):
            raise ValidationFailed.invalid(name, f"[{op}] takes too many values")
    return found


def _keeps(row: Json, filters: dict[tuple[str, str], list[str]]) -> bool:
    held = {
        "escalation_path": [row.get("escalation_path_id")],
        "status": [row.get("status")],
        "alert": [a.get("id") for a in row.get("related_alerts", [])],
        "incident": [i.get("id") for i in row.get("related_incidents", [])],
        "idempotency_key": [row.get("idempotency_key")],
    }
    for (name, op), values in filters.items():
        if name in ("created_at", "updated_at"):
            mine = moment(row[name], name)
            bound = moment(values[-1], f"{name}[{op}]")
            if (op == "gte" and mine < bound) or (op == "lte" and mine > bound):
                return False
        elif (op == "one_of" and not set(values) & set(held[name])) or (
            op == "not_in" and set(values) & set(held[name])
        ):
            return False
    return True


def list_(
    ctx: Ctx, page_size: int, after: str | None = None, query_pairs: Sequence[tuple[str, str]] = ()
) -> Reply:
    store = ctx.store
    filters = _filters(query_pairs)
    rows = _settle(ctx, [r for r in reversed(store.rows("escalations")) if _visible(ctx, r)])
    rows = [r for r in rows if _keeps(r, filters)]
    start = 0
    if after is not None:
        ids = [r["id"] for r in rows]
        if after not in ids:
            raise ValidationFailed.invalid("after", "unknown cursor")
        start = ids.index(after) + 1
    page = rows[start : start + page_size]
    meta: Json = {"page_size": page_size}
    if start + page_size < len(rows) and page:
        meta["after"] = page[-1]["id"]
    now = store.clock.now()
    return {"escalations": [_shown(r, now) for r in page], "pagination_meta": meta}, 200


def cancel(ctx: Ctx, id: str) -> Reply:
    store = ctx.store
    with store.lock:
        row = store.get("escalations", id)
        if not _visible(ctx, row):
            store.get("escalations", "")
        [row] = _settle(ctx, [row])
        if row["status"] == "cancelled":
            return None, 200
        if row["status"] != "triggered":
            raise ValidationFailed.invalid("id", f"the escalation is {row['status']} and cannot be cancelled")
        now = timestamp(store.clock.now())
        row = put(
            store, "escalations", {**row, "status": "cancelled", "cancelled_at": now, "updated_at": now}
        )
    _status_changed(ctx, row, "triggered", {"api_key": {"id": ctx.key.id, "name": ctx.key.name}})
    return None, 200


def acknowledge(ctx: Ctx, id: str) -> Json:
    """The control plane's acknowledge: a triggered escalation becomes `acked` (announced, with no actor:
    nobody in particular acknowledged it), an acknowledged one is answered as it is, any other is 422; the
    escalation as shown."""
    store = ctx.store
    with store.lock:
        [row] = _settle(ctx, [store.get("escalations", id)])
        if row["status"] == "acked":
            return _shown(row, store.clock.now())
        if row["status"] != "triggered":
            raise ValidationFailed.invalid(
                "escalation_id", f"the escalation is {row['status']} and cannot be acknowledged"
            )
        now = timestamp(store.clock.now())
        row = put(store, "escalations", {**row, "status": "acked", "acked_at": now, "updated_at": now})
    _status_changed(ctx, row, "triggered", None)
    return _shown(row, store.clock.now())


# --- alert routes -------------------------------------------------------------------------------------------
def _slim_alert(ctx: Ctx, alert: Json) -> Json:
    shown = ctx.store.answer("alerts", alert)
    return {k: shown[k] for k in SLIM_ALERT if k in shown}


def from_route(ctx: Ctx, route: Json, alert: Json, incident: IncidentRecord | None, tally: Tally) -> None:
    """The escalations a route's `escalation_config` starts for a new firing alert (module docstring):
    targets naming no known path or user start nothing; a full table starts no more, nor does an alert
    whose escalations (through every route) have taken MAX_PLAN steps of planning (`tally`)."""
    paths: list[str] = []
    users: list[str] = []
    known_paths, known_users = ctx.store.table("escalation_paths"), ctx.store.table("users")
    for target in (route.get("escalation_config") or {}).get("escalation_targets") or []:
        if not isinstance(target, dict):
            continue
        paths += [p for p in literals([target.get("escalation_paths") or {}]) if p in known_paths]
        users += [u for u in literals([target.get("users") or {}]) if u in known_users]
    asked: list[tuple[str, Json]] = [(f"path:{p}", {"escalation_path_id": p}) for p in dict.fromkeys(paths)]
    if users:
        asked.append(("users", {"user_ids": list(dict.fromkeys(users))}))
    creator = {"alert": {"id": alert["id"], "title": alert["title"]}}
    ctx = dataclasses.replace(ctx, scopes=ctx.scopes | {PRIVATE_SCOPE})  # the route's own incident
    for target_key, target in asked:
        body: Json = {
            **target,
            "idempotency_key": f"alert-route:{route['id']}:{alert['id']}:{target_key}",
            "title": alert["title"],
        }
        if incident is not None:
            body["incident_id"] = incident.id
        try:
            _start(ctx, body, creator, [_slim_alert(ctx, alert)], tally)
        except ApiError:  # no room for another escalation: the alert stays, unescalated
            continue


routing.ESCALATION_HOOKS.append(from_route)


OPERATIONS: dict[str, Callable[..., Reply]] = {
    "Escalations V2#Create": create,
    "Escalations V2#Show": show,
    "Escalations V2#List": list_,
    "Escalations V2#CancelEscalation": cancel,
}
