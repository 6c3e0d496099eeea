"""Sandboxes: isolated organisations, each with its own store, keys, journal and faults, found by a token.

Framework-free. The `default` sandbox is built from the fixtures file and keeps the fixtures' own tokens
(`mock-key-full`, ...), so everything that worked before sandboxes works unchanged; it can be reset but
never deleted. Every other sandbox is built from the fixtures parsed once at start (or from a fixtures
document of its own, each table replacing the default one and each object validated against the contract's
schema for it), and gets a fresh random token for every key its fixtures define, with the same roles.

Finding a token's sandbox is one dictionary lookup keyed by the SHA-256 of the token, whatever the number
of sandboxes; the digest found is then compared with `hmac.compare_digest`, so nothing is compared in
time that depends on the token. Idempotency keys, visibility, caps and the journal live in each sandbox's
store and journal; the incidents and text of all stores count against shared `Totals`, and all journals
against one `JournalBudget`.

Each sandbox has its own clock (clock.SandboxClock over the mock's clock) and its own ids (ids.Ids, seeded
by the sandbox's `seed`, or random). The mock's own ids (sandbox ids, tokens, the seeds drawn for sandboxes
created without one under a seeded mock) and the request ids of requests no sandbox claims come from two
generators of `Sandboxes`, seeded from the mock's seed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from hmac import compare_digest
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from incident_contract.document import Spec, load_spec
from incident_contract.facts import declared_errors
from incident_contract.refs import validator
from incident_contract.resources import schema_of
from incident_mock.domain.clock import Clock, SandboxClock
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.ids import Ids, app_seed
from incident_mock.domain.limits import Totals, capacity_reached, text_bytes
from incident_mock.domain.records import ApiKey
from incident_mock.domain.settings import MockSettings
from incident_mock.engine.store import Rules, discard, read_fixtures
from incident_mock.kit.faults import Faults
from incident_mock.kit.journal import Journal, JournalBudget
from incident_mock.kit.webhooks import Hub, SandboxWebhooks
from incident_mock.resources.organisation import StoreHolder

__all__ = ["DEFAULT_ID", "SandboxState", "Sandboxes", "detail", "summary", "token_digest"]

Json = dict[str, Any]
DEFAULT_ID = "default"
TOKEN_PREFIX = "sbx_"
# fixtures table -> the contract schema each of its objects must match: from the declarations (x-resources)
SCHEMA_OF = schema_of(load_spec())
NO_DEFAULT_DELETE = "The default sandbox cannot be deleted; reset it with POST /_mock/reset"
NO_SANDBOX = "No sandbox with id {id!r}"
BAD_FIXTURES = "The fixtures do not hold together: {detail}"


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class Shared:
    """What every sandbox of one mock shares: its settings, the contract's rules, the counts of what all
    stores hold, the journals' byte budget, the webhook deliveries and the errors a fault may answer."""

    settings: MockSettings
    rules: Rules
    totals: Totals
    budget: JournalBudget
    hub: Hub
    declared: Mapping[str, frozenset[int]]


class SandboxState(StoreHolder):
    """One organisation: its store (reset swaps it), its journal, its rate-limit buckets, its clock (over
    the mock's clock, `clock`) and its ids (seeded by `seed`, or random when it is None)."""

    def __init__(
        self,
        sandbox_id: str,
        fixtures: Path | Json,
        shared: Shared,
        dashboard_url: str | None,
        *,
        clock: Clock | SandboxClock | None = None,
        replaces: dict[str, str] | None = None,
        seed: int | None = None,
    ) -> None:
        own = clock if isinstance(clock, SandboxClock) else SandboxClock(clock or shared.settings.clock)
        limits = shared.settings.limits
        self.seed = seed  # the faults' probabilities are drawn from it too
        self.deleted = False  # a request still under way (a delay fault's) must not write into it
        ids = Ids(seed, own)
        super().__init__(
            fixtures, shared.rules, dashboard_url, limits=limits, clock=own, totals=shared.totals, ids=ids
        )
        self.clock: SandboxClock = own
        self.ids: Ids = ids
        self.id = sandbox_id
        self.created_at = self.store.clock.now()
        self.journal = Journal(
            limits.journal_entries, limits.journal_bytes, limits.journal_body_bytes, shared.budget
        )
        self.buckets: dict[str, tuple[float, float]] = {}  # the rate limit's, per key id
        self.replaces = replaces or {}  # token -> the fixtures' token it stands for
        self.extra_text = 0  # text of its own fixtures' tables, counted in the totals
        self.faults = Faults(shared.declared)  # armed by the control plane, fired by the request path
        # its webhook endpoints: payload times from its current store's clock, shuffles from its seed if any
        self.webhooks = SandboxWebhooks(shared.hub, lambda: self.store.clock.now(), lambda: self.seed, ids)

    @property
    def keys(self) -> list[ApiKey]:
        return self.store.keys

    def reset(self) -> Any:
        """A fresh store from the same fixtures, an empty journal, the clock back on real time and the ids
        starting over from the seed: as new."""
        self.clock.reset()
        self.ids.restart()
        freeing = super().reset()
        self.journal.restart()
        self.buckets.clear()
        self.faults.clear()
        return freeing


class Sandboxes:
    """Every sandbox of the mock, by id and by token digest."""

    def __init__(self, settings: MockSettings, contract: Spec) -> None:
        """Every sandbox of a mock run with `settings`; the default one is built at once from the fixtures.
        `settings.public_url`, when given, is where the dashboard is, and so each sandbox's `dashboard_url`
        and its incidents' permalinks."""
        fixtures, limits, seed = settings.fixtures, settings.limits, settings.seed
        self.settings, self.contract = settings, contract
        self.schema_of = schema_of(
            contract
        )  # this contract's fixtures tables (SCHEMA_OF: the packaged one's)
        self.dashboard_url = f"{settings.public_url.rstrip('/')}/dashboard" if settings.public_url else None
        self.shared = Shared(
            settings,
            Rules.from_spec(contract),
            Totals(),
            JournalBudget(limits.journal_total_bytes),
            Hub(contract, settings.webhooks),  # delivers every sandbox's webhooks
            declared_errors(contract),  # what a fault of each operation may answer
        )
        self.rules, self.hub, self.totals, self.budget = (
            self.shared.rules,
            self.shared.hub,
            self.shared.totals,
            self.shared.budget,
        )
        self.limits, self.clock, self.seed = limits, settings.clock, seed
        self.template = read_fixtures(fixtures)  # parsed once: what new sandboxes are built from
        self.default = self._sandbox(DEFAULT_ID, fixtures, seed=seed)
        # the mock's own ids: sandbox ids, tokens and drawn seeds; and apart, so that polling the health
        # of a seeded mock changes none of those, the request ids of requests no sandbox claims
        self.ids = Ids(None if seed is None else app_seed(seed), self.default.clock)
        self.request_ids = Ids(None if seed is None else app_seed(seed, "requests"), self.default.clock)
        self.by_id: dict[str, SandboxState] = {DEFAULT_ID: self.default}
        self.by_digest: dict[bytes, tuple[SandboxState, ApiKey, bytes]] = {}
        self._index(self.default)
        self.validators: dict[str, Draft4Validator] = {}
        # requests no sandbox can claim (no key, an unknown key); its entries' time is the default's clock
        self.unattributed = Journal(
            limits.journal_entries, limits.journal_bytes, limits.journal_body_bytes, self.budget
        )

    def __len__(self) -> int:
        return len(self.by_id)

    def __iter__(self) -> Iterator[SandboxState]:
        return iter(list(self.by_id.values()))

    def _sandbox(
        self,
        sandbox_id: str,
        fixtures: Path | Json,
        replaces: dict[str, str] | None = None,
        *,
        seed: int | None = None,
        clock: SandboxClock | None = None,
    ) -> SandboxState:
        dashboard = self.dashboard_url  # the default's: /dashboard; any other's: its own page below it
        if sandbox_id != DEFAULT_ID:
            base = dashboard or self.template["organisation"]["dashboard_url"]
            dashboard = f"{base.rstrip('/')}/sandboxes/{sandbox_id}"
        return SandboxState(
            sandbox_id, fixtures, self.shared, dashboard, clock=clock, replaces=replaces, seed=seed
        )

    # --- finding a token's sandbox -----------------------------------------------------------------
    def lookup(self, token: str) -> tuple[SandboxState, ApiKey] | None:
        """The sandbox and key of a token: one lookup by digest, then a constant-time compare."""
        digest = token_digest(token)
        hit = self.by_digest.get(digest)
        if hit is None or not compare_digest(hit[2], digest):
            return None
        return hit[0], hit[1]

    def _index(self, sandbox: SandboxState) -> None:
        for key in sandbox.keys:
            digest = token_digest(key.token)
            self.by_digest[digest] = (sandbox, key, digest)

    def _unindex(self, sandbox: SandboxState) -> None:
        for key in sandbox.keys:
            self.by_digest.pop(token_digest(key.token), None)

    # --- the control plane's operations ------------------------------------------------------------
    def get(self, sandbox_id: str) -> SandboxState:
        found = self.by_id.get(sandbox_id)
        if found is None:
            shown = sandbox_id if len(sandbox_id) <= 100 else sandbox_id[:100] + "..."
            raise NotFound(NO_SANDBOX.format(id=shown))
        return found

    def create(
        self, custom: Json | None = None, *, seed: int | None = None, frozen_at: dt.datetime | None = None
    ) -> SandboxState:
        """A new sandbox from the default fixtures, or from `custom` tables replacing them (its incidents are
        then only those `custom` holds); its ids seeded by `seed` (under a seeded mock, a seed drawn from the
        mock's), its clock frozen at `frozen_at` when given (ValueError outside the clock's range).
        Its id's time is its clock's."""
        if len(self.by_id) >= self.limits.max_sandboxes:
            raise capacity_reached("sandboxes", "max_sandboxes", self.limits.max_sandboxes)
        base = self.template if custom is None else self._merged(custom)
        extra = (
            text_bytes(*(custom[t] for t in (*self.schema_of, "organisation") if t in custom))
            if custom is not None
            else 0
        )
        if extra and self.totals.text + extra > self.limits.max_text_bytes:
            raise capacity_reached(
                "bytes of text", "max_text_bytes", self.limits.max_text_bytes, option="--max-text-mib"
            )
        handles = [k.get("token") or k["id"] for k in base["api_keys"]]
        clock = SandboxClock(self.clock, frozen_at)
        fresh = {handle: TOKEN_PREFIX + self.ids.token(24) for handle in handles}
        if seed is None and self.seed is not None:
            seed = self.ids.draw()
        seeds = base.get("incidents", []) if custom is None or "incidents" in custom else []
        if custom is not None:
            _check_keys([k["id"] for k in base["api_keys"]], handles, seeds)
        fixtures = {
            **base,
            "api_keys": [{**k, "token": fresh[h]} for k, h in zip(base["api_keys"], handles, strict=True)],
            "incidents": [{**seed, "created_by": fresh[seed["created_by"]]} for seed in seeds],
        }
        replaces = {token: handle for handle, token in fresh.items()}
        try:
            sandbox_id = f"sbx_{self.ids.ulid(clock).lower()}"
            sandbox = self._sandbox(sandbox_id, fixtures, replaces, seed=seed, clock=clock)
        except ValidationFailed as exc:
            if exc.code == "capacity_reached":  # its seed incidents would pass a cap
                raise
            raise ValidationFailed.invalid("fixtures", BAD_FIXTURES.format(detail=exc)) from None
        except (KeyError, TypeError, ValueError, StopIteration, AttributeError, IndexError) as exc:
            detail = f"{type(exc).__name__}: {exc}"[:300]
            raise ValidationFailed.invalid("fixtures", BAD_FIXTURES.format(detail=detail)) from None
        sandbox.extra_text = extra
        self.totals.text += extra
        self.by_id[sandbox.id] = sandbox
        self._index(sandbox)
        return sandbox

    def reset(self, sandbox_id: str) -> SandboxState:
        sandbox = self.get(sandbox_id)
        self._unindex(sandbox)
        try:
            sandbox.reset()
        finally:
            self._index(sandbox)
        return sandbox

    def delete(self, sandbox_id: str) -> None:
        """Delete a sandbox and free what it held; its tokens stop working at once."""
        sandbox = self.get(sandbox_id)
        if sandbox is self.default:
            raise ValidationFailed(NO_DEFAULT_DELETE, code="default_sandbox", field="sandbox_id")
        del self.by_id[sandbox_id]
        sandbox.deleted = True
        self._unindex(sandbox)
        sandbox.journal.clear()
        sandbox.webhooks.close()
        self.totals.text -= sandbox.extra_text
        discard(sandbox.store)

    # --- custom fixtures ---------------------------------------------------------------------------
    def _merged(self, custom: Json) -> Json:
        """The default fixtures with `custom`'s tables, after checking each object against the contract."""
        roles = set(self.contract["x-api-key-roles"])
        for i, key in enumerate(custom.get("api_keys", [])):
            unknown = [r for r in key["roles"] if r not in roles]
            if unknown:
                raise ValidationFailed.invalid(
                    "roles",
                    f"not a role of x-api-key-roles: {unknown[0][:50]!r}",
                    f"/fixtures/api_keys/{i}/roles",
                )
        for table, schema in (*self.schema_of.items(), ("incidents", "IncidentsCreatePayloadV2")):
            for i, obj in enumerate(custom.get(table, [])):
                checked, where = (obj["payload"], f"{i}/payload") if table == "incidents" else (obj, str(i))
                for error in self._validator(schema).iter_errors(checked):
                    path = "".join(f"/{p}" for p in error.absolute_path)
                    detail = f"does not match {schema}: {error.message[:200]}"
                    raise ValidationFailed.invalid(table, detail, f"/fixtures/{table}/{where}{path}")
        merged = {**self.template, **custom}
        if "organisation" in custom:  # the fields it leaves out (dashboard_url) stay the default's
            merged["organisation"] = {**self.template["organisation"], **custom["organisation"]}
        return merged

    def _validator(self, schema: str) -> Draft4Validator:
        found = self.validators.get(schema)
        if found is None:
            found = self.validators[schema] = validator(self.contract, schema)
        return found


def _check_keys(ids: list[str], handles: list[str], seeds: list[Json]) -> None:
    if len(set(handles)) != len(handles) or len(set(ids)) != len(ids):
        raise ValidationFailed.invalid(
            "api_keys", "two keys have the same token (or id)", "/fixtures/api_keys"
        )
    for i, seed in enumerate(seeds):
        if seed["created_by"] not in handles:
            raise ValidationFailed.invalid(
                "created_by", "names no key of api_keys (by token)", f"/fixtures/incidents/{i}/created_by"
            )


def summary(sandbox: SandboxState, timestamp: Any) -> Json:
    return {
        "id": sandbox.id,
        "default": sandbox.id == DEFAULT_ID,
        "created_at": timestamp(sandbox.created_at),
        "incidents": len(sandbox.store.incidents),
        "journal_entries": len(sandbox.journal),
        "seed": sandbox.seed,
    }


def detail(sandbox: SandboxState, timestamp: Any, base_url: str) -> Json:
    keys = [
        {
            "id": k.id,
            "name": k.name,
            "roles": list(k.roles),
            "token": k.token,
            "replaces": sandbox.replaces.get(k.token, k.token),
        }
        for k in sandbox.keys
    ]
    return {**summary(sandbox, timestamp), "base_url": base_url, "keys": keys}
