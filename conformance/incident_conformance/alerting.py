"""The alerts path as the ALERT and ROUTE rules drive it: a test alert source, the events a monitoring tool
sends to it, and what those events become (alerts, and the incidents a route opens for them).

On the mock the rules make what they need (an alert source; for ROUTE-1 an alert attribute and a route too)
and delete it again. On another target they use only what the options name (--alert-source, and
--alert-route for ROUTE-1) and leave every alert they fired resolved.

Alert events are "accepted for processing" (202): a deployment may process them after answering. So, off
the mock, a read of what an event did is tried again until it shows or SETTLE seconds pass. The mock
processes an event before answering it, and is read once: a defect shows at once, not after a wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from incident_conformance.context import RunContext
from incident_conformance.findings import RuleSkipped
from incident_conformance.settings import prefixed_name
from incident_conformance.target import Exchange

__all__ = [
    "ALERT",
    "ALERTS",
    "EVENT",
    "INCIDENT_ALERTS",
    "ROUTE_OPERATIONS",
    "SOURCE_OPERATIONS",
    "FiringSource",
    "GroupingRoute",
    "eventually",
    "route_for",
    "source_for",
]

Json = dict[str, Any]
T = TypeVar("T")

SOURCE_CREATE, SOURCE_SHOW = "Alert Sources V2#Create", "Alert Sources V2#Show"
SOURCE_DELETE = "Alert Sources V2#Delete"
EVENT = "Alert Events V2#CreateHTTP"  # sent with the source's token, never with --api-key
ALERTS, ALERT = "Alerts V2#List", "Alerts V2#Show"
INCIDENT_ALERTS = "Alerts V2#ListIncidentAlerts"
ATTRIBUTE_CREATE, ATTRIBUTE_DELETE = "Alert Attributes V2#Create", "Alert Attributes V2#Destroy"
ROUTE_CREATE, ROUTE_SHOW, ROUTE_DELETE = (
    "Alert Routes V3#Create",
    "Alert Routes V3#Show",
    "Alert Routes V3#Delete",
)
SEVERITIES = "Severities V1#List"
# What the rules call with --api-key (their scopes are what the key needs).
SOURCE_OPERATIONS = (SOURCE_CREATE, SOURCE_SHOW, SOURCE_DELETE, ALERTS)
ROUTE_OPERATIONS = (*SOURCE_OPERATIONS, ATTRIBUTE_CREATE, ATTRIBUTE_DELETE, ROUTE_CREATE, ROUTE_SHOW,
                    ROUTE_DELETE, INCIDENT_ALERTS, SEVERITIES)  # fmt: skip

SETTLE = 30.0  # seconds a deployment may take to process an alert event
METADATA, ATTRIBUTES = "alert.metadata.", "alert.attributes."
GROUP = "conformance_group"  # the metadata key the mock's test route groups by
NEEDS_SOURCE = (
    "needs --alert-source (a test HTTP alert source the run may fire alerts on and resolve them); the mock "
    "needs none"
)
_OWN = object()


def eventually(ctx: RunContext, read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """`read()` until `done` says its result shows what an event did, for at most SETTLE seconds off the
    mock; on the mock, once."""
    result = read()
    deadline, pause = time.monotonic() + SETTLE, 0.25
    while not ctx.on_mock and not done(result) and time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 2.0)
        result = read()
    return result


@dataclass
class FiringSource:
    """A test alert source, and the deduplication keys fired on it (resolved again at the end)."""

    ctx: RunContext
    id: str
    token: str
    answered: Json  # the source as show answered it
    firing: set[str] = field(default_factory=set)

    def send(
        self,
        key: str | None,
        status: str = "firing",
        title: str = "Check failed",
        metadata: Json | None = None,
        *,
        token: Any = _OWN,
        authorization: str | None = None,
    ) -> Exchange:
        """An alert event as a monitoring tool sends it: the token in the query (`token=None` sends none),
        no API key unless `authorization` gives one."""
        body: Json = {"title": f"[conformance] {title}", "status": status, "metadata": metadata or {}}
        if key is not None:
            body["deduplication_key"] = key
        query = {"token": self.token if token is _OWN else token}
        path = self.ctx.path(EVENT, alert_source_config_id=self.id)
        answer = self.ctx.full.request(
            "POST",
            path,
            params={k: v for k, v in query.items() if v is not None},
            json_body=body,
            authorization=authorization,
        )
        if key is not None and 200 <= answer.status < 300 and token is _OWN:
            (self.firing.add if status == "firing" else self.firing.discard)(key)
        return answer

    def key(self, label: str) -> str:
        return self.ctx.idempotency_key(f"alert-{label}")

    def alerts(self, key: str) -> tuple[list[Json], Exchange]:
        """The source's alerts with this deduplication key, as the alert list answers them."""
        answer = self.ctx.full.request(
            "GET",
            self.ctx.path(ALERTS),
            params={"alert_source[one_of]": self.id, "deduplication_key[is]": key, "page_size": 50},
        )
        data = answer.json()
        found = data.get("alerts") if isinstance(data, dict) and answer.status == 200 else None
        return [a for a in found or [] if isinstance(a, dict)], answer

    def alerts_shown(self, key: str, done: Callable[[list[Json]], bool]) -> tuple[list[Json], Exchange]:
        return eventually(self.ctx, lambda: self.alerts(key), lambda got: done(got[0]))

    def close(self) -> None:
        """Resolve every alert the run left firing."""
        for key in sorted(self.firing):
            self.send(key, "resolved")


def _created(ctx: RunContext, op: str, body: Json, member: str) -> Json:
    answer = ctx.full.request("POST", ctx.path(op), json_body=body)
    data = answer.json()
    made = data.get(member) if isinstance(data, dict) and 200 <= answer.status < 300 else None
    if not isinstance(made, dict) or "id" not in made:
        raise RuleSkipped(f"could not create the test {member.replace('_', ' ')}: {answer.describe()}")
    return made


def _delete(ctx: RunContext, op: str, made_id: str) -> None:
    ctx.full.request("DELETE", ctx.path(op, id=made_id))


def _template(attribute_id: str | None) -> Json:
    bound = [{"alert_attribute_id": attribute_id, "binding": {"value": {"reference": f"{METADATA}{GROUP}"}}}]
    return {
        "title": {"reference": "alert.title"},
        "description": {"reference": "alert.description"},
        "attributes": bound if attribute_id else [],
        "expressions": [],
    }


def _shown(ctx: RunContext, op: str, made_id: str, member: str, option: str) -> Json:
    answer = ctx.full.request("GET", ctx.path(op, id=made_id))
    data = answer.json()
    found = data.get(member) if isinstance(data, dict) and answer.status == 200 else None
    if not isinstance(found, dict):
        raise RuleSkipped(f"{option} {made_id} could not be read: {answer.describe()}")
    return found


@contextmanager
def source_for(ctx: RunContext, attribute_id: str | None = None) -> Iterator[FiringSource]:
    """The --alert-source, or on the mock a new one (its template binds `metadata.conformance_group` to
    `attribute_id` when given), read back for its token; every alert fired on it is resolved at the end,
    and a new source deleted."""
    named, made = ctx.options.alert_source, None
    if not named and not ctx.on_mock:
        raise RuleSkipped(NEEDS_SOURCE)
    if not named:
        body = {"name": prefixed_name(f"alerts {ctx.run_id}", None), "source_type": "http",
                "template": _template(attribute_id)}  # fmt: skip
        made = str(_created(ctx, SOURCE_CREATE, body, "alert_source")["id"])
    try:
        source = _shown(ctx, SOURCE_SHOW, named or str(made), "alert_source", "--alert-source")
        token = ctx.options.alert_source_token or source.get("secret_token")
        if not isinstance(token, str) or not token:
            raise RuleSkipped(
                f"alert source {source['id']} answers no secret_token: give --alert-source-token"
            )
        bench = FiringSource(ctx, str(source["id"]), token, source)
        try:
            yield bench
        finally:
            bench.close()
    finally:
        if made is not None:
            _delete(ctx, SOURCE_DELETE, made)


@dataclass
class GroupingRoute:
    """A test route and the source it routes: alerts whose metadata share `group_by`'s value (every alert,
    when `group_by` is None) join one incident within `window` seconds."""

    source: FiringSource
    id: str
    group_by: str | None
    window: int

    def incident_of(self, alert_id: str) -> tuple[str | None, Exchange]:
        """The incident the route attached the alert to (None when none, yet)."""
        ctx = self.source.ctx

        def read() -> tuple[str | None, Exchange]:
            answer = ctx.full.request("GET", ctx.path(INCIDENT_ALERTS), params={"alert_id": alert_id})
            data = answer.json()
            links = data.get("incident_alerts") if isinstance(data, dict) and answer.status == 200 else None
            ids = [
                str((link.get("incident") or {}).get("id"))
                for link in links or []
                if isinstance(link, dict) and (link.get("alert") or {}).get("id") == alert_id
            ]
            return (ids[0] if ids else None), answer

        return eventually(ctx, read, lambda got: got[0] is not None)


def _route_body(ctx: RunContext, source_id: str, attribute_id: str) -> Json:
    grouping = {"enabled": True, "grouping_keys": [{"reference": f"{ATTRIBUTES}{attribute_id}"}],
                "window_seconds": 600, "window_type": "fixed"}  # fmt: skip
    literal = prefixed_name(f"alert route {ctx.run_id}", None)
    return {
        "name": literal,
        "is_private": False,
        "enabled": True,
        "alert_sources": [{"alert_source_id": source_id, "condition_groups": []}],
        "condition_groups": [],
        "expressions": [],
        "grouping_config": {"default": grouping},
        "escalation_config": {"auto_cancel_escalations": True, "escalation_targets": []},
        "incident_config": {
            "enabled": True,
            "auto_decline_enabled": False,
            "condition_groups": [],
            "template": {
                "name": {"autogenerated": False, "binding": {"value": {"literal": literal}}},
                "severity": {
                    "merge_strategy": "first-wins",
                    "binding": {"value": {"literal": ctx.reference("severity_id")}},
                },
            },
        },
        "message_config": {"destinations": []},
    }


def _grouping(route: Json, source: FiringSource) -> tuple[str | None, int]:
    """The metadata key whose values the route groups by (through the source's template), and its window
    in seconds."""
    settings = (route.get("grouping_config") or {}).get("default") or {}
    if not settings.get("enabled"):
        raise RuleSkipped(f"alert route {route.get('id')} does not group alerts")
    window = int(settings.get("window_seconds") or 0)
    keys = [str(k.get("reference", "")) for k in settings.get("grouping_keys") or [] if isinstance(k, dict)]
    if not keys:
        return None, window
    template = source.answered.get("template") or {}
    bound = {
        str(entry.get("alert_attribute_id")): str(
            ((entry.get("binding") or {}).get("value") or {}).get("reference")
        )
        for entry in template.get("attributes") or []
        if isinstance(entry, dict)
    }
    reference = bound.get(keys[0].removeprefix(ATTRIBUTES), "")
    if not reference.startswith(METADATA):
        raise RuleSkipped(
            f"alert route {route.get('id')} groups by {keys[0]}, which its source's template sets from no "
            "metadata key"
        )
    return reference.removeprefix(METADATA), window


@contextmanager
def route_for(ctx: RunContext) -> Iterator[GroupingRoute]:
    """The --alert-route of --alert-source, or on the mock a new attribute, source and route grouping by
    it (deleted again at the end); read back for its grouping."""
    named = ctx.options.alert_route
    if named and not ctx.options.alert_source:
        raise RuleSkipped("--alert-route needs --alert-source, the source it routes")
    if not named and not ctx.on_mock:
        raise RuleSkipped(
            "needs --alert-source and --alert-route (a test route of it that opens incidents): it opens "
            "incidents; the mock needs neither"
        )
    attribute = None
    if not named:
        body = {"name": prefixed_name(f"group {ctx.run_id}", None), "type": "String", "array": False,
                "required": False}  # fmt: skip
        attribute = str(_created(ctx, ATTRIBUTE_CREATE, body, "alert_attribute")["id"])
    try:
        with source_for(ctx, attribute) as source:
            made = None
            if attribute is not None:
                made = str(
                    _created(ctx, ROUTE_CREATE, _route_body(ctx, source.id, attribute), "alert_route")["id"]
                )
            try:
                route = _shown(ctx, ROUTE_SHOW, named or str(made), "alert_route", "--alert-route")
                group_by, window = _grouping(route, source)
                yield GroupingRoute(source, str(route["id"]), group_by, window)
            finally:
                if made is not None:
                    _delete(ctx, ROUTE_DELETE, made)
    finally:
        if attribute is not None:
            _delete(ctx, ATTRIBUTE_DELETE, attribute)
