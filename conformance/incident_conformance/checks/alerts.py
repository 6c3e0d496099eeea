"""ALERT and ROUTE: alert events as a monitoring tool sends them, and what a route makes of them.

- ALERT-1: a firing event whose deduplication key has a firing alert updates that alert (no second one);
- ALERT-2: firing events sent at once with one key raise one alert;
- ALERT-3: a resolved event resolves the firing alert of its key;
- ALERT-4: the source's token authenticates an event: a wrong token, none, or an API key alone is 401;
- ROUTE-1: a route opens one incident for each group of alerts (the values of its grouping keys) within
  its window.

On the mock each rule makes its own alert source (and route) and deletes it again; on another target the
ALERT rules need --alert-source and ROUTE-1 also --alert-route, since it opens incidents (alerting.py).
Every alert a rule fires is resolved before it ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from incident_conformance.alerting import (
    ALERT,
    EVENT,
    ROUTE_OPERATIONS,
    SOURCE_OPERATIONS,
    FiringSource,
    eventually,
    route_for,
    source_for,
)
from incident_conformance.context import RunContext
from incident_conformance.rules import Finding, Level, expect, found, rule
from incident_conformance.target import Exchange


def _accepted(ctx: RunContext, answer: Exchange, title: str) -> Iterator[Finding]:
    want = ctx.contract.success_status(EVENT)
    yield from found(expect(answer.status == want, title, f"{want} accepted", answer.describe(), answer.curl))


def _titles(alerts: list[dict[str, object]]) -> str:
    return ", ".join(f"{a.get('id')} ({a.get('status')}, {a.get('title')!r})" for a in alerts) or "none"


@rule(
    "ALERT-1",
    Level.MUST,
    "a_known_deduplication_key_updates_its_firing_alert",
    "A firing event whose deduplication_key names a firing alert of the source updates that alert (its title "
    "becomes the event's) instead of raising a second one.",
    calls=SOURCE_OPERATIONS,
)
def deduplication(ctx: RunContext) -> Iterator[Finding]:
    with source_for(ctx) as source:
        key = source.key("dedup")
        yield from _accepted(ctx, source.send(key, title="Disk 90% full"), "first firing event")
        second = source.send(key, title="Disk 95% full")
        yield from _accepted(ctx, second, "second firing event, same deduplication_key")
        alerts, listed = source.alerts_shown(key, lambda got: any("95%" in str(a.get("title")) for a in got))
        yield from found(
            expect(
                len(alerts) == 1 and alerts[0].get("status") == "firing",
                f"alerts of the source with deduplication_key {key} after two firing events",
                "one firing alert",
                _titles(alerts),
                listed.curl,
            ),
            expect(
                len(alerts) != 1 or "Disk 95% full" in str(alerts[0].get("title")),
                "the alert after the second event",
                "the second event's title, 'Disk 95% full'",
                _titles(alerts),
                listed.curl,
            ),
        )


@rule(
    "ALERT-2",
    Level.MUST,
    "concurrent_events_with_one_key_raise_one_alert",
    "N firing events sent at once to one source with one deduplication_key are all accepted and raise "
    "exactly one alert.",
    calls=SOURCE_OPERATIONS,
)
def concurrent(ctx: RunContext) -> Iterator[Finding]:
    count = 40 if ctx.options.thorough else 12
    with source_for(ctx) as source:
        key = source.key("burst")
        with ThreadPoolExecutor(max_workers=count) as pool:
            answers = list(pool.map(lambda _: source.send(key, title="Burst"), range(count)))
        statuses = sorted({a.status for a in answers})
        alerts, listed = source.alerts_shown(key, lambda got: bool(got))
        yield from found(
            expect(
                statuses == [ctx.contract.success_status(EVENT)],
                f"{count} concurrent firing events",
                f"every one {ctx.contract.success_status(EVENT)}",
                f"statuses {statuses}",
                answers[0].curl,
            ),
            expect(
                len(alerts) == 1,
                f"alerts of the source with deduplication_key {key} after {count} concurrent events",
                "exactly one",
                f"{len(alerts)}: {_titles(alerts)[:300]}",
                listed.curl,
            ),
        )


@rule(
    "ALERT-3",
    Level.MUST,
    "a_resolved_event_resolves_the_alert_of_its_key",
    "A resolved event with the deduplication_key of a firing alert resolves that alert: show answers it "
    "resolved, with resolved_at, and no firing alert is left with that key.",
    calls=(*SOURCE_OPERATIONS, ALERT),
)
def resolving(ctx: RunContext) -> Iterator[Finding]:
    with source_for(ctx) as source:
        key = source.key("resolve")
        yield from _accepted(ctx, source.send(key), "firing event")
        fired, listed = source.alerts_shown(key, bool)
        if failure := expect(len(fired) == 1, f"alerts with key {key}", "one", _titles(fired), listed.curl):
            yield failure
            return
        yield from _accepted(ctx, source.send(key, "resolved"), "resolved event, same deduplication_key")
        path = ctx.path(ALERT, id=str(fired[0]["id"]))
        shown = eventually(
            ctx,
            lambda: ctx.full.request("GET", path),
            lambda got: ((got.json() or {}).get("alert") or {}).get("status") == "resolved",
        )
        alert = (shown.json() or {}).get("alert") or {}
        yield from found(
            expect(
                shown.status == 200 and alert.get("status") == "resolved" and bool(alert.get("resolved_at")),
                "the alert after the resolved event",
                "status resolved, with resolved_at",
                f"{shown.status} status {alert.get('status')!r}, resolved_at {alert.get('resolved_at')!r}",
                shown.curl,
            )
        )
        left, again = source.alerts(key)
        firing = [a for a in left if a.get("status") == "firing"]
        yield from found(
            expect(not firing, f"firing alerts with key {key}", "none", _titles(firing), again.curl)
        )


@rule(
    "ALERT-4",
    Level.MUST,
    "an_event_needs_its_sources_token",
    "An alert event is authenticated by its source's token: with a wrong token, with none, or with an API "
    "key alone it is 401 in the contract's error shape and raises no alert; with the token it is accepted.",
    calls=(*SOURCE_OPERATIONS, EVENT),  # EVENT: once with --api-key alone, to be refused
)
def token(ctx: RunContext) -> Iterator[Finding]:
    with source_for(ctx) as source:
        tries: list[tuple[str, str, Exchange]] = []
        for label, sent in (("wrong", "wrong"), ("none", None)):
            key = source.key(f"token-{label}")
            tries.append((f"an event with {label} token", key, source.send(key, token=sent)))
        key = source.key("token-api-key")
        alone = source.send(key, token=None, authorization=f"Bearer {ctx.full.key}")
        tries.append(("an event with --api-key as Bearer and no token", key, alone))
        for title, _, answer in tries:
            if failure := ctx.expect_error(answer, title, 401):
                yield failure
        for title, key, _ in tries:
            raised, listed = source.alerts(key)
            if failure := expect(not raised, f"alerts after {title}", "none", _titles(raised), listed.curl):
                yield failure
        yield from _accepted(ctx, source.send(source.key("token-right")), "an event with the source's token")


def _alert_ids(route_source: FiringSource, keys: list[str]) -> dict[str, str | None]:
    """deduplication key -> the id of its alert (None when no alert shows)."""
    ids: dict[str, str | None] = {}
    for key in keys:
        alerts, _ = route_source.alerts_shown(key, bool)
        ids[key] = str(alerts[0]["id"]) if alerts else None
    return ids


@rule(
    "ROUTE-1",
    Level.MUST,
    "a_route_opens_one_incident_per_group_within_its_window",
    "Alerts a route takes, fired within its grouping window, join one incident when their grouping values "
    "are equal, and a different one when they differ.",
    calls=ROUTE_OPERATIONS,
)
def grouping(ctx: RunContext) -> Iterator[Finding]:
    with route_for(ctx) as route:
        source = route.source
        groups = {"a": "checkout", "b": "checkout", "c": "search"}
        if route.group_by is None:
            groups = {"a": "", "b": ""}  # the route groups every alert it takes in one incident
        keys = {label: source.key(f"route-{label}") for label in groups}
        for label, value in groups.items():
            metadata = {route.group_by: f"{ctx.run_id}-{value}"} if route.group_by else {}
            yield from _accepted(ctx, source.send(keys[label], metadata=metadata), f"firing event {label}")
        alert_ids = _alert_ids(source, list(keys.values()))
        opened: dict[str, str | None] = {}
        for label, key in keys.items():
            alert_id = alert_ids[key]
            opened[label] = route.incident_of(alert_id)[0] if alert_id else None
        shown = ", ".join(f"{label} ({groups[label] or 'one group'}): {opened[label]}" for label in groups)
        same = opened["a"] is not None and opened["a"] == opened["b"]
        yield from found(
            expect(
                all(opened.values()),
                "the incidents the route attached the alerts to",
                "one for every alert",
                shown,
            ),
            expect(same, "alerts a and b, one group within the window", "one incident", shown),
        )
        if "c" in groups:
            apart = opened["c"] is not None and opened["c"] != opened["a"]
            if failure := expect(apart, "alert c, another group", "an incident of its own", shown):
                yield failure
