"""ESC and SCHED: escalations and schedules.

- ESC-1: cancelling a triggered escalation makes it cancelled, and cancelling it again changes nothing;
- SCHED-1: the final entries of a single-layer rotation with no working intervals cover the requested
  window, without gaps or overlaps, whatever the handover shape (hourly, daily, weekly) and across a
  daylight-saving change of the schedule's timezone.

ESC-1 pages whoever the escalation names, so on a target other than the mock it runs only with
--escalation-path, the path to escalate to (and cancel at once). SCHED-1 only previews entries, which
saves nothing, over a schedule the target already has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from incident_conformance.context import RunContext
from incident_conformance.rules import Finding, Level, RuleSkipped, expect, found, rule
from incident_conformance.settings import prefixed_name
from incident_conformance.target import Exchange

Json = dict[str, Any]
USERS = "Users V2#List"
ESCALATE, SHOW, CANCEL = "Escalations V2#Create", "Escalations V2#Show", "Escalations V2#CancelEscalation"
SCHEDULES, PREVIEW = "Schedules V2#List", "Schedules V2#PreviewScheduleEntries"

# A window across the change to summer time in Europe/London (29 March 2026, 01:00 UTC).
WINDOW = ("2026-03-25T00:00:00Z", "2026-04-04T00:00:00Z")
TIMEZONE = "Europe/London"
HANDOVER_START = "2026-03-02T09:00:00Z"
HANDOVERS = ({"interval_type": "hourly", "interval": 8}, {"interval_type": "daily", "interval": 1},
             {"interval_type": "weekly", "interval": 1})  # fmt: skip


def _members(ctx: RunContext, op: str, member: str, count: int) -> list[Json]:
    answer = ctx.full.request("GET", ctx.path(op), params={"page_size": count})
    data = answer.json()
    items = data.get(member) if isinstance(data, dict) and answer.status == 200 else None
    return [i for i in items or [] if isinstance(i, dict) and "id" in i][:count]


def _escalation(answer: Exchange) -> Json:
    data = answer.json()
    found = data.get("escalation") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


@rule(
    "ESC-1",
    Level.MUST,
    "cancelling_an_escalation_cancels_it_once",
    "Cancelling a triggered escalation answers the contract's success status and show then answers it "
    "cancelled; cancelling it again answers the same and leaves it cancelled.",
    calls=(USERS, ESCALATE, SHOW, CANCEL),
)
def cancel(ctx: RunContext) -> Iterator[Finding]:
    body: Json = {"idempotency_key": ctx.idempotency_key("escalation"),
                  "title": prefixed_name(f"escalation {ctx.run_id}", None)}  # fmt: skip
    if ctx.options.escalation_path:
        body["escalation_path_id"] = ctx.options.escalation_path
    elif ctx.on_mock:
        users = _members(ctx, USERS, "users", 1)
        if not users:
            raise RuleSkipped("the target lists no users to escalate to")
        body["user_ids"] = [users[0]["id"]]
    else:
        raise RuleSkipped(
            "needs --escalation-path (a test path it may escalate to, and cancel at once): it pages; the "
            "mock needs none"
        )
    created = ctx.full.request("POST", ctx.path(ESCALATE), json_body=body)
    escalation = _escalation(created)
    if "id" not in escalation:
        raise RuleSkipped(f"could not start a test escalation: {created.describe()}")
    escalation_id = str(escalation["id"])
    success = ctx.contract.success_status(CANCEL)
    for attempt in ("cancel", "cancel again"):
        answer = ctx.full.request("POST", ctx.path(CANCEL, id=escalation_id))
        shown = ctx.full.request("GET", ctx.path(SHOW, id=escalation_id))
        status = _escalation(shown).get("status")
        yield from found(
            expect(answer.status == success, f"{attempt} escalation {escalation_id}", f"{success}",
                   answer.describe(), answer.curl),
            expect(status == "cancelled", f"the escalation after {attempt}", "status cancelled",
                   f"{shown.status} status {status!r}", shown.curl),
        )  # fmt: skip


def _instant(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None


def gaps(entries: list[Json], start: dt.datetime, end: dt.datetime) -> list[str]:
    """What keeps the entries from covering [start, end) exactly once: gaps and overlaps, in time order."""
    spans = []
    for entry in entries:
        begins, ends = _instant(entry.get("start_at")), _instant(entry.get("end_at"))
        if begins is None or ends is None or ends <= begins:
            return [f"an entry from {entry.get('start_at')!r} to {entry.get('end_at')!r}"]
        if ends > start and begins < end:
            spans.append((max(begins, start), min(ends, end)))
    problems, cursor = [], start
    for begins, ends in sorted(spans):
        if begins > cursor:
            problems.append(f"a gap from {cursor.isoformat()} to {begins.isoformat()}")
        elif begins < cursor:
            problems.append(f"an overlap from {begins.isoformat()} to {min(cursor, ends).isoformat()}")
        cursor = max(cursor, ends)
    if cursor < end:
        problems.append(f"a gap from {cursor.isoformat()} to {end.isoformat()}")
    return problems


@rule(
    "SCHED-1",
    Level.MUST,
    "a_single_layer_rotation_covers_the_window",
    "Previewing a schedule of one rotation with one layer and no working intervals (hourly, daily and weekly "
    "handovers, in a timezone that changes to summer time within the window) answers final entries that "
    "cover the requested window without gaps or overlaps.",
    calls=(USERS, SCHEDULES, PREVIEW),
)
def coverage(ctx: RunContext) -> Iterator[Finding]:
    schedules = _members(ctx, SCHEDULES, "schedules", 1)
    users = _members(ctx, USERS, "users", 3)
    if not schedules or not users:
        raise RuleSkipped("needs a schedule and a user on the target, to preview a rotation over")
    start, end = (dt.datetime.fromisoformat(t) for t in WINDOW)
    path = ctx.path(PREVIEW, id=str(schedules[0]["id"]))
    for handover in HANDOVERS:
        rotation = {"id": f"conformance-{ctx.run_id}", "name": prefixed_name("rotation", None),
                    "handover_start_at": HANDOVER_START, "handovers": [handover],
                    "layers": [{"id": f"conformance-{ctx.run_id}-layer", "name": "Only layer"}],
                    "users": [{"id": u["id"]} for u in users], "working_intervals": []}  # fmt: skip
        body = {"schedule": {"timezone": TIMEZONE, "config": {"rotations": [rotation]}},
                "entry_window_start": WINDOW[0], "entry_window_end": WINDOW[1]}  # fmt: skip
        answer = ctx.full.request("POST", path, json_body=body)
        data = answer.json()
        entries = (
            ((data or {}).get("schedule_entries") or {}).get("final") if isinstance(data, dict) else None
        )
        shape = f"every {handover['interval']} {handover['interval_type']}"
        if failure := expect(
            answer.status == 200 and isinstance(entries, list),
            f"preview of a rotation handing over {shape}",
            "200 with schedule_entries.final",
            answer.describe(),
            answer.curl,
        ):
            yield failure
            continue
        problems = gaps([e for e in entries or [] if isinstance(e, dict)], start, end)
        if failure := expect(
            not problems,
            f"final entries of a rotation handing over {shape}, from {WINDOW[0]} to {WINDOW[1]}",
            "the window covered, without gaps or overlaps",
            "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""),
            answer.curl,
        ):
            yield failure
