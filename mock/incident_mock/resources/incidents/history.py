"""What an incident's edits leave behind: incident updates, and who held its roles when.

- An **incident update** is written by every edit that changes an incident's status or severity: the
  status and severity after the edit (as they were then: a later change to the settings does not rewrite
  history), the API key that edited as the `updater`, and when. Edits that change neither write none.
- A **stint** is a person's time holding any of an incident's roles: it starts when they are first
  assigned one (the incident's creation for the people its create assigned) and ends when they hold none.
  Stints are kept per (incident, person) as one open start and the minutes of the closed ones, so what is
  held stays bounded by the people assigned, however many edits come.

Participants and workloads are read models derived from the stints (`participants`, `workloads`); the
minutes are split by the hour of day in UTC: working hours 09:00 to 18:00, late hours 18:00 to 23:00 and
07:00 to 09:00, sleeping hours 23:00 to 07:00.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from incident_mock.domain.records import timestamp

__all__ = ["History", "Stint", "UpdateRecord", "minutes_by_hours"]

Json = dict[str, Any]
DAY = dt.timedelta(days=1)
# (start hour, end hour, kind) covering one day, in UTC
BANDS = ((0, 7, "sleeping"), (7, 9, "late"), (9, 18, "working"), (18, 23, "late"), (23, 24, "sleeping"))
KINDS = ("working", "late", "sleeping")
FULL_DAY = {kind: sum(60.0 * (b - a) for a, b, k in BANDS if k == kind) for kind in KINDS}


@dataclass(slots=True)
class UpdateRecord:
    id: str
    incident_id: str
    status: Json  # the status row as it was when the update was written (catalog rows are never changed)
    severity: Json
    updater: Json
    created_at: dt.datetime

    def render(self) -> Json:
        """IncidentUpdateV2."""
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "new_incident_status": self.status,
            "new_severity": self.severity,
            "updater": self.updater,
            "created_at": timestamp(self.created_at),
        }


@dataclass(slots=True)
class Stint:
    """One person on one incident: when they first joined, the start of the stint they are in now (None
    once they hold no role), when they last left, and the minutes of their finished stints by kind."""

    joined_at: dt.datetime
    since: dt.datetime | None
    left_at: dt.datetime | None = None
    minutes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))

    def totals(self, moment: dt.datetime) -> dict[str, float]:
        """The minutes by kind up to `moment`, the running stint included."""
        if self.since is None or moment <= self.since:
            return dict(self.minutes)
        running = minutes_by_hours(self.since, moment)
        return {kind: self.minutes[kind] + running[kind] for kind in KINDS}


def minutes_by_hours(start: dt.datetime, end: dt.datetime) -> dict[str, float]:
    """The minutes between `start` and `end`, split into working, late and sleeping hours (UTC)."""
    found = dict.fromkeys(KINDS, 0.0)
    if end <= start:
        return found
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    day = dt.datetime.combine(start.date(), dt.time(), dt.UTC)
    whole = (dt.datetime.combine(end.date(), dt.time(), dt.UTC) - day).days - 1
    if whole > 0:  # the days strictly between the first and the last, counted whole
        for kind in KINDS:
            found[kind] += whole * FULL_DAY[kind]
        for moment_day in (day, day + (whole + 1) * DAY):
            _add_day(found, moment_day, start, end)
        return found
    while day < end:
        _add_day(found, day, start, end)
        day += DAY
    return found


def _add_day(found: dict[str, float], day: dt.datetime, start: dt.datetime, end: dt.datetime) -> None:
    for a, b, kind in BANDS:
        lo = max(start, day + dt.timedelta(hours=a))
        hi = min(end, day + dt.timedelta(hours=b))
        if hi > lo:
            found[kind] += (hi - lo).total_seconds() / 60


class History:
    """The incident updates and role stints of one store. Callers hold the store's lock to write."""

    def __init__(self) -> None:
        self.updates: list[UpdateRecord] = []  # creation order
        self.position: dict[str, int] = {}  # update id -> its index in `updates`
        self.of_incident: dict[str, list[UpdateRecord]] = {}
        self.stints: dict[str, dict[str, Stint]] = {}  # incident id -> person (user id) -> stint

    def __len__(self) -> int:
        return len(self.updates)

    def add_update(self, update: UpdateRecord) -> None:
        self.position[update.id] = len(self.updates)
        self.updates.append(update)
        self.of_incident.setdefault(update.incident_id, []).append(update)

    def updates_of(self, incident_id: str | None) -> list[UpdateRecord]:
        """One incident's updates, or every update, oldest first."""
        return self.updates if incident_id is None else self.of_incident.get(incident_id, [])

    def people(self, incident_id: str, roles: Mapping[str, str], created_at: dt.datetime) -> dict[str, Stint]:
        """The incident's stints; an incident whose roles never changed has the ones its create began."""
        held = self.stints.get(incident_id)
        if held is not None:
            return held
        return {user: Stint(joined_at=created_at, since=created_at) for user in dict.fromkeys(roles.values())}

    def roles_changed(
        self,
        incident_id: str,
        before: Mapping[str, str],
        after: Mapping[str, str],
        created_at: dt.datetime,
        moment: dt.datetime,
    ) -> None:
        """An edit changed who holds the incident's roles: start and end stints accordingly."""
        held = self.stints.get(incident_id)
        if held is None:
            held = self.stints[incident_id] = self.people(incident_id, before, created_at)
        now_holding = set(after.values())
        for user, stint in held.items():
            if stint.since is not None and user not in now_holding:  # left every role
                stint.minutes = stint.totals(moment)
                stint.since, stint.left_at = None, moment
        for user in now_holding:
            back = held.get(user)
            if back is None:
                held[user] = Stint(joined_at=moment, since=moment)
            elif back.since is None:  # back again
                back.since = moment

    def forget(self, step: int) -> Iterator[None]:
        """Let go of everything a slice at a time (the store's `dispose`)."""
        while self.updates:
            del self.updates[-step:]
            yield
        for table in (self.position, self.of_incident, self.stints):
            while table:
                for _ in range(min(step, len(table))):
                    table.popitem()
                yield
