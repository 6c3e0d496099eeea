"""Everything a rule sees: the contract, the targets, the options, and helpers to build requests and judge
answers. Nothing here collects results: a rule yields its own Failures and Notes (see rules.py).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from incident_conformance.contract import Contract
from incident_conformance.findings import Failure, RuleSkipped, expect
from incident_conformance.marks import NAME_PREFIX, TEST_MODE
from incident_conformance.target import Exchange, Target

if TYPE_CHECKING:
    from incident_conformance.settings import SettingsLedger

__all__ = [
    "CREATE",
    "CREATING",
    "CUSTOM_FIELDS",
    "EDIT",
    "LIST",
    "REFERENCES",
    "SHOW",
    "VIEW_PRIVATE",
    "Options",
    "RunContext",
    "incident_of",
]

CREATE = "Incidents V2#Create"
LIST = "Incidents V2#List"
SHOW = "Incidents V2#Show"
EDIT = "Incidents V2#Edit"
# A reference field of a create body -> the list operation and the result member that supply valid ids.
REFERENCES = {"severity_id": ("Severities V1#List", "severities")}
CUSTOM_FIELDS = "Custom Fields V2#List"  # supplies the custom_field_id a list of options requires
VIEW_PRIVATE = "incidents.view_private"  # the scope that sees private incidents (x-api-key-roles)
# What `create_payload` and the creates call: the create, and the lists that supply valid reference ids.
CREATING = (CREATE, *(op for op, _ in REFERENCES.values()))


def incident_of(exchange: Exchange) -> dict[str, Any]:
    """The `incident` member of an answer's body; empty when there is none."""
    data = exchange.json()
    incident = data.get("incident") if isinstance(data, dict) else None
    return incident if isinstance(incident, dict) else {}


@dataclass(frozen=True)
class Options:
    profile: str = "quick"
    seed: int = 0
    allow_settings_writes: bool = False
    schema_max_examples: int | None = None  # examples per operation for Schemathesis; None: the profile's
    schema_max_time: int | None = None  # seconds Schemathesis keeps generating for; None: bounded by examples
    ca_bundle: str | None = (
        None  # --ca-bundle: the CA certificates that verify the target's (Schemathesis too)
    )
    families: tuple[str, ...] = ()  # --family: the families (tags) to check; none: the profile's choice
    # What the alerts-path rules may use on a target other than the mock (on the mock they make their own):
    alert_source: str | None = None  # --alert-source: a test HTTP alert source they may fire and resolve on
    alert_source_token: str | None = None  # --alert-source-token: its token (default: the one it answers)
    alert_route: str | None = None  # --alert-route: a test route of that source, which opens incidents
    escalation_path: str | None = None  # --escalation-path: a test path the run may escalate to and cancel

    @property
    def thorough(self) -> bool:
        return self.profile == "thorough"


@dataclass
class RunContext:
    contract: Contract
    full: Target
    viewer: Target | None
    options: Options
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    cache: dict[str, Any] = field(default_factory=dict)  # runs shared between rules (the Schemathesis runs)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _refs: dict[str, str] = field(default_factory=dict)
    settings: SettingsLedger | None = None  # with --allow-settings-writes: what may be written, and what was
    creator: Target | None = None  # --creator-key: may create incidents, may not see private ones
    # The scopes --api-key holds: its roles (GET /v1/identity) through x-api-key-roles; None when unknown.
    key_scopes: frozenset[str] | None = None
    # The families (tags) this run checks (families.chosen); None: every one
    families: frozenset[str] | None = None
    on_mock: bool = False  # the target is the project's mock (scopes.is_mock): every write may run

    def checks(self, operation_id: str) -> bool:
        """Whether this run checks the operation: its family was chosen."""
        return self.families is None or self.contract.family(operation_id) in self.families

    def __post_init__(self) -> None:
        self.contract.chosen = self.families

    def may_write(self, operation_id: str) -> bool:
        """Whether this run may send the operation: a read, or a write on the mock, or a write whose family
        may be written on any target (not `x-writes-on-mock-only`)."""
        if self.contract.method(operation_id) == "GET" or self.on_mock:
            return True
        return self.contract.family(operation_id) not in self.contract.mock_only_writes

    # --- judging answers -------------------------------------------------------------------------------
    def expect_error(
        self,
        exchange: Exchange,
        title: str,
        status: int,
        code: str | None = None,
        field_name: str | None = None,
    ) -> Failure | None:
        """A Failure unless the answer is `status` with the contract's error type and `code`/`field`."""
        data = exchange.json()
        kind = self.contract.error_types.get(status)
        want = f"{status} {kind}" + (f" with code {code}" if code else "")
        want += f" naming {field_name}" if field_name else ""
        ok = exchange.status == status and isinstance(data, dict) and data.get("type") == kind
        if ok and (code or field_name):
            entries = [e for e in data.get("errors") or [] if isinstance(e, dict)]
            ok = any(
                (code is None or e.get("code") == code)
                and (field_name is None or (e.get("source") or {}).get("field") == field_name)
                for e in entries
            )
        return expect(ok, title, want, exchange.describe(), exchange.curl)

    def viewer_target(self) -> Target:
        """The viewer key's target, for rules registered with `needs_viewer` (the runner skips those)."""
        if self.viewer is None:
            raise RuntimeError("a rule without needs_viewer asked for the viewer key")
        return self.viewer

    def creator_target(self) -> Target:
        """The creator key's target, for rules registered with `needs_creator` (the runner skips those)."""
        if self.creator is None:
            raise RuntimeError("a rule without needs_creator asked for the creator key")
        return self.creator

    # --- building requests -----------------------------------------------------------------------------
    def idempotency_key(self, label: str) -> str:
        return f"conformance-{self.run_id}-{label}-{next(self._counter)}"

    def reference(self, field_name: str) -> str:
        """A valid id for a reference field, read from the target's own settings.

        One that existed before the run, never one the run created: an incident that uses a severity would
        keep the run from deleting that severity at the end.
        """
        if field_name not in self._refs:
            op, member = REFERENCES[field_name]
            answer = self.full.request(self.contract.method(op), self.contract.path(op))
            items = (answer.json() or {}).get(member) if answer.status == 200 else None
            ours = set(self.settings.created) if self.settings is not None else set()
            usable = [
                i for i in items or []
                if str(i["id"]) not in ours and not str(i.get("name", "")).startswith(NAME_PREFIX)
            ]  # fmt: skip
            if not usable:
                raise RuleSkipped(f"the target lists no {member}; {field_name} cannot be filled in")
            self._refs[field_name] = str(usable[0]["id"])
        return self._refs[field_name]

    def create_payload(self, label: str, **extra: Any) -> dict[str, Any]:
        """A valid create body: every required field, mode test and the name prefix."""
        payload: dict[str, Any] = {}
        for name in self.contract.required_fields(CREATE):
            prop = self.contract.property_schema(CREATE, name)
            if name == "idempotency_key":
                payload[name] = self.idempotency_key(label)
            elif name in REFERENCES:
                payload[name] = self.reference(name)
            elif "enum" in prop:
                payload[name] = prop["enum"][0]
            else:
                raise RuleSkipped(f"cannot fill in the required field {name}")
        payload["mode"] = TEST_MODE
        payload["name"] = f"{NAME_PREFIX} {label}"
        payload.update(extra)
        return payload

    def send_create(self, payload: dict[str, Any]) -> Exchange:
        """POST a create body as given (counted against --max-creates)."""
        return self.full.create_incident(payload, self.path(CREATE))

    def create(self, label: str, **extra: Any) -> tuple[Exchange, dict[str, Any]]:
        """Create a test incident; returns the exchange and the incident (empty when it failed)."""
        exchange = self.send_create(self.create_payload(label, **extra))
        return exchange, incident_of(exchange)

    def create_ok(self, label: str, **extra: Any) -> dict[str, Any]:
        exchange, incident = self.create(label, **extra)
        ok = exchange.status == self.contract.success_status(CREATE) and "id" in incident
        if not ok:
            raise RuleSkipped(f"could not create a test incident to check with: {exchange.describe()}")
        return incident

    def path(self, operation_id: str, **params: str) -> str:
        return self.contract.path(operation_id, **params)

    def list_incidents(self, target: Target | None = None, **params: Any) -> Exchange:
        """GET the incident list; test-mode incidents are asked for unless `mode[one_of]` is given."""
        query: dict[str, Any] = {"mode[one_of]": TEST_MODE, **params}
        query = {k: v for k, v in query.items() if v is not None}
        return (target or self.full).request("GET", self.path(LIST), params=query)

    def total(self, target: Target | None = None, **params: Any) -> int | None:
        answer = self.list_incidents(target, page_size=1, **params)
        meta = (answer.json() or {}).get("pagination_meta") if answer.status == 200 else None
        total = meta.get("total_record_count") if isinstance(meta, dict) else None
        return total if isinstance(total, int) else None
