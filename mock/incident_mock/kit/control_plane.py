"""The control plane's operations, routed and validated by its own document (control-plane.yaml).

`ControlPlane.answer` does for /_mock/ what Connexion does for the contract, in a few lines since the
document is small: find the operation by method and path (404, or 405 with `Allow`), check the path and
query parameters and the JSON body against the document's schemas (422 naming the field, in the contract's
error shape), then call the operation's function from `OPERATIONS`, found by operationId. The guard in
front of it (origin, JSON only) is http/control_stage.py's, which asks `Guard` who may call what.

Who may call what, when the mock has an admin token (without one, on loopback, anyone may):
- the admin token: everything;
- a sandbox's control token (returned when the sandbox is created): the operations of that sandbox
  (`/_mock/sandboxes/{its id}` and below: show, reset, delete, journal, faults, clock, webhooks,
  escalations), 403
  `forbidden_sandbox` on any other sandbox and on the mock-wide operations;
- the sandbox-create token (`--sandbox-create-token`), when set: `POST /_mock/sandboxes` only;
- anything else: 401 (`sandbox_expired` for the control token of a sandbox reclaimed for idleness).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft4Validator
from jsonschema.validators import extend

from incident_contract.document import HTTP_METHODS, Spec
from incident_contract.refs import resolve
from incident_mock.domain import errors
from incident_mock.domain.clock import ClockState
from incident_mock.domain.errors import (
    CHALLENGE,
    ApiError,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from incident_mock.domain.param_check import ParamCheck
from incident_mock.domain.problems import FORMATS, SKIPPING, bounded, fast_check, inlined
from incident_mock.domain.records import ApiKey, timestamp
from incident_mock.engine.context import PRIVATE_SCOPE, Ctx
from incident_mock.kit.faults import MAX_FAULTS
from incident_mock.kit.journal import Journal, shown
from incident_mock.kit.sandboxes import DEFAULT_ID, Sandboxes, detail, expired, summary
from incident_mock.kit.webhooks import shown_endpoint, shown_message
from incident_mock.resources import oncall

__all__ = ["OPERATIONS", "ControlPlane", "Guard", "Request"]

Json = dict[str, Any]
Answer = tuple[int, Json | None]
MAX_QUERY_PAIRS = 20
SANDBOXES = "/_mock/sandboxes"
NO_TOKEN = "The control plane needs a token: send Authorization: Bearer <admin or sandbox control token>"
BAD_TOKEN = "The token is not valid for the control plane"
OTHER_SANDBOX = "This control token manages sandbox {id} alone: not this request"
CREATE_ONLY = "This token may only create sandboxes (POST /_mock/sandboxes)"
CONTROL_KEY = ApiKey("control-plane", "", "The mock's control plane", ())


class Guard:
    """Who may call which control-plane operation, from the request's bearer token (module docstring)."""

    def __init__(
        self, sandboxes: Sandboxes, admin_token: str | None, create_token: str | None = None
    ) -> None:
        self.sandboxes = sandboxes
        self.admin = admin_token.encode() if admin_token else None
        self.create = create_token.encode() if create_token else None

    def refusal(self, method: str, path: str, authorization: str) -> ApiError | None:
        if self.admin is None:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Unauthorized(NO_TOKEN, code="missing_authorization_material", headers=CHALLENGE)
        sent = token.encode("utf-8", "surrogatepass")
        if hmac.compare_digest(sent, self.admin):
            return None
        if self.create is not None and hmac.compare_digest(sent, self.create):
            if method == "POST" and path.rstrip("/") == SANDBOXES:
                return None
            return Forbidden(CREATE_ONLY, code="forbidden_sandbox")
        sandbox = self.sandboxes.controlled(token)
        if sandbox is None:
            gone = self.sandboxes.expired_token(token)
            return Unauthorized(BAD_TOKEN, headers=CHALLENGE) if gone is None else expired(gone)
        own = f"{SANDBOXES}/{sandbox.id}"
        if path == own or path.startswith(own + "/"):
            return None
        return Forbidden(OTHER_SANDBOX.format(id=sandbox.id), code="forbidden_sandbox")


@dataclass(frozen=True)
class Request:
    """A control-plane request once routed and validated."""

    sandboxes: Sandboxes
    base_url: str
    version: str
    params: Mapping[str, str]
    query: Mapping[str, Any]
    body: Any


def health(r: Request) -> Answer:
    return 200, {"status": "ok", "version": r.version}


def reset(r: Request) -> Answer:
    r.sandboxes.reset(DEFAULT_ID)
    return 200, {"status": "reset"}


def list_sandboxes(r: Request) -> Answer:
    r.sandboxes.reclaim_idle()
    found = [summary(s, timestamp) for s in r.sandboxes]
    return 200, {"sandboxes": found, "max_sandboxes": r.sandboxes.limits.max_sandboxes}


def create_sandbox(r: Request) -> Answer:
    body = r.body or {}
    frozen_at = _instant(body, "frozen_at")
    try:
        sandbox = r.sandboxes.create(body.get("fixtures"), seed=body.get("seed"), frozen_at=frozen_at)
    except ValueError as exc:  # an instant outside the clock's range
        raise ValidationFailed.invalid("frozen_at", str(exc)) from None
    return 201, {"sandbox": detail(sandbox, timestamp, r.base_url)}


def show_sandbox(r: Request) -> Answer:
    return 200, {"sandbox": detail(r.sandboxes.get(r.params["sandbox_id"]), timestamp, r.base_url)}


def reset_sandbox(r: Request) -> Answer:
    return 200, {"sandbox": detail(r.sandboxes.reset(r.params["sandbox_id"]), timestamp, r.base_url)}


def delete_sandbox(r: Request) -> Answer:
    r.sandboxes.delete(r.params["sandbox_id"])
    return 204, None


def list_requests(r: Request) -> Answer:
    return _listing(r.sandboxes.get(r.params["sandbox_id"]).journal, r.query)


def _listing(journal: Journal, q: Mapping[str, Any]) -> Answer:
    found = journal.select(q.get("operation_id"), q.get("status"), q.get("since", 0), q.get("limit", 100))
    requests = [shown(entry, timestamp) for entry in found]
    return 200, {"requests": requests, "dropped": journal.dropped, "last_sequence": journal.last_sequence}


def clear_requests(r: Request) -> Answer:
    r.sandboxes.get(r.params["sandbox_id"]).journal.clear()
    return 204, None


def list_faults(r: Request) -> Answer:
    found = [fault.shown() for fault in r.sandboxes.get(r.params["sandbox_id"]).faults]
    return 200, {"faults": found, "max_faults": MAX_FAULTS}


def arm_fault(r: Request) -> Answer:
    sandbox = r.sandboxes.get(r.params["sandbox_id"])
    fault = sandbox.faults.arm(r.body or {}, sandbox.seed)
    return 201, {"fault": fault.shown()}


def show_fault(r: Request) -> Answer:
    fault = r.sandboxes.get(r.params["sandbox_id"]).faults.get(r.params["fault_id"])
    return 200, {"fault": fault.shown()}


def remove_fault(r: Request) -> Answer:
    r.sandboxes.get(r.params["sandbox_id"]).faults.remove(r.params["fault_id"])
    return 204, None


def clear_faults(r: Request) -> Answer:
    r.sandboxes.get(r.params["sandbox_id"]).faults.clear()
    return 204, None


def list_unattributed(r: Request) -> Answer:
    return _listing(r.sandboxes.unattributed, r.query)


def clear_unattributed(r: Request) -> Answer:
    r.sandboxes.unattributed.clear()
    return 204, None


def show_clock(r: Request) -> Answer:
    return _clock(r.sandboxes.get(r.params["sandbox_id"]).clock.state())


def freeze_clock(r: Request) -> Answer:
    sandbox = r.sandboxes.get(r.params["sandbox_id"])
    at = _instant(r.body or {}, "at")
    since = sandbox.clock.now()
    try:
        state = sandbox.clock.freeze(at)
    except ValueError as exc:
        raise ValidationFailed.invalid("at", str(exc)) from None
    oncall.clock_moved(sandbox.store, sandbox.webhooks, since, state.now)
    return _clock(state)


def advance_clock(r: Request) -> Answer:
    sandbox = r.sandboxes.get(r.params["sandbox_id"])
    seconds = (r.body or {}).get("seconds")
    if seconds is None:
        raise ValidationFailed(errors.REQUIRED.format(field="seconds"), code="is_required", field="seconds")
    delta = dt.timedelta(seconds=seconds)
    try:
        state = sandbox.clock.advance(delta)
    except ValueError as exc:
        raise ValidationFailed.invalid("seconds", str(exc)) from None
    oncall.clock_moved(sandbox.store, sandbox.webhooks, state.now - delta, state.now)
    return _clock(state)


def release_clock(r: Request) -> Answer:
    clock = r.sandboxes.get(r.params["sandbox_id"]).clock
    return _clock(clock.release(keep_offset=(r.body or {}).get("keep_offset", True)))


def _clock(state: ClockState) -> Answer:
    offset = round(state.offset.total_seconds(), 6)
    return 200, {"clock": {"now": timestamp(state.now), "frozen": state.frozen, "offset_seconds": offset}}


def _instant(body: Json, name: str) -> dt.datetime | None:
    """An Instant of the body (its pattern already checked), or None; 422 when it names no real moment."""
    text = body.get(name)
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValidationFailed.invalid(name, f"not a real date and time: {text!r}") from None
    return moment.astimezone(dt.UTC)


def list_webhooks(r: Request) -> Answer:
    sandbox = r.sandboxes.get(r.params["sandbox_id"])
    found = [shown_endpoint(e) for e in sandbox.webhooks.endpoints.values()]
    return 200, {"webhooks": found, "max_webhooks": r.sandboxes.hub.settings.max_endpoints}


def register_webhook(r: Request) -> Answer:
    endpoint = r.sandboxes.get(r.params["sandbox_id"]).webhooks.register(r.body or {})
    return 201, {"webhook": shown_endpoint(endpoint)}


def show_webhook(r: Request) -> Answer:
    webhooks = r.sandboxes.get(r.params["sandbox_id"]).webhooks
    return 200, {"webhook": shown_endpoint(webhooks.get(r.params["endpoint_id"]))}


def delete_webhook(r: Request) -> Answer:
    r.sandboxes.get(r.params["sandbox_id"]).webhooks.delete(r.params["endpoint_id"])
    return 204, None


def list_webhook_messages(r: Request) -> Answer:
    endpoint = r.sandboxes.get(r.params["sandbox_id"]).webhooks.get(r.params["endpoint_id"])
    messages = [shown_message(m) for m in endpoint.log.oldest(r.query.get("limit", 100))]
    return 200, {"messages": messages, "dropped": endpoint.log.dropped + endpoint.given_up}


def redeliver_webhook_message(r: Request) -> Answer:
    webhooks = r.sandboxes.get(r.params["sandbox_id"]).webhooks
    message = webhooks.redeliver(r.params["endpoint_id"], r.params["message_id"])
    return 202, {"message": shown_message(message)}


def acknowledge_escalation(r: Request) -> Answer:
    sandbox = r.sandboxes.get(r.params["sandbox_id"])
    ctx = Ctx(sandbox.store, CONTROL_KEY, frozenset({PRIVATE_SCOPE}), sandbox.webhooks, {})
    return 200, {"escalation": oncall.acknowledge(ctx, r.params["escalation_id"])}


OPERATIONS: dict[str, Callable[[Request], Answer]] = {
    "Mock#Health": health,
    "Mock#Reset": reset,
    "Sandboxes#List": list_sandboxes,
    "Sandboxes#Create": create_sandbox,
    "Sandboxes#Show": show_sandbox,
    "Sandboxes#Delete": delete_sandbox,
    "Sandboxes#Reset": reset_sandbox,
    "Journal#List": list_requests,
    "Journal#Clear": clear_requests,
    "Faults#List": list_faults,
    "Faults#Arm": arm_fault,
    "Faults#Show": show_fault,
    "Faults#Remove": remove_fault,
    "Faults#Clear": clear_faults,
    "Journal#ListUnattributed": list_unattributed,
    "Journal#ClearUnattributed": clear_unattributed,
    "Clock#Show": show_clock,
    "Clock#Freeze": freeze_clock,
    "Clock#Advance": advance_clock,
    "Clock#Release": release_clock,
    "Webhooks#List": list_webhooks,
    "Webhooks#Register": register_webhook,
    "Webhooks#Show": show_webhook,
    "Webhooks#Delete": delete_webhook,
    "Webhooks#ListMessages": list_webhook_messages,
    "Webhooks#Redeliver": redeliver_webhook_message,
    "Escalations#Acknowledge": acknowledge_escalation,
}


@dataclass(frozen=True)
class ControlOperation:
    id: str
    query: dict[str, ParamCheck]  # checks built once per operation, not per request
    path: tuple[ParamCheck, ...]
    body: Json | None  # the body's schema, its $refs inlined
    body_required: bool = False  # a body left out is checked as {} (422 naming its required fields)


class ControlPlane:
    def __init__(self, spec: Spec, sandboxes: Sandboxes, version: str) -> None:
        self.sandboxes, self.version = sandboxes, version
        self.routes: list[tuple[re.Pattern[str], dict[str, ControlOperation]]] = []
        for template, item in spec["paths"].items():
            shared = item.get("parameters", [])
            methods = {}
            for method in HTTP_METHODS:
                if method in item:
                    op = item[method]
                    params = [ParamCheck.of(resolve(spec, p)) for p in [*shared, *op.get("parameters", [])]]
                    body = op.get("requestBody")
                    schema = resolve(spec, body)["content"]["application/json"]["schema"] if body else None
                    methods[method.upper()] = ControlOperation(
                        op["operationId"],
                        {c.name: c for c in params if c.where == "query"},
                        tuple(c for c in params if c.where == "path"),
                        inlined(spec, schema) if schema else None,
                        bool(body and resolve(spec, body).get("required")),
                    )
            pattern = re.compile(re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + r"\Z")
            self.routes.append((pattern, methods))
        missing = {op.id for _, ops in self.routes for op in ops.values()} ^ set(OPERATIONS)
        if missing:
            raise KeyError(f"control-plane operations and OPERATIONS differ: {sorted(missing)}")

    def answer(self, method: str, path: str, query_string: str, body: Any, base_url: str) -> Answer:
        """Route, validate and run one control-plane request (`body` parsed, None without one); raises
        ApiError for an error answer."""
        for pattern, methods in self.routes:
            matched = pattern.match(path)
            if matched is None:
                continue
            operation = methods.get(method)
            if operation is None:
                allowed = ", ".join(methods)
                message = errors.METHOD.format(method=method, path=path, allowed=allowed)
                raise MethodNotAllowed(message, headers={"Allow": allowed})
            params, query = self._parameters(operation, matched.groupdict(), query_string)
            if operation.body is not None and operation.body_required and body is None:
                body = {}
            if operation.body is not None and body is not None:
                _check_body(operation.body, body)
            request = Request(self.sandboxes, base_url, self.version, params, query, body)
            return OPERATIONS[operation.id](request)
        raise NotFound(errors.NO_ROUTE.format(path=path[:200]))

    @staticmethod
    def _parameters(
        operation: ControlOperation, path: dict[str, str], query_string: str
    ) -> tuple[Json, Json]:
        try:
            pairs = parse_qsl(query_string, keep_blank_values=True, max_num_fields=MAX_QUERY_PAIRS)
        except ValueError:
            raise ValidationFailed.invalid("query", f"at most {MAX_QUERY_PAIRS} parameters") from None
        query: Json = {}
        for name, raw in pairs:
            check = operation.query.get(name)
            if check is None:
                raise ValidationFailed.invalid(name[:100], "unknown query parameter")
            if name not in query:
                query[name] = check(raw)
        for check in operation.path:
            check(path[check.name])
        return path, query


def _check_body(schema: Json, body: Any) -> None:
    """422 listing the first problems of the body (a lone surrogate was refused when it was read)."""
    if fast_check(schema).is_valid(body):
        return
    found = bounded(Reporting(schema, format_checker=FORMATS).iter_errors(body))
    if found:
        raise ValidationFailed.many(found)


Reporting = extend(Draft4Validator, SKIPPING)
