"""Shift changes: `schedule.shift_change_v1` whenever a move of the sandbox clock passes a handover.

Nothing runs on its own and nothing polls. When the control plane moves a sandbox's clock forward (an
advance, or a freeze at a later moment) from `since` to `until`, each schedule's final entries (overrides
included) are read over (since, until], and never before the schedule's `created_at`: at every instant
where the set of people on call changes, one message carries the schedule's summary, who was on call just
before (`previous_users`) and who is from then on (`current_users`); either may be empty (a shift starting
after a gap, or ending into one). A hand-over from someone to themselves changes nothing and sends nothing.
No watermark is kept: the move's own span decides, so a span passed again after the clock was moved back
is announced again, and a clock that runs on real time announces nothing.

The messages go out in time order (schedules in their table's order at one instant), each stamped with the
handover instant as its `created_at`. Bounds: only the first `MAX_SPAN` after `since` is read, at most
`MAX_PER_SCHEDULE` changes of one schedule and `MAX_PER_MOVE` in all are sent per move (the earliest ones;
the rest are not sent later either), at most `MAX_READ` entries are read and handovers walked for one
move (schedules in their table's order: past that, the later ones send nothing for that move), and a
schedule whose entries in one step exceed the entries limit sends nothing further for that move. Nothing
is read when no endpoint of the sandbox takes the event.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import incident_mock.resources.oncall.shifts as shifts
from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.store import ResourceStore
from incident_mock.resources.oncall.oncall_tables import moment
from incident_mock.resources.oncall.schedules import overrides_of, slim

__all__ = [
    "EVENT",
    "MAX_PER_MOVE",
    "MAX_PER_SCHEDULE",
    "MAX_READ",
    "MAX_SPAN",
    "ReadBudget",
    "changes",
    "clock_moved",
]

Json = dict[str, Any]
Change = tuple[dt.datetime, list[Json], list[Json]]  # instant, previous users, current users
EVENT = "schedule.shift_change_v1"
MAX_SPAN = dt.timedelta(days=91)  # of one move, read from its start
MAX_PER_SCHEDULE = 100
MAX_PER_MOVE = 1_000
MAX_READ = 250_000  # entries read and handovers walked for one move, every schedule together: about a second
STEP = dt.timedelta(days=7)  # the entries are computed a week at a time
TICK = dt.timedelta(microseconds=1)


def _sweep(final: Sequence[shifts.Shift], lo: dt.datetime, hi: dt.datetime) -> list[Change]:
    """Every change of who is on call at an instant in (lo, hi], from entries covering that span."""
    edges: dict[dt.datetime, list[tuple[int, Json]]] = {}
    for shift in final:
        edges.setdefault(shift.start, []).append((1, shift.user))
        edges.setdefault(shift.end, []).append((-1, shift.user))
    held: Counter[str] = Counter()
    people: dict[str, Json] = {}
    found: list[Change] = []
    for at in sorted(edges):
        before = sorted(u for u, n in held.items() if n > 0)
        for delta, user in edges[at]:
            held[user["id"]] += delta
            people[user["id"]] = user
        after = sorted(u for u, n in held.items() if n > 0)
        if lo < at <= hi and before != after:
            found.append((at, [people[u] for u in before], [people[u] for u in after]))
    return found


@dataclass
class ReadBudget:
    """The entries one move may still read."""

    left: int = MAX_READ


def changes(
    schedule: Json,
    overrides: Sequence[Json],
    since: dt.datetime,
    until: dt.datetime,
    limit: int,
    budget: ReadBudget | None = None,
) -> list[Change]:
    """The first `limit` changes of who is on call in (since, until] (module docstring's bounds), reading
    no more entries than `budget` has left."""
    budget = budget or ReadBudget()
    created = schedule.get("created_at")
    lo = max(since, moment(created, "created_at")) if created else since
    hi = min(until, since + MAX_SPAN)
    found: list[Change] = []
    while lo < hi and len(found) < limit and budget.left > 0:
        top = min(hi, lo + STEP)
        tally = shifts.Tally()
        try:
            _, _, final = shifts.computed(schedule, overrides, lo, top + TICK, tally)
        except ValidationFailed:  # more entries than the mock computes at once
            budget.left -= tally.steps
            break
        budget.left -= len(final) + tally.steps
        found += _sweep(final, lo, top)
        lo = top
    return found[:limit]


def clock_moved(store: ResourceStore, events: Any, since: dt.datetime, until: dt.datetime) -> int:
    """Send the shift changes of a clock move from `since` to `until` to the sandbox's endpoints (`events`,
    its webhooks); how many were sent."""
    if events is None or until <= since or not events.takes(EVENT):
        return 0
    found: list[tuple[dt.datetime, int, Json]] = []
    budget = ReadBudget()
    for i, schedule in enumerate(store.rows("schedules")):
        for at, before, after in changes(
            schedule, overrides_of(store, schedule["id"]), since, until, MAX_PER_SCHEDULE, budget
        ):
            payload = {"schedule": slim(schedule), "previous_users": before, "current_users": after}
            found.append((at, i, payload))
    found.sort(key=lambda change: (change[0], change[1]))
    for at, _, payload in found[:MAX_PER_MOVE]:
        events.announce(EVENT, payload, at=at)
    return min(len(found), MAX_PER_MOVE)
