"""Schedules V2 and Schedule Sync Targets V2: the writes the engine cannot make from a declaration, and the
computed entries.

Schedule, replica, sync rule and sync target bodies are wrapped (`{"schedule": {...}}`) and name people by
reference, so their creates and updates build the row here and store it whole (oncall_tables.py); lists and
shows of what is stored as answered are the engine's (x-resources). A sync target's `linked_schedules` is
kept on it, written again whenever a sync rule or a schedule changes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import incident_mock.resources.oncall.shifts as shifts
from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.engine.store import ResourceStore
from incident_mock.resources.oncall.oncall_tables import drop, moment, person, put, remove, stamp

__all__ = ["EVENTS", "OPERATIONS", "overrides_of", "schedule_row", "slim"]

# the events this module announces (x-webhooks)
EVENTS = frozenset(f"schedule.{c}_v1" for c in ("created", "updated", "deleted", "shift_change"))

MAX_ROTATIONS = 50  # versions included
MAX_LAYERS = 20
MAX_USERS = 200
MAX_USERS_IN_ALL = 1_000  # across the rotations: each is answered as a full user, in every list and show
MAX_HANDOVERS = 100
MAX_INTERVAL = {"hourly": 24 * 366, "daily": 3660, "weekly": 520}
CLOCK_TIME = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9](?::00)?$|^24:00(?::00)?$")
SLIM = ("id", "name", "timezone", "team_ids", "created_at", "updated_at")


# --- schedules ------------------------------------------------------------------------------------------
def _check(condition: bool, field: str, detail: str) -> None:
    if not condition:
        raise ValidationFailed.invalid(field, detail)


def _rotation(store: ResourceStore, given: Json, where: str, now: str) -> Json:
    name = given.get("name")
    _check(isinstance(name, str) and bool(name.strip()), f"{where}.name", "is required")
    layers = given.get("layers") or [{"name": "Primary"}]
    _check(len(layers) <= MAX_LAYERS, f"{where}.layers", f"at most {MAX_LAYERS} layers")
    users = given.get("users") or []
    _check(len(users) <= MAX_USERS, f"{where}.users", f"at most {MAX_USERS} users")
    handovers = given.get("handovers") or [{"interval_type": "weekly", "interval": 1}]
    _check(len(handovers) <= MAX_HANDOVERS, f"{where}.handovers", f"at most {MAX_HANDOVERS} handovers")
    for i, h in enumerate(handovers):
        kind, count = h.get("interval_type"), h.get("interval")
        _check(
            kind in MAX_INTERVAL, f"{where}.handovers[{i}].interval_type", "must be hourly, daily or weekly"
        )
        top = MAX_INTERVAL[str(kind)]
        _check(
            isinstance(count, int) and 1 <= count <= top,
            f"{where}.handovers[{i}].interval",
            f"must be a whole number from 1 to {top}",
        )
    intervals = given.get("working_intervals") or given.get("working_interval") or []
    _check(len(intervals) <= 7 * 24, f"{where}.working_intervals", "too many intervals")
    for i, w in enumerate(intervals):
        _check(
            w.get("weekday") in shifts.WEEKDAYS, f"{where}.working_intervals[{i}].weekday", "is not a weekday"
        )
        for key in ("start_time", "end_time"):
            _check(
                isinstance(w.get(key), str) and bool(CLOCK_TIME.match(w[key])),
                f"{where}.working_intervals[{i}].{key}",
                "must be a 24-hour time such as 09:00",
            )
    start = given.get("handover_start_at") or now
    moment(start, f"{where}.handover_start_at")
    out: Json = {
        "id": given.get("id") or store.ids.ulid(),
        "name": name,
        "handover_start_at": start,
        "handovers": [{"interval_type": h["interval_type"], "interval": h["interval"]} for h in handovers],
        "layers": [
            {"id": layer.get("id") or store.ids.ulid(), "name": layer.get("name") or ""} for layer in layers
        ],
        "users": [person(store, u, f"{where}.users[{i}]") for i, u in enumerate(users)],
        "working_intervals": [
            {"weekday": w["weekday"], "start_time": w["start_time"], "end_time": w["end_time"]}
            for w in intervals
        ],
    }
    if given.get("effective_from"):
        moment(given["effective_from"], f"{where}.effective_from")
        out["effective_from"] = given["effective_from"]
    if given.get("scheduling_mode"):
        out["scheduling_mode"] = given["scheduling_mode"]
    return out


def schedule_row(store: ResourceStore, given: Json, current: Json | None) -> Json:
    """The schedule `given` (a create or update payload) makes, over `current` when updating; not stored."""
    now = stamp(store)
    row: Json = (
        copy.deepcopy(current)
        if current is not None
        else {
            "id": store.ids.ulid(),
            "timezone": "UTC",
            "team_ids": [],
            "annotations": {},
            "config": {"rotations": []},
            "holidays_public_config": {"country_codes": []},
            "created_at": now,
        }
    )
    if current is None or "name" in given:
        name = given.get("name")
        _check(isinstance(name, str) and bool(name.strip()), "schedule.name", "is required")
        row["name"] = name
    if given.get("timezone") is not None:
        shifts.zone(given["timezone"], "schedule.timezone")
        row["timezone"] = given["timezone"]
    for key in ("team_ids", "annotations"):
        if key in given:
            row[key] = given[key]
    if "holidays_public_config" in given:
        row["holidays_public_config"] = {
            "country_codes": list(given["holidays_public_config"].get("country_codes", []))
        }
    if "config" in given:
        rotations = given["config"].get("rotations") or []
        _check(
            len(rotations) <= MAX_ROTATIONS, "schedule.config.rotations", f"at most {MAX_ROTATIONS} rotations"
        )
        named = sum(len(r.get("users") or []) for r in rotations if isinstance(r, dict))
        _check(
            named <= MAX_USERS_IN_ALL,
            "schedule.config.rotations",
            f"at most {MAX_USERS_IN_ALL:,} users across the rotations ({named:,} given)",
        )
        row["config"] = {
            "rotations": [
                _rotation(store, r, f"schedule.config.rotations[{i}]", now) for i, r in enumerate(rotations)
            ]
        }
    row["updated_at"] = now
    org = store.catalog.organisation
    row["permalink"] = f"{org.get('dashboard_url', '')}/on-call/schedules/{row['id']}"
    return row


def overrides_of(store: ResourceStore, schedule_id: str) -> list[Json]:
    return [o for o in store.rows("schedule_overrides") if o.get("schedule_id") == schedule_id]


def _shown(store: ResourceStore, row: Json) -> Json:
    out = store.answer("schedules", row)
    out["current_shifts"] = shifts.on_call(row, overrides_of(store, row["id"]), store.clock.now())
    return out


def slim(row: Json) -> Json:
    """A schedule as ScheduleSlimV2."""
    return {k: row[k] for k in SLIM if k in row}


def _announce(ctx: Ctx, event: str, row: Json) -> None:
    if ctx.events is not None:
        ctx.events.announce(event, slim(row))


def _relink(store: ResourceStore) -> None:
    """Write each sync target's `linked_schedules` again from the rules that name it."""
    schedules = store.table("schedules")
    linked: dict[str, list[Json]] = {}
    for rule in store.rows("schedule_sync_rules"):
        target, schedule = rule.get("schedule_sync_target_id"), schedules.get(rule.get("schedule_id", ""))
        if isinstance(target, str) and schedule is not None:
            mine = linked.setdefault(target, [])
            if all(s["id"] != schedule["id"] for s in mine):
                mine.append(
                    {"id": schedule["id"], "name": schedule["name"], "team_ids": schedule.get("team_ids", [])}
                )
    for target in store.rows("schedule_sync_targets"):
        want = linked.get(target["id"], [])
        if target.get("linked_schedules") != want:
            put(store, "schedule_sync_targets", {**target, "linked_schedules": want})


def create(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        row = put(store, "schedules", schedule_row(store, body["schedule"], None))
    _announce(ctx, "schedule.created_v1", row)
    return {"schedule": _shown(store, row)}, 201


def show(ctx: Ctx, id: str) -> Reply:
    return {"schedule": _shown(ctx.store, ctx.store.get("schedules", id))}, 200


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        row = put(store, "schedules", schedule_row(store, body["schedule"], store.get("schedules", id)))
        _relink(store)
    _announce(ctx, "schedule.updated_v1", row)
    return {"schedule": _shown(store, row)}, 200


def destroy(ctx: Ctx, id: str) -> Reply:
    store = ctx.store
    with store.lock:
        row = store.get("schedules", id)
        gone: dict[str, list[str]] = {"schedules": [id]}
        for name in ("schedule_overrides", "schedule_replicas", "schedule_sync_rules"):
            gone[name] = [r["id"] for r in store.rows(name) if r.get("schedule_id") == id]
        drop(store, gone)
        _relink(store)
    _announce(ctx, "schedule.deleted_v1", row)
    return None, 202


def list_entries(
    ctx: Ctx, schedule_id: str, entry_window_start: str | None = None, entry_window_end: str | None = None
) -> Reply:
    store = ctx.store
    schedule = store.table("schedules").get(schedule_id)
    if schedule is None:
        raise ValidationFailed.invalid("schedule_id", "no such schedule")
    lo, hi = shifts.window(entry_window_start, entry_window_end, store.clock.now())
    return {"schedule_entries": shifts.entries(schedule, overrides_of(store, schedule_id), lo, hi)}, 200


def preview_entries(ctx: Ctx, id: str, body: Json) -> Reply:
    store = ctx.store
    proposed = schedule_row(store, body["schedule"], store.get("schedules", id))
    lo, hi = shifts.window(body.get("entry_window_start"), body.get("entry_window_end"), store.clock.now())
    return {"schedule_entries": shifts.entries(proposed, overrides_of(store, id), lo, hi)}, 200


# --- overrides ---------------------------------------------------------------------------------------------
def _override(store: ResourceStore, body: Json, current: Json | None) -> Json:
    schedule_id = current["schedule_id"] if current is not None else body["schedule_id"]
    schedule = store.table("schedules").get(schedule_id)
    if schedule is None:
        raise ValidationFailed.invalid("schedule_id", "no such schedule")
    rotations = [r for r in schedule.get("config", {}).get("rotations", []) if r["id"] == body["rotation_id"]]
    _check(bool(rotations), "rotation_id", "is not a rotation of the schedule")
    _check(
        any(layer["id"] == body["layer_id"] for r in rotations for layer in r.get("layers", [])),
        "layer_id",
        "is not a layer of the rotation",
    )
    start, end = moment(body["start_at"], "start_at"), moment(body["end_at"], "end_at")
    _check(start < end, "end_at", "must be after start_at")
    now = stamp(store)
    return {
        "id": current["id"] if current is not None else store.ids.ulid(),
        "schedule_id": schedule_id,
        "rotation_id": body["rotation_id"],
        "layer_id": body["layer_id"],
        "user": person(store, body["user"], "user"),
        "start_at": body["start_at"],
        "end_at": body["end_at"],
        "created_at": current["created_at"] if current is not None else now,
        "updated_at": now,
    }


def create_override(ctx: Ctx, body: Json) -> Reply:
    with ctx.store.lock:
        row = put(ctx.store, "schedule_overrides", _override(ctx.store, body, None))
    return {"override": ctx.store.answer("schedule_overrides", row)}, 201


def update_override(ctx: Ctx, id: str, body: Json) -> Reply:
    with ctx.store.lock:
        row = _override(ctx.store, body, ctx.store.get("schedule_overrides", id))
        row = put(ctx.store, "schedule_overrides", row)
    return {"override": ctx.store.answer("schedule_overrides", row)}, 200


def destroy_override(ctx: Ctx, id: str) -> Reply:
    remove(ctx.store, "schedule_overrides", id)
    return None, 204


# --- replicas ---------------------------------------------------------------------------------------
def _parent(store: ResourceStore, schedule_id: str) -> Json:
    """The schedule a nested path names; 422 naming `schedule_id` when there is none."""
    schedule = store.table("schedules").get(schedule_id)
    if schedule is None:
        raise ValidationFailed.invalid("schedule_id", "no such schedule")
    return schedule


def create_replica(ctx: Ctx, schedule_id: str, body: Json) -> Reply:
    store = ctx.store
    given = body["schedule_replica"]
    with store.lock:
        schedule = _parent(store, schedule_id)
        rotations = schedule.get("config", {}).get("rotations", [])
        for i, source in enumerate(given["sources"]):
            _check(
                any(
                    r["id"] == source.get("rotation_id")
                    and any(layer["id"] == source.get("layer_id") for layer in r["layers"])
                    for r in rotations
                ),
                f"sources[{i}]",
                "names no rotation and layer of the schedule",
            )
        users: list[str] = []
        for r in rotations:
            users += [u["id"] for u in r.get("users", []) if u["id"] not in users]
        now = stamp(store)
        row = {
            "id": store.ids.ulid(),
            "schedule_id": schedule_id,
            "sources": [
                {"rotation_id": s["rotation_id"], "layer_id": s["layer_id"]} for s in given["sources"]
            ],
            "replica_provider": given["replica_provider"],
            "replica_provider_id": given["replica_provider_id"],
            "replica_fallback_user_id": given["replica_fallback_user_id"],
            "mirror_window_days": given.get("mirror_window_days", 14),
            "user_statuses": [{"user_id": u} for u in users],
            "created_at": now,
            "updated_at": now,
        }
        row = put(store, "schedule_replicas", row)
    return {"schedule_replica": store.answer("schedule_replicas", row)}, 201


def destroy_replica(ctx: Ctx, schedule_id: str, id: str) -> Reply:
    remove(ctx.store, "schedule_replicas", id, {"schedule_id": schedule_id})
    return None, 204


# --- sync rules -------------------------------------------------------------------------------------
def _members(store: ResourceStore, ids: Any) -> list[str]:
    users = store.table("users")
    for i, user_id in enumerate(ids):
        _check(user_id in users, f"permanent_member_user_ids[{i}]", "names no user of the organisation")
    return list(ids)


def create_sync_rule(ctx: Ctx, schedule_id: str, body: Json) -> Reply:
    store = ctx.store
    given = body["schedule_sync_rule"]
    with store.lock:
        schedule = _parent(store, schedule_id)
        target = given["schedule_sync_target_id"]
        _check(
            target in store.table("schedule_sync_targets"),
            "schedule_sync_target_id",
            "no such schedule sync target",
        )
        rotation = given.get("rotation_id")
        if rotation is not None:
            rotations = schedule.get("config", {}).get("rotations", [])
            _check(
                any(r["id"] == rotation for r in rotations),
                "rotation_id",
                "is not a rotation of the schedule",
            )
        now = stamp(store)
        row: Json = {
            "id": store.ids.ulid(),
            "schedule_id": schedule_id,
            "schedule_sync_target_id": target,
            "sync_type": given["sync_type"],
            "permanent_member_user_ids": _members(store, given.get("permanent_member_user_ids", [])),
            "annotations": given.get("annotations", {}),
            "created_at": now,
            "updated_at": now,
        }
        if rotation is not None:
            row["rotation_id"] = rotation
        row = put(store, "schedule_sync_rules", row)
        _relink(store)
    return {"schedule_sync_rule": store.answer("schedule_sync_rules", row)}, 201


def update_sync_rule(ctx: Ctx, schedule_id: str, id: str, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        row = dict(store.get("schedule_sync_rules", id, {"schedule_id": schedule_id}))
        row["sync_type"] = body["sync_type"]
        if "permanent_member_user_ids" in body:
            row["permanent_member_user_ids"] = _members(store, body["permanent_member_user_ids"])
        if "annotations" in body:
            row["annotations"] = body["annotations"]
        row["updated_at"] = stamp(store)
        row = put(store, "schedule_sync_rules", row)
    return {"schedule_sync_rule": store.answer("schedule_sync_rules", row)}, 200


def destroy_sync_rule(ctx: Ctx, schedule_id: str, id: str) -> Reply:
    with ctx.store.lock:
        remove(ctx.store, "schedule_sync_rules", id, {"schedule_id": schedule_id})
        _relink(ctx.store)
    return None, 204


# --- sync targets -------------------------------------------------------------------------------------------
def create_sync_target(ctx: Ctx, body: Json) -> Reply:
    store = ctx.store
    given = body["schedule_sync_target"]
    existing, new = given.get("slack_user_group_id"), given.get("new_slack_user_group")
    _check(
        (existing is None) != (new is None),
        "slack_user_group_id",
        "give exactly one of slack_user_group_id and new_slack_user_group",
    )
    org = store.catalog.organisation
    now = stamp(store)
    row = {
        "id": store.ids.ulid(),
        "slack_user_group_id": existing or "S" + store.ids.ulid()[-10:],
        "slack_team_id": (new or {}).get("slack_team_id") or org.get("slack_team_id", "T0MOCK"),
        "add_bot_to_group": given["add_bot_to_group"],
        "annotations": given.get("annotations", {}),
        "linked_schedules": [],
        "created_at": now,
        "updated_at": now,
    }
    with store.lock:
        row = put(store, "schedule_sync_targets", row)
    return {"schedule_sync_target": store.answer("schedule_sync_targets", row)}, 201


def update_sync_target(ctx: Ctx, id: str, body: Json) -> Reply:
    store = ctx.store
    with store.lock:
        row = dict(store.get("schedule_sync_targets", id))
        row["add_bot_to_group"] = body["add_bot_to_group"]
        if "annotations" in body:
            row["annotations"] = body["annotations"]
        row["updated_at"] = stamp(store)
        row = put(store, "schedule_sync_targets", row)
    return {"schedule_sync_target": store.answer("schedule_sync_targets", row)}, 200


def destroy_sync_target(ctx: Ctx, id: str) -> Reply:
    store = ctx.store
    with store.lock:
        store.get("schedule_sync_targets", id)
        if any(r.get("schedule_sync_target_id") == id for r in store.rows("schedule_sync_rules")):
            raise ValidationFailed.invalid("id", "schedule sync rules still use this schedule sync target")
        drop(store, {"schedule_sync_targets": [id]})
    return None, 204


OPERATIONS: dict[str, Callable[..., Reply]] = {
    "Schedules V2#Create": create,
    "Schedules V2#Show": show,
    "Schedules V2#Update": update,
    "Schedules V2#Destroy": destroy,
    "Schedules V2#ListScheduleEntries": list_entries,
    "Schedules V2#PreviewScheduleEntries": preview_entries,
    "Schedules V2#CreateOverride": create_override,
    "Schedules V2#UpdateOverride": update_override,
    "Schedules V2#DestroyOverride": destroy_override,
    "Schedules V2#CreateScheduleReplica": create_replica,
    "Schedules V2#DestroyScheduleReplica": destroy_replica,
    "Schedules V2#CreateScheduleSyncRule": create_sync_rule,
    "Schedules V2#UpdateScheduleSyncRule": update_sync_rule,
    "Schedules V2#DestroyScheduleSyncRule": destroy_sync_rule,
    "Schedule Sync Targets V2#Create": create_sync_target,
    "Schedule Sync Targets V2#Update": update_sync_target,
    "Schedule Sync Targets V2#Destroy": destroy_sync_target,
}
