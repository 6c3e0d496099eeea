"""Schedule entries: who is on call when, computed from a schedule's rotations, with overrides on top.

A rotation hands over from `handover_start_at`, each handover lasting the next step of `handovers` in turn
(hourly steps in absolute hours; when any step is daily or weekly, every step counts wall-clock time in the
schedule's timezone, so a daily handover stays at the same local hour across daylight-saving changes).
Shift k of a rotation with L layers and users U puts U[(k*L + j) mod |U|] on layer j. Nobody is on call
before `handover_start_at`. Versions of a rotation (the same id with `effective_from`) each apply from
their `effective_from` to the next version's, and an entry is cut where its version stops applying. With
`working_intervals`, an entry covers only the parts of its shift inside them (the intervals are placed on
the days of the window once, so a computation costs about one step per handover whatever they are).

Overrides are cut into the scheduled entries of their rotation and layer, in the order they were created
(a later one over an earlier one). Everything is bounded: the window is at most `MAX_WINDOW`, and a
computation of more than `MAX_ENTRIES` entries is refused with 422.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.limits import Tally
from incident_mock.domain.records import timestamp
from incident_mock.resources.oncall.oncall_tables import moment

__all__ = [
    "DEFAULT_WINDOW",
    "MAX_ENTRIES",
    "MAX_WINDOW",
    "Shift",
    "Tally",
    "computed",
    "entries",
    "on_call",
    "window",
    "zone",
]

Json = dict[str, Any]
T = TypeVar("T", dt.datetime, dt.timedelta)
MAX_WINDOW = dt.timedelta(days=91)
DEFAULT_WINDOW = dt.timedelta(weeks=4)
MAX_ENTRIES = 10_000
STEP = {"hourly": dt.timedelta(hours=1), "daily": dt.timedelta(days=1), "weekly": dt.timedelta(weeks=1)}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])(?::00)?$|^24:00(?::00)?$")
TOO_MANY = f"the window holds more than {MAX_ENTRIES} entries: ask for a shorter one"


@dataclass(frozen=True)
class Shift:
    """One entry: a person on call on one rotation and layer from `start` to `end` (an override's has its
    id as `entry_id`)."""

    start: dt.datetime
    end: dt.datetime
    user: Json
    rotation_id: str
    layer_id: str
    entry_id: str | None = None

    def shown(self, stamp: Callable[[dt.datetime], str] = timestamp) -> Json:
        key = f"{self.rotation_id}|{self.layer_id}|{self.user.get('id')}|{self.start}|{self.end}"
        out: Json = {
            "start_at": stamp(self.start),
            "end_at": stamp(self.end),
            "user": self.user,
            "rotation_id": self.rotation_id,
            "layer_id": self.layer_id,
            "fingerprint": hashlib.sha256(key.encode()).hexdigest()[:16],
        }
        if self.entry_id is not None:
            out["entry_id"] = self.entry_id
        return out


def zone(name: Any, field: str = "timezone") -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise ValidationFailed.invalid(field, "must be an IANA timezone name such as Europe/London")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed.invalid(field, "must be an IANA timezone name such as Europe/London") from None


def window(start: Any, end: Any, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The window asked for: defaults from `now`, cut to MAX_WINDOW; an end not after the start is 422."""
    lo = moment(start, "entry_window_start") if start not in (None, "") else now
    hi = moment(end, "entry_window_end") if end not in (None, "") else lo + DEFAULT_WINDOW
    if hi <= lo:
        raise ValidationFailed.invalid("entry_window_end", "must be after entry_window_start")
    return lo, min(hi, lo + MAX_WINDOW)


def _local(moment_: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return moment_.astimezone(tz).replace(tzinfo=None)


def _utc(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def _handovers(
    rotation: Json, tz: ZoneInfo, lo: dt.datetime, hi: dt.datetime, tally: Tally
) -> Iterator[tuple[int, dt.datetime, dt.datetime]]:
    """(k, start, end) of every shift overlapping [lo, hi), from the first one that does; every handover
    walked is a step of `tally`."""
    steps = [STEP[h["interval_type"]] * int(h["interval"]) for h in rotation["handovers"]]
    first = moment(rotation["handover_start_at"], "handover_start_at")
    absolute = all(h["interval_type"] == "hourly" for h in rotation["handovers"])
    if absolute:
        base, low = first, max(lo, first)
    else:
        base, low = _local(first, tz), _local(max(lo, first), tz)
    cycle = sum(steps, dt.timedelta(0))
    turns = max(0, (low - base) // cycle - 1)  # a cycle early: wall-clock and UTC may disagree by hours
    k, at = turns * len(steps), base + turns * cycle
    try:
        while True:
            tally.steps += 1
            following = at + steps[k % len(steps)]
            start, end = (at, following) if absolute else (_utc(at, tz), _utc(following, tz))
            if start >= hi:
                return
            if end > lo and end > start:
                yield k, start, end
            k, at = k + 1, following
    except OverflowError:  # the end of the calendar
        return


def _clock(value: str) -> dt.timedelta:
    hours, minutes = value.split(":")[:2]
    return dt.timedelta(hours=int(hours), minutes=int(minutes))


def _working(
    intervals: Sequence[Json], tz: ZoneInfo, lo: dt.datetime, hi: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The working time near [lo, hi) as sorted, merged UTC spans: the intervals of each weekday merged
    first (so repeated or nested intervals cost nothing more), then placed on every day from two days
    before the window to two days after it."""
    week: list[list[tuple[dt.timedelta, dt.timedelta]]] = [[] for _ in WEEKDAYS]
    for interval in intervals:
        opens, closes = _clock(interval["start_time"]), _clock(interval["end_time"])
        if closes <= opens:
            closes += dt.timedelta(days=1)
        week[WEEKDAYS.index(interval["weekday"])].append((opens, closes))
    week = [_merged(day) for day in week]
    first = _local(lo - dt.timedelta(days=2), tz).date() - dt.timedelta(days=1)
    last = _local(hi + dt.timedelta(days=2), tz).date()
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    day = first
    while day <= last:
        midnight = dt.datetime.combine(day, dt.time())
        spans += [(_utc(midnight + a, tz), _utc(midnight + b, tz)) for a, b in week[day.weekday()]]
        day += dt.timedelta(days=1)
    return _merged(spans)


def _merged(spans: list[tuple[T, T]]) -> list[tuple[T, T]]:
    """Spans sorted, those that overlap or touch made one."""
    out: list[tuple[T, T]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif a < b:
            out.append((a, b))
    return out


def _within(
    start: dt.datetime,
    end: dt.datetime,
    spans: list[tuple[dt.datetime, dt.datetime]],
    ends: list[dt.datetime],
    lo: dt.datetime,
    hi: dt.datetime,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of [start, end) inside the working spans (`ends` their ends) that overlap [lo, hi)."""
    parts = []
    for a, b in spans[bisect.bisect_right(ends, start) :]:
        if a >= end:
            break
        a, b = max(a, start), min(b, end)
        if a < b and b > lo and a < hi:
            parts.append((a, b))
    return parts


def _versions(rotations: Sequence[Json]) -> list[tuple[Json, dt.datetime | None, dt.datetime | None]]:
    """(rotation, applies from, applies until) for every version of every rotation."""
    by_id: dict[str, list[Json]] = {}
    for rotation in rotations:
        by_id.setdefault(rotation["id"], []).append(rotation)
    out: list[tuple[Json, dt.datetime | None, dt.datetime | None]] = []
    for versions in by_id.values():
        ordered = sorted(
            versions,
            key=lambda r: (
                moment(r["effective_from"], "effective_from")
                if r.get("effective_from")
                else dt.datetime.min.replace(tzinfo=dt.UTC)
            ),
        )
        froms = [
            moment(r["effective_from"], "effective_from") if r.get("effective_from") else None
            for r in ordered
        ]
        for i, rotation in enumerate(ordered):
            out.append((rotation, froms[i], froms[i + 1] if i + 1 < len(ordered) else None))
    return out


def scheduled(schedule: Json, lo: dt.datetime, hi: dt.datetime, tally: Tally | None = None) -> list[Shift]:
    """The entries the rotations give in [lo, hi), before overrides; the handovers walked and working spans
    placed are counted in `tally` (a schedule can take work without giving entries)."""
    tally = tally if tally is not None else Tally()
    tz = zone(schedule.get("timezone", "UTC"))
    found: list[Shift] = []
    for rotation, since, until in _versions(schedule.get("config", {}).get("rotations", [])):
        users, layers = rotation.get("users", []), rotation.get("layers", [])
        if not users or not layers or not rotation.get("handovers"):
            continue
        a, b = max(lo, since) if since else lo, min(hi, until) if until else hi
        if a >= b:
            continue
        intervals = rotation.get("working_intervals") or []
        spans = _working(intervals, tz, a, b) if intervals else []
        ends = [e for _, e in spans]
        tally.steps += len(spans)
        for k, start, end in _handovers(rotation, tz, a, b, tally):
            start, end = max(start, since) if since else start, min(end, until) if until else end
            parts = _within(start, end, spans, ends, a, b) if intervals else [(start, end)]
            if not parts:
                continue
            tally.steps += len(layers) * len(parts)
            for j, layer in enumerate(layers):
                user = users[(k * len(layers) + j) % len(users)]
                found += [Shift(s, e, user, rotation["id"], layer["id"]) for s, e in parts]
            if len(found) > MAX_ENTRIES:
                raise ValidationFailed.invalid("entry_window_end", TOO_MANY)
    found.sort(key=lambda s: (s.start, s.rotation_id, s.layer_id))
    return found


def _override(row: Json) -> Shift:
    return Shift(
        moment(row["start_at"], "start_at"),
        moment(row["end_at"], "end_at"),
        row["user"],
        row["rotation_id"],
        row["layer_id"],
        row["id"],
    )


def _carve(layer: list[Shift], over: Shift) -> list[Shift]:
    """One layer's entries (sorted, not overlapping) with an override cut in."""
    first = bisect.bisect_right([s.end for s in layer], over.start)
    last = bisect.bisect_left([s.start for s in layer], over.end, lo=first)
    kept: list[Shift] = []
    for s in layer[first:last]:
        if s.start < over.start:
            kept.append(Shift(s.start, over.start, s.user, s.rotation_id, s.layer_id, s.entry_id))
        if over.end < s.end:
            kept.append(Shift(over.end, s.end, s.user, s.rotation_id, s.layer_id, s.entry_id))
    kept.append(over)
    kept.sort(key=lambda s: s.start)
    return layer[:first] + kept + layer[last:]


def computed(
    schedule: Json, overrides: Sequence[Json], lo: dt.datetime, hi: dt.datetime, tally: Tally | None = None
) -> tuple[list[Shift], list[Shift], list[Shift]]:
    """The entries of a schedule overlapping [lo, hi): scheduled, overrides and final, each sorted."""
    plan = scheduled(schedule, lo, hi, tally)
    mine = [_override(o) for o in overrides]
    mine = [o for o in mine if o.end > lo and o.start < hi]
    layers: dict[tuple[str, str], list[Shift]] = {}
    for s in plan:
        layers.setdefault((s.rotation_id, s.layer_id), []).append(s)
    for over in mine:
        key = (over.rotation_id, over.layer_id)
        layers[key] = _carve(layers.get(key, []), over)
    final = [s for layer in layers.values() for s in layer if s.end > lo and s.start < hi]
    final.sort(key=lambda s: (s.start, s.rotation_id, s.layer_id))
    mine.sort(key=lambda s: (s.start, s.rotation_id, s.layer_id))
    return plan, mine, final


def entries(
    schedule: Json, overrides: Sequence[Json], lo: dt.datetime, hi: dt.datetime, tally: Tally | None = None
) -> Json:
    """The ScheduleEntriesListPayloadV2 of a schedule for [lo, hi): scheduled, overrides and final."""
    plan, mine, final = computed(schedule, overrides, lo, hi, tally)
    stamps: dict[dt.datetime, str] = {}
    shown: dict[int, Json] = {}

    def stamp(moment_: dt.datetime) -> str:
        found = stamps.get(moment_)
        if found is None:
            found = stamps[moment_] = timestamp(moment_)
        return found

    def show(s: Shift) -> Json:
        found = shown.get(id(s))
        if found is None:
            found = shown[id(s)] = s.shown(stamp)
        return found

    return {
        "scheduled": [show(s) for s in plan],
        "overrides": [show(s) for s in mine],
        "final": [show(s) for s in final],
    }


def on_call(
    schedule: Json, overrides: Sequence[Json], at: dt.datetime, tally: Tally | None = None
) -> list[Json]:
    """The final entries covering the moment `at`."""
    found = entries(schedule, overrides, at, at + dt.timedelta(seconds=1), tally)["final"]
    return [e for e in found if moment(e["start_at"], "start_at") <= at]
