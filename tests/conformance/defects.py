"""The defect catalogue: for every conformance rule, one named server bug that the rule must catch.

Each defect is a `Wire` in front of the real mock (`incident_mock.app.create_app()`): it changes what
travels between the suite and the mock, never the mock's internals. Paths, enums, bounds and required
fields come from the contract through the core, like the suite's own; keys and ids are the mock's
fixtures. `breaks` is the rule that must fail; `also` names the rules allowed to fail with it (empty
for nearly all: a defect shows which rule catches it and that the others stay quiet).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from incident_contract import facts
from incident_contract.document import load_spec
from incident_contract.operations import Operation, operations
from tests.conformance.wire import Answer, Request, Wire, error_answer
from tests.mock.seed import MINOR

SPEC = load_spec()
OPS = operations(SPEC)
IDENTITY, CREATE, LIST = OPS["Utilities V1#Identity"], OPS["Incidents V2#Create"], OPS["Incidents V2#List"]
SHOW, EDIT = OPS["Incidents V2#Show"], OPS["Incidents V2#Edit"]
SEVERITY_CREATE, SEVERITY_LIST = OPS["Severities V1#Create"], OPS["Severities V1#List"]
SEVERITY_SHOW, SEVERITY_DELETE = OPS["Severities V1#Show"], OPS["Severities V1#Delete"]
FULL, VIEWER = "Bearer mock-key-full", "Bearer mock-key-viewer"
Json = dict[str, Any]


def route(request: Request, op: Operation) -> dict[str, str] | None:
    """The path parameters when `request` is a call of `op`, else None."""
    if request.method != op.method:
        return None
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(op.path))
    match = re.fullmatch(pattern, request.path)
    return match.groupdict() if match else None


def incident_of(answer: Answer) -> Json:
    data = answer.json()
    found = data.get("incident") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def enum_of(op: Operation, param: str, key: str | None = None) -> list[str]:
    schema = op.parameter(param)["schema"]
    if key is not None:
        schema = schema["properties"][key]
    return list(schema.get("items", schema)["enum"])


# --- AUTH ---------------------------------------------------------------------------------------------


class NoWwwAuthenticate(Wire):
    """401 answers come without the WWW-Authenticate: Bearer challenge."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        return answer.with_header("www-authenticate", None) if answer.status == 401 else answer


class UnknownKeyIs403(Wire):
    """A token that is not an API key is refused as a missing scope (403) instead of unauthenticated (401).

    (Alert events are authenticated by their source's token, by code of their own: ALERT-4's business.)
    """

    def answer(self, request: Request, answer: Answer) -> Answer:
        if route(request, EVENT) is not None:
            return answer
        codes = (
            [e.get("code") for e in (answer.json() or {}).get("errors", [])] if answer.status == 401 else []
        )
        if "invalid_authorization" in codes:
            return error_answer(403, "resource_forbidden", "missing_scope", "Not allowed")
        return answer


class ForbiddenNamesNoRole(Wire):
    """403 answers say no more than "forbidden": neither the scope nor the roles that grant it."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        if answer.status != 403 or not isinstance(data, dict):
            return answer
        for error in data.get("errors", []):
            error["message"] = "Forbidden"
        return answer.with_json(data)


class IdentityForgetsARole(Wire):
    """Identity leaves the last of a key's roles out, when the key has more than one."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        if route(request, IDENTITY) is None or answer.status != 200 or not isinstance(data, dict):
            return answer
        if len(data["identity"]["roles"]) < 2:
            return answer
        data["identity"]["roles"] = data["identity"]["roles"][:-1]
        return answer.with_json(data)


# --- REQUIRED -----------------------------------------------------------------------------------------


class MissingFieldIsInvalidValue(Wire):
    """A missing required field is reported with code invalid_value instead of is_required."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        if answer.status != 422 or not isinstance(data, dict):
            return answer
        for error in data.get("errors", []):
            if error.get("code") == "is_required":
                error["code"] = "invalid_value"
        return answer.with_json(data)


class WritesBeforeValidating(Wire):
    """A create missing a required field is answered 422, but the incident was written first."""

    async def handle(self, request: Request) -> Answer:
        body = request.json()
        missing = (
            [f for f in CREATE.body_schema["required"] if f not in body] if isinstance(body, dict) else []
        )
        if route(request, CREATE) is not None and missing:
            fills = {
                "idempotency_key": f"written-anyway-{id(body)}",
                "severity_id": MINOR,
                "visibility": "public",
            }
            await self.send(request.with_json({**fills, **body}))
        return await super().handle(request)


# --- ENUM ---------------------------------------------------------------------------------------------


class AcceptsUnknownVisibility(Wire):
    """A create with a visibility outside the enum is taken as the first value the enum lists."""

    def request(self, request: Request) -> Request | Answer:
        body = request.json()
        allowed = CREATE.body_schema["properties"]["visibility"]["enum"]
        outside = isinstance(body, dict) and "visibility" in body and body["visibility"] not in allowed
        if route(request, CREATE) is not None and outside:
            return request.with_json({**body, "visibility": allowed[0]})
        return request


class RejectsASortOrder(Wire):
    """The incident list refuses the last sort order the contract lists."""

    def request(self, request: Request) -> Request | Answer:
        if route(request, LIST) is not None and request.param("sort_by") == enum_of(LIST, "sort_by")[-1]:
            return error_answer(422, "validation_error", "invalid_value", "sort_by is not supported")
        return request


# --- IDEMP --------------------------------------------------------------------------------------------


def _key(request: Request) -> tuple[Json, str] | None:
    """A create's body and its idempotency key as the server scopes it: the API key's own (sender + key)."""
    body = request.json()
    if (
        route(request, CREATE) is None
        or not isinstance(body, dict)
        or not isinstance(body.get("idempotency_key"), str)
    ):
        return None
    return body, f"{request.header('authorization')} {body['idempotency_key']}"


class ReplayWithoutHeader(Wire):
    """A replay answers the first incident, without Idempotent-Replayed: true."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        return answer.with_header("idempotent-replayed", None)


@dataclass
class ReusedKeyReplays(Wire):
    """A key reused with a different payload replays the first incident instead of 422."""

    app: Any
    first: dict[str, Json] = field(default_factory=dict)  # key -> the payload that created an incident

    async def handle(self, request: Request) -> Answer:
        keyed = _key(request)
        if keyed is not None and keyed[1] in self.first:
            request = request.with_json(self.first[keyed[1]])
        answer = await super().handle(request)
        if keyed is not None and answer.status < 300:
            self.first.setdefault(keyed[1], keyed[0])
        return answer


@dataclass
class DuplicatesUnderConcurrency(Wire):
    """Duplicates only under concurrency: a create whose key is still being written gets a key of its own.

    A create takes a moment (20 ms) here, so creates sent at once overlap and one after another do not.
    """

    app: Any
    in_flight: set[str] = field(default_factory=set)

    async def handle(self, request: Request) -> Answer:
        keyed = _key(request)
        if keyed is None:
            return await super().handle(request)
        body, key = keyed
        if key in self.in_flight:
            return await super().handle(
                request.with_json({**body, "idempotency_key": f"{body['idempotency_key']}-raced-{id(body)}"})
            )
        self.in_flight.add(key)
        try:
            await asyncio.sleep(0.02)
            return await super().handle(request)
        finally:
            self.in_flight.discard(key)


@dataclass
class RejectedCreateBurnsKey(Wire):
    """A create rejected with a 4xx uses up its key: the corrected retry is refused as a key reuse."""

    app: Any
    burnt: set[str] = field(default_factory=set)

    async def handle(self, request: Request) -> Answer:
        keyed = _key(request)
        if keyed is not None and keyed[1] in self.burnt:
            return error_answer(422, "validation_error", "idempotency_key_reused", "idempotency_key was used")
        answer = await super().handle(request)
        if keyed is not None and 400 <= answer.status < 500:
            self.burnt.add(keyed[1])
        return answer


@dataclass
class DedupesEqualPayloads(Wire):
    """Creates whose payloads are equal but for the key replay the first one."""

    app: Any
    keys: dict[str, str] = field(default_factory=dict)  # payload without its key -> the first key

    async def handle(self, request: Request) -> Answer:
        keyed = _key(request)
        if keyed is None:
            return await super().handle(request)
        body, _ = keyed
        payload = json.dumps({k: v for k, v in body.items() if k != "idempotency_key"}, sort_keys=True)
        scoped = f"{request.header('authorization')} {payload}"  # one API key's creates
        first = self.keys.get(scoped)
        answer = await super().handle(
            request.with_json({**body, "idempotency_key": first}) if first else request
        )
        if answer.status < 300:
            self.keys.setdefault(scoped, body["idempotency_key"])
        return answer


@dataclass
class IdempotencyKeysSharedAcrossApiKeys(Wire):
    """Idempotency keys are shared across API keys: a create reusing an idempotency_key another API key used
    first is answered as that key's create (its replay, whole incident included, or its key reuse).
    """

    app: Any
    owner: dict[str, str] = field(default_factory=dict)  # idempotency_key -> the Authorization that used it

    async def handle(self, request: Request) -> Answer:
        keyed = _key(request)
        used = keyed[0]["idempotency_key"] if keyed is not None else None  # whoever sends it
        sender = request.header("authorization") or ""
        first = self.owner.get(used) if used is not None else None
        answer = await super().handle(request.with_header("authorization", first) if first else request)
        if used is not None and answer.status < 300:
            self.owner.setdefault(used, sender)
        return answer


# --- VIS ----------------------------------------------------------------------------------------------


class ViewerListsSeePrivate(Wire):
    """The incident list answers a viewer as if it held incidents.view_private."""

    def request(self, request: Request) -> Request | Answer:
        if route(request, LIST) is not None and request.header("authorization") == VIEWER:
            return request.with_header("authorization", FULL)
        return request


@dataclass
class PrivateIncidentIs403(Wire):
    """A viewer asking for a private incident gets 403, which tells it the incident exists."""

    app: Any
    private: set[str] = field(default_factory=set)  # ids and reference numbers of private incidents

    async def handle(self, request: Request) -> Answer:
        params = route(request, SHOW) or route(request, EDIT)
        if params and params["id"] in self.private and request.header("authorization") == VIEWER:
            return error_answer(403, "resource_forbidden", "private_incident", "This incident is private")
        answer = await super().handle(request)
        incident = incident_of(answer)
        if route(request, CREATE) is not None and incident.get("visibility") == "private":
            self.private |= {incident["id"], str(incident.get("reference", "")).rpartition("-")[2]}
        return answer


class FullKeyListHidesPrivate(Wire):
    """Lists leave private incidents out even for a key with incidents.view_private."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        if route(request, LIST) is None or answer.status != 200 or not isinstance(data, dict):
            return answer
        data["incidents"] = [i for i in data["incidents"] if i.get("visibility") != "private"]
        return answer.with_json(data)


class EditIgnoresVisibility(Wire):
    """An edit that sends visibility is applied without it (200) instead of being refused."""

    def request(self, request: Request) -> Request | Answer:
        body = request.json()
        if (
            route(request, EDIT) is not None
            and isinstance(body, dict)
            and isinstance(body.get("incident"), dict)
        ):
            inner = {k: v for k, v in body["incident"].items() if k != "visibility"}
            return request.with_json({**body, "incident": inner})
        return request


# --- PAGE ---------------------------------------------------------------------------------------------


@dataclass
class _Cursors(Wire):
    """Remembers the ids the incident list has answered (the cursors a client may send back)."""

    app: Any
    listed: set[str] = field(default_factory=set)

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        if route(request, LIST) is not None and answer.status == 200 and isinstance(data, dict):
            self.listed |= {str(i.get("id")) for i in data.get("incidents", [])}
        return answer

    def without_after(self, request: Request, known: bool) -> Request:
        """The request without its `after`, when that is (known) or is not (not known) a listed id."""
        after = request.param("after")
        if route(request, LIST) is None or after is None or (after in self.listed) != known:
            return request
        return request.with_query([(k, v) for k, v in request.query if k != "after"])


class RestartsAtKnownCursors(_Cursors):
    """A valid after cursor is ignored: every page is the first page again."""

    def request(self, request: Request) -> Request | Answer:
        return self.without_after(request, known=True)


class IgnoresUnknownCursor(_Cursors):
    """An after that names no listed record is ignored (the first page) instead of refused."""

    def request(self, request: Request) -> Request | Answer:
        return self.without_after(request, known=False)


class ClampsPageSize(Wire):
    """A page_size outside the contract's bounds, or not an integer, is replaced by the default."""

    def request(self, request: Request) -> Request | Answer:
        low, high, default = facts.page_size_bounds(SPEC, LIST.id)
        value = request.param("page_size")
        if route(request, LIST) is None or value is None or (value.isdigit() and low <= int(value) <= high):
            return request
        return request.with_query([(k, str(default) if k == "page_size" else v) for k, v in request.query])


class ListsTestModeByDefault(Wire):
    """Without a mode filter the incident list includes every mode, test incidents among them."""

    def request(self, request: Request) -> Request | Answer:
        if route(request, LIST) is None or any(k.startswith("mode") for k, _ in request.query):
            return request
        return request.with_query(
            [*request.query, *(("mode[one_of]", m) for m in enum_of(LIST, "mode", "one_of"))]
        )


# --- ERR ----------------------------------------------------------------------------------------------


class Proxy413Page(Wire):
    """A body over the limit gets a proxy's own JSON page (with the request id) instead of ErrorResponse."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        if answer.status != 413:
            return answer
        return answer.with_json(
            {"message": "Request Entity Too Large", "request_id": answer.header("x-request-id")}
        )


class RequestIdHeaderDiffers(Wire):
    """Error answers carry an X-Request-Id header that is not their body's request_id."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        return answer.with_header("x-request-id", "proxy-request-id") if answer.status >= 400 else answer


class AllowListsEveryMethod(Wire):
    """405 answers list every HTTP method in Allow, not the methods the path offers."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        return (
            answer.with_header("allow", "GET, POST, PUT, PATCH, DELETE") if answer.status == 405 else answer
        )


class CrashesOnNonAsciiText(Wire):
    """A create or edit whose name or summary is not ASCII answers 500."""

    def request(self, request: Request) -> Request | Answer:
        body = request.json()
        if (route(request, CREATE) is None and route(request, EDIT) is None) or not isinstance(body, dict):
            return request
        texts = [body.get(k) for k in ("name", "summary")]
        inner = body.get("incident")
        texts += [inner.get(k) for k in ("name", "summary")] if isinstance(inner, dict) else []
        if any(isinstance(t, str) and not t.isascii() for t in texts):
            return error_answer(500, "api_error", "internal_error", "'ascii' codec can't encode")
        return request


# --- not in the table: a server the rules cannot judge ------------------------------------------------


class ConstantTotal(Wire):
    """Lists report one total_record_count whatever was created, as a stateless server (Prism) does."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        if route(request, LIST) is None or answer.status != 200 or not isinstance(data, dict):
            return answer
        data["pagination_meta"]["total_record_count"] = 7
        return answer.with_json(data)


# --- SCHEMA -------------------------------------------------------------------------------------------


class CreateAnswerLacksReference(Wire):
    """The create answer's incident has no `reference`, which the contract's schema requires."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        if route(request, CREATE) is None or answer.status >= 300 or not isinstance(data, dict):
            return answer
        data.get("incident", {}).pop("reference", None)
        return answer.with_json(data)


@dataclass
class SeverityReadLag(Wire):
    """A new severity is not found (404) by show or delete until the severity list has been read again.

    Reads and deletes go through a cache that only the list refreshes: the read-after-write gap that
    Schemathesis' stateful check `ensure_resource_availability` exists for (a create, then a call through
    one of the create's links). Updates go to the database and are not affected.
    """

    app: Any
    unseen: set[str] = field(default_factory=set)

    async def handle(self, request: Request) -> Answer:
        params = route(request, SEVERITY_SHOW) or route(request, SEVERITY_DELETE)
        if params is not None and params["id"] in self.unseen:
            return await super().handle(replace(request, path=SEVERITY_SHOW.url(id="unknown-severity")))
        answer = await super().handle(request)
        created = (
            (answer.json() or {}).get("severity") if route(request, SEVERITY_CREATE) is not None else None
        )
        if isinstance(created, dict) and answer.status < 300:
            self.unseen.add(str(created.get("id")))
        if route(request, SEVERITY_LIST) is not None:
            self.unseen.clear()
        return answer


# --- RES: the generic rules of the declared resources ----------------------------------------------------


class IncidentRoleShowDiffers(Wire):
    """Showing an incident role answers another name than the list gives for it (a stale read replica)."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        if route(request, OPS["Incident Roles V2#Show"]) is not None and answer.status == 200:
            data = answer.json()
            data["incident_role"]["name"] += " (stale)"
            return answer.with_json(data)
        return answer


class CreatedSeverityNotListed(Wire):
    """A severity created for a round trip is shown but left out of the list (the list is cached)."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        if route(request, SEVERITY_LIST) is not None and answer.status == 200:
            data = answer.json()
            data["severities"] = [s for s in data["severities"] if "round trip" not in s["name"]]
            return answer.with_json(data)
        return answer


class UpdateNotKept(Wire):
    """An update answers the new values, but the object is put back as it was right after."""

    update, show = OPS["Severities V1#Update"], SEVERITY_SHOW

    async def handle(self, request: Request) -> Answer:
        params = route(request, self.update)
        if params is None:
            return await super().handle(request)
        before = await self.send(replace(request, method="GET", path=self.show.url(**params), body=b""))
        answer = await super().handle(request)
        old = before.json() if before.status == 200 else None
        if answer.status == 200 and isinstance(old, dict) and isinstance(request.json(), dict):
            current = next(iter(old.values()))
            await self.send(request.with_json({k: v for k, v in current.items() if k in request.json()}))
        return answer


class DeleteNotApplied(Wire):
    """A delete of an existing object answers success but deletes nothing."""

    delete, show = SEVERITY_DELETE, SEVERITY_SHOW

    async def handle(self, request: Request) -> Answer:
        params = route(request, self.delete)
        if params is not None:
            shown = await self.send(replace(request, method="GET", path=self.show.url(**params), body=b""))
            if shown.status == 200:
                headers = tuple((k, v) for k, v in shown.headers if k != "content-type")
                return replace(shown, status=self.delete.success_status, headers=headers, body=b"")
        return await super().handle(request)


class UnknownWidgetReferenceAccepted(Wire):
    """A widget create naming a severity the organisation does not have is answered as if it were
    created (tests/widgets.py: a resource the contract declares, with a reference to severities)."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        body = request.json()
        if request.method == "POST" and request.path == "/v1/widgets" and answer.status == 422:
            now = "2026-01-01T00:00:00.000000Z"
            made = {**body, "id": "01WIDGETGHOST", "created_at": now, "updated_at": now}
            return answer.with_json({"widget": made}, 201)
        return answer


class UnknownFilterIsEmpty(Wire):
    """A list filtered on an id the organisation does not have answers an empty page instead of 422."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        named = [(e.get("source") or {}).get("field") for e in (answer.json() or {}).get("errors", [])]
        listing = route(request, OPS["Custom Field Options V1#List"]) is not None
        if listing and answer.status == 422 and named == ["custom_field_id"]:
            return answer.with_json({"custom_field_options": [], "pagination_meta": {"page_size": 25}}, 200)
        return answer


class RejectsSchemathesis(Wire):
    """Every request Schemathesis sends is refused with 401, as when a run's credentials silently fail."""

    def request(self, request: Request) -> Request | Answer:
        if request.header("x-schemathesis-testcaseid") is not None:
            return error_answer(
                401, "authentication_error", "invalid_authorization", "The API key is not valid"
            )
        return request


# --- ALERT, ROUTE, ESC, SCHED: the alerts path and on-call ------------------------------------------------

EVENT, ALERT_LIST = OPS["Alert Events V2#CreateHTTP"], OPS["Alerts V2#List"]
SOURCE_SHOW = OPS["Alert Sources V2#Show"]
CANCEL, PREVIEW = OPS["Escalations V2#CancelEscalation"], OPS["Schedules V2#PreviewScheduleEntries"]


def _event(request: Request) -> tuple[str, Json] | None:
    """The source and body of a firing alert event that names a deduplication key."""
    params, body = route(request, EVENT), request.json()
    if params is None or not isinstance(body, dict) or "deduplication_key" not in body:
        return None
    return params["alert_source_config_id"], body


@dataclass
class TitleChangeRaisesAnAlert(Wire):
    """Deduplication keyed on the key and the title: a firing event whose title differs from the last one
    of its key resolves that alert and raises another."""

    app: Any
    titles: dict[tuple[str, str], Any] = field(default_factory=dict)

    async def handle(self, request: Request) -> Answer:
        event = _event(request)
        if event is None or event[1].get("status") != "firing":
            return await super().handle(request)
        source, body = event
        slot = (source, str(body["deduplication_key"]))
        if slot in self.titles and self.titles[slot] != body.get("title"):
            await super().handle(request.with_json({**body, "status": "resolved"}))
        self.titles[slot] = body.get("title")
        return await super().handle(request)


RACED = "-raced-"


@dataclass
class EventsRaceOnTheirKey(Wire):
    """Deduplication races: an event whose key is still being processed raises an alert of its own.

    Processing takes a moment (20 ms) here, so events sent at once overlap and events one after another do
    not. The server answers every alert with the key it was sent with, and finds it by that key.
    """

    app: Any
    in_flight: set[tuple[str, str]] = field(default_factory=set)

    async def handle(self, request: Request) -> Answer:
        if route(request, ALERT_LIST) is not None:
            return await self._listed(request)
        event = _event(request)
        if event is None:
            return await super().handle(request)
        source, body = event
        slot = (source, str(body["deduplication_key"]))
        if slot in self.in_flight:
            raced = {**body, "deduplication_key": f"{slot[1]}{RACED}{id(body)}"}
            answer = await super().handle(request.with_json(raced))
            return answer.with_json({**(answer.json() or {}), "deduplication_key": slot[1]})
        self.in_flight.add(slot)
        try:
            await asyncio.sleep(0.02)
            return await super().handle(request)
        finally:
            self.in_flight.discard(slot)

    async def _listed(self, request: Request) -> Answer:
        key = request.param("deduplication_key[is]")
        if key is None:
            return await super().handle(request)
        answer = await super().handle(
            request.with_query([(k, v) for k, v in request.query if k != "deduplication_key[is]"])
        )
        data = answer.json()
        if answer.status != 200 or not isinstance(data, dict):
            return answer
        kept = []
        for alert in data.get("alerts", []):
            if str(alert.get("deduplication_key", "")).split(RACED)[0] == key:
                kept.append({**alert, "deduplication_key": key})
        return answer.with_json({**data, "alerts": kept})


class ResolvedEventsAreFiring(Wire):
    """A resolved event is taken as a firing one: it updates the alert instead of resolving it."""

    def request(self, request: Request) -> Request | Answer:
        event = _event(request)
        if event is not None and event[1].get("status") == "resolved":
            return request.with_json({**event[1], "status": "firing"})
        return request


class AnyTokenAccepted(Wire):
    """An alert event with a token is accepted whatever the token: it is present, so it is taken as right."""

    async def handle(self, request: Request) -> Answer:
        params = route(request, EVENT)
        if params is None or request.param("token") is None:
            return await super().handle(request)
        show = replace(request, method="GET", path=SOURCE_SHOW.url(id=params["alert_source_config_id"]),
                       raw_query="", body=b"").with_header("authorization", FULL)  # fmt: skip
        source = ((await super().handle(show)).json() or {}).get("alert_source") or {}
        query = [(k, v) for k, v in request.query if k != "token"]
        return await super().handle(request.with_query([*query, ("token", str(source.get("secret_token")))]))


@dataclass
class GroupsNothing(Wire):
    """Route grouping compares values that never repeat: every alert opens an incident of its own."""

    app: Any
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def request(self, request: Request) -> Request | Answer:
        event = _event(request)
        metadata = event[1].get("metadata") if event is not None else None
        if event is None or not isinstance(metadata, dict) or not metadata:
            return request
        unique = {k: f"{v}-{next(self.counter)}" if isinstance(v, str) else v for k, v in metadata.items()}
        return request.with_json({**event[1], "metadata": unique})


class CancelIsIgnored(Wire):
    """Cancelling an escalation answers success and changes nothing: the escalation goes on."""

    def request(self, request: Request) -> Request | Answer:
        if route(request, CANCEL) is not None:
            return Answer(200, (("x-request-id", "defect"),), b"")
        return request


class EntriesEndEarly(Wire):
    """Previewed final entries end a minute before the next one starts: the schedule has gaps."""

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        if route(request, PREVIEW) is None or answer.status != 200 or not isinstance(data, dict):
            return answer
        for entry in data["schedule_entries"]["final"]:
            ends = dt.datetime.fromisoformat(entry["end_at"]) - dt.timedelta(minutes=1)
            entry["end_at"] = ends.isoformat()
        return answer.with_json(data)


# --- the table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Defect:
    wire: Callable[[Any], Wire]
    breaks: str  # the rule that must fail
    also: frozenset[str] = frozenset()  # rules allowed to fail with it (named, never a family)
    args: tuple[str, ...] = ()  # extra arguments for the suite
    seed: int = 7  # Schemathesis' draws are the seed's: the one a SCHEMA defect is shown to be caught with

    @property
    def name(self) -> str:
        words = r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-zA-Z])(?=[0-9])"
        return re.sub(words, "_", self.wire.__name__).lower()


CATALOGUE = [
    Defect(NoWwwAuthenticate, "AUTH-1"),
    Defect(UnknownKeyIs403, "AUTH-2"),
    Defect(ForbiddenNamesNoRole, "AUTH-3"),
    Defect(IdentityForgetsARole, "AUTH-4"),
    Defect(MissingFieldIsInvalidValue, "REQUIRED-1"),
    Defect(WritesBeforeValidating, "REQUIRED-2"),
    Defect(AcceptsUnknownVisibility, "ENUM-1"),
    Defect(RejectsASortOrder, "ENUM-2"),
    Defect(ReplayWithoutHeader, "IDEMP-1"),
    Defect(ReusedKeyReplays, "IDEMP-2"),
    Defect(DuplicatesUnderConcurrency, "IDEMP-3"),
    Defect(RejectedCreateBurnsKey, "IDEMP-4"),
    Defect(DedupesEqualPayloads, "IDEMP-5"),
    Defect(IdempotencyKeysSharedAcrossApiKeys, "IDEMP-6"),
    Defect(ViewerListsSeePrivate, "VIS-1"),
    Defect(PrivateIncidentIs403, "VIS-2"),
    Defect(FullKeyListHidesPrivate, "VIS-3"),
    Defect(EditIgnoresVisibility, "VIS-4"),
    Defect(RestartsAtKnownCursors, "PAGE-1"),
    Defect(ClampsPageSize, "PAGE-2"),
    Defect(IgnoresUnknownCursor, "PAGE-3"),
    Defect(ListsTestModeByDefault, "PAGE-4"),
    Defect(Proxy413Page, "ERR-1"),
    Defect(RequestIdHeaderDiffers, "ERR-2"),
    Defect(AllowListsEveryMethod, "ERR-3"),
    Defect(CrashesOnNonAsciiText, "ERR-4"),
    Defect(IncidentRoleShowDiffers, "RES-1"),
    Defect(CreatedSeverityNotListed, "RES-2", args=("--allow-settings-writes",)),
    Defect(UpdateNotKept, "RES-3", args=("--allow-settings-writes",)),
    Defect(DeleteNotApplied, "RES-4", args=("--allow-settings-writes",)),
    Defect(UnknownFilterIsEmpty, "RES-5"),
    Defect(TitleChangeRaisesAnAlert, "ALERT-1"),
    Defect(EventsRaceOnTheirKey, "ALERT-2"),
    Defect(ResolvedEventsAreFiring, "ALERT-3"),
    Defect(AnyTokenAccepted, "ALERT-4"),
    Defect(GroupsNothing, "ROUTE-1"),
    Defect(CancelIsIgnored, "ESC-1"),
    Defect(EntriesEndEarly, "SCHED-1"),
    # Schemathesis' stateful phase cannot start at the create today, but once the contract links into it,
    # create -> show would see this too.
    Defect(CreateAnswerLacksReference, "SCHEMA-1", also=frozenset({"SCHEMA-2"})),
    # Severities are the contract's resources whose create is a stateful root (no reference in the body).
    # The RES rules read a created severity back at once too, and see the same lag. The run checks the
    # Severities and Incidents families only, so the stateful phase has few other creates to share with.
    Defect(
        SeverityReadLag,
        "SCHEMA-2",
        also=frozenset({"RES-2", "RES-3", "RES-4"}),
        args=("--allow-settings-writes", "--family", "Severities", "--family", "Incidents"),
        seed=2,
    ),
    Defect(RejectsSchemathesis, "SCHEMA-3", also=frozenset({"SCHEMA-1", "SCHEMA-2"})),
]
