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
against one `JournalBudget`, each shared fairly: every sandbox has an `Account` guaranteeing it a floor of
each budget (limits.Shares). The number of sandboxes is a global cap (`max_sandboxes`): deleting a sandbox
frees a slot.

With `sandbox_idle_timeout` (off by default), a sandbox nobody used for that long (real monotonic time,
not its clock) is reclaimed, oldest first, never the default one: when its token is next sent, and
whenever a sandbox is created or the sandboxes are listed. Its tokens then answer 401 `sandbox_expired`
(the last `EXPIRED_KEPT` reclaimed sandboxes' tokens are remembered, by digest), not `invalid_authorization`.

Each sandbox also has a control token (`control_token`, from a generator of its own, seeded from the mock's
seed when it has one, so a seeded mock stays reproducible byte for byte): it manages that
sandbox alone over the control plane (control_plane.Guard), so a suite that shares a mock needs no more
than a credential that creates sandboxes.

Each sandbox has its own clock (clock.SandboxClock over the mock's clock) and its own ids (ids.Ids, seeded
by the sandbox's `seed`, or random). The mock's own ids (sandbox ids, tokens, the seeds drawn for sandboxes
created without one under a seeded mock) and the request ids of requests no sandbox claims come from two
generators of `Sandboxes`, seeded from the mock's seed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from hmac import compare_digest
from pathlib import Path
from typing import Any

import yaml

from incident_contract.document import Spec, load_control_spec, load_spec
from incident_contract.facts import declared_errors
from incident_contract.resources import schema_of
from incident_mock.domain import errors
from incident_mock.domain.clock import Clock, SandboxClock, SystemClock
from incident_mock.domain.errors import CHALLENGE, NotFound, Unauthorized, ValidationFailed
from incident_mock.domain.ids import Ids, app_seed
from incident_mock.domain.limits import SANDBOX_CAP, Account, Totals, text_bytes
from incident_mock.domain.records import ApiKey
from incident_mock.domain.settings import MockSettings
from incident_mock.engine.catalog import published_categories
from incident_mock.engine.store import Rules, discard, read_fixtures
from incident_mock.kit.faults import Faults
from incident_mock.kit.fixtures_check import ROLE_RULE, FixturesCheck, FixturesInvalid
from incident_mock.kit.journal import Journal, JournalBudget
from incident_mock.kit.webhooks import Hub, SandboxWebhooks
from incident_mock.resources.organisation import StoreHolder

__all__ = ["DEFAULT_ID", "SandboxState", "Sandboxes", "detail", "expired", "summary", "token_digest"]

Json = dict[str, Any]
DEFAULT_ID = "default"
TOKEN_PREFIX = "sbx_"
CONTROL_PREFIX = "sbc_"
EXPIRED_KEPT = 10_000  # digests of reclaimed sandboxes' tokens remembered, to answer `sandbox_expired`
# fixtures table -> the contract schema each of its objects must match: from the declarations (x-resources)
SCHEMA_OF = schema_of(load_spec())
NO_DEFAULT_DELETE = "The default sandbox cannot be deleted; reset it with POST /_mock/reset"
NO_SANDBOX = "No sandbox with id {id!r}"
BAD_FIXTURES = "The fixtures do not hold together: {detail}"
EXPIRED = "Sandbox {id} went unused past the mock's idle timeout and was deleted: create a new one"


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
        control_token: str = "",
    ) -> None:
        own = clock if isinstance(clock, SandboxClock) else SandboxClock(clock or shared.settings.clock)
        limits = shared.settings.limits
        self.seed = seed  # the faults' probabilities are drawn from it too
        self.deleted = False  # a request still under way (a delay fault's) must not write into it
        ids = Ids(seed, own)
        self.account: Account = shared.totals.account(sandbox_id)  # its floors; 422 when none is left
        try:
            super().__init__(
                fixtures, shared.rules, dashboard_url, limits=limits, clock=own, totals=self.account, ids=ids
            )
        except BaseException:
            self.account.close()
            raise
        self.control_token = control_token  # manages this sandbox alone over the control plane
        self.used_at = time.monotonic()  # its last request, API or control plane: what idleness counts from
        self.clock: SandboxClock = own
        self.ids: Ids = ids
        self.id = sandbox_id
        self.created_at = self.store.clock.now()
        self.journal = Journal(
            limits.journal_entries, limits.journal_bytes, limits.journal_body_bytes, shared.budget
        )
        self.extra_text = 0  # text of its own fixtures' tables, counted in its account
        self.buckets: dict[str, tuple[float, float]] = {}  # the rate limit's, per key id
        self.replaces = replaces or {}  # token -> the fixtures' token it stands for
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
            Totals(limits),
            JournalBudget(limits.journal_total_bytes, limits.max_sandboxes),
            Hub(contract, settings.webhooks, limits.max_sandboxes),  # delivers every sandbox's webhooks
            declared_errors(contract),  # what a fault of each operation may answer
        )
        self.rules, self.hub, self.totals, self.budget = (
            self.shared.rules,
            self.shared.hub,
            self.shared.totals,
            self.shared.budget,
        )
        self.limits, self.clock, self.seed = limits, settings.clock, seed
        # control tokens: a stream of their own, so that they change none of the mock's other seeded ids
        self.control_ids = Ids(None if seed is None else app_seed(seed, "control"), SystemClock())
        self.fixtures_check = FixturesCheck(contract, load_control_spec(), self.schema_of)
        # parsed and checked once: what new sandboxes are built from (FixturesInvalid names the problem)
        try:
            document = read_fixtures(fixtures)
        except yaml.YAMLError as exc:
            problem = " ".join(str(exc).split())[:300]
            raise FixturesInvalid("", f"not YAML: {problem}", "yaml") from None
        self.template = self.fixtures_check.check(self._published(document), complete=True)
        self.default = self._sandbox(DEFAULT_ID, fixtures, seed=seed)
        # the mock's own ids: sandbox ids, tokens and drawn seeds; and apart, so that polling the health
        # of a seeded mock changes none of those, the request ids of requests no sandbox claims
        self.ids = Ids(None if seed is None else app_seed(seed), self.default.clock)
        self.request_ids = Ids(None if seed is None else app_seed(seed, "requests"), self.default.clock)
        self.by_id: dict[str, SandboxState] = {DEFAULT_ID: self.default}
        self.by_digest: dict[bytes, tuple[SandboxState, ApiKey, bytes]] = {}
        self.by_control: dict[bytes, SandboxState] = {}  # control tokens, by digest
        self.idle_timeout = settings.sandbox_idle_timeout
        self.expired: OrderedDict[bytes, str] = OrderedDict()  # reclaimed sandboxes' token digests -> id
        self._index(self.default)
        # requests no sandbox can claim (no key, an unknown key); its entries' time is the default's clock.
        # Anyone can write to it, so it has no floor: it only borrows what the sandboxes' journals leave.
        self.unattributed = Journal(
            limits.journal_entries, limits.journal_bytes, limits.journal_body_bytes, self.budget, floor=0
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
        control = CONTROL_PREFIX + self.control_ids.token(24)
        return SandboxState(
            sandbox_id,
            fixtures,
            self.shared,
            dashboard,
            clock=clock,
            replaces=replaces,
            seed=seed,
            control_token=control,
        )

    # --- finding a token's sandbox -----------------------------------------------------------------
    def lookup(self, token: str) -> tuple[SandboxState, ApiKey] | None:
        """The sandbox and key of a token: one lookup by digest, then a constant-time compare."""
        digest = token_digest(token)
        hit = self.by_digest.get(digest)
        if hit is None or not compare_digest(hit[2], digest):
            return None
        if self._lapsed(hit[0]):
            return None
        key = hit[0].store.held(token)  # deleted, or rotated out past its grace period: None
        return None if key is None else (hit[0], key)

    def expired_token(self, token: str) -> str | None:
        """The id of the reclaimed sandbox a token belonged to (an idle one), or None."""
        return self.expired.get(token_digest(token))

    def _lapsed(self, sandbox: SandboxState) -> bool:
        """Touch a sandbox that is used; reclaim it instead if it was idle past the timeout."""
        now = time.monotonic()
        timeout = self.idle_timeout
        if timeout is not None and sandbox is not self.default and now - sandbox.used_at >= timeout:
            self._reclaim(sandbox)
            return True
        sandbox.used_at = now
        return False

    def reclaim_idle(self) -> list[str]:
        """Reclaim every sandbox idle past the timeout, the longest idle first; their ids."""
        if self.idle_timeout is None:
            return []
        limit = time.monotonic() - self.idle_timeout
        idle = sorted(
            (s for s in self.by_id.values() if s is not self.default and s.used_at <= limit),
            key=lambda s: s.used_at,
        )
        for sandbox in idle:
            self._reclaim(sandbox)
        return [s.id for s in idle]

    def _reclaim(self, sandbox: SandboxState) -> None:
        for token in (*(k.token for k in sandbox.keys), sandbox.control_token):
            self.expired[token_digest(token)] = sandbox.id
        while len(self.expired) > EXPIRED_KEPT:
            self.expired.popitem(last=False)
        self._remove(sandbox)

    def controlled(self, token: str) -> SandboxState | None:
        """The sandbox a control token manages, or None: one lookup by digest, a constant-time compare."""
        digest = token_digest(token)
        found = self.by_control.get(digest)
        if found is None or not compare_digest(token_digest(found.control_token), digest):
            return None
        if self._lapsed(found):
            return None
        return found

    def _index(self, sandbox: SandboxState) -> None:
        self._rekey(sandbox, (), sandbox.keys)
        self.by_control[token_digest(sandbox.control_token)] = sandbox
        # keys created, rotated or deleted through the API (API Keys V1) change the index at once
        sandbox.key_listener = functools.partial(self._rekey, sandbox)

    def _unindex(self, sandbox: SandboxState) -> None:
        sandbox.key_listener = None
        self._rekey(sandbox, sandbox.keys, ())
        self.by_control.pop(token_digest(sandbox.control_token), None)

    def _rekey(self, sandbox: SandboxState, removed: Iterable[ApiKey], added: Iterable[ApiKey]) -> None:
        for key in removed:
            digest = token_digest(key.token)
            hit = self.by_digest.get(digest)
            if hit is not None and hit[0] is sandbox:
                del self.by_digest[digest]
        for key in added:
            digest = token_digest(key.token)
            self.by_digest[digest] = (sandbox, key, digest)

    # --- the control plane's operations ------------------------------------------------------------
    def get(self, sandbox_id: str) -> SandboxState:
        found = self.by_id.get(sandbox_id)
        if found is None or self._lapsed(found):
            shown = errors.shortened(sandbox_id)
            raise NotFound(NO_SANDBOX.format(id=shown))
        return found

    def create(
        self, custom: Json | None = None, *, seed: int | None = None, frozen_at: dt.datetime | None = None
    ) -> SandboxState:
        """A new sandbox from the default fixtures, or from `custom` tables replacing them (its incidents are
        then only those `custom` holds); its ids seeded by `seed` (under a seeded mock, a seed drawn from the
        mock's), its clock frozen at `frozen_at` when given (ValueError outside the clock's range).
        Its id's time is its clock's."""
        self.reclaim_idle()
        if len(self.by_id) >= self.limits.max_sandboxes:  # a global cap: no identity tells suites apart
            raise ValidationFailed(
                SANDBOX_CAP.format(limit=self.limits.max_sandboxes), code="capacity_reached"
            )
        base = self.template if custom is None else self._merged(custom)
        extra = (
            text_bytes(*(custom[t] for t in (*self.schema_of, "organisation") if t in custom))
            if custom is not None
            else 0
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
        if extra:  # its own fixtures' tables: within its share of the text budget, or refused
            try:
                sandbox.account.admit_text(extra)
            except ValidationFailed:
                self._dispose(sandbox)
                raise
            sandbox.account.add_text(extra)
            sandbox.extra_text = extra
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
        self._remove(sandbox)

    def _remove(self, sandbox: SandboxState) -> None:
        del self.by_id[sandbox.id]
        self._unindex(sandbox)
        self._dispose(sandbox)

    @staticmethod
    def _dispose(sandbox: SandboxState) -> None:
        """Free what a sandbox holds: its store, journal, webhooks, and its shares of every budget."""
        sandbox.deleted = True
        sandbox.journal.close()
        sandbox.webhooks.close()
        discard(sandbox.store)
        sandbox.account.close()

    # --- custom fixtures ---------------------------------------------------------------------------
    def _merged(self, custom: Json) -> Json:
        """The default fixtures with `custom`'s tables, after checking each object against the contract."""
        custom = self._published(custom)
        try:
            self.fixtures_check.check(custom, complete=False)
        except FixturesInvalid as exc:
            field = exc.pointer.split("/")[1] if exc.pointer else "fixtures"  # the table, or the roles
            field = "roles" if exc.rule == ROLE_RULE else field
            detail = f"{exc.message} ({exc.rule})"
            raise ValidationFailed.invalid(field, detail, f"/fixtures{exc.pointer}") from None
        merged = {**self.template, **custom}
        if "organisation" in custom:  # the fields it leaves out (dashboard_url) stay the default's
            merged["organisation"] = {**self.template["organisation"], **custom["organisation"]}
        return merged

    def _published(self, document: Any) -> Any:
        """The document with each status category written by its alias given its published name."""
        if isinstance(document, dict) and isinstance(document.get("incident_statuses"), list):
            statuses = published_categories(document["incident_statuses"], self.rules.category_aliases)
            return {**document, "incident_statuses": statuses}
        return document


def expired(sandbox_id: str) -> Unauthorized:
    """The 401 for a token of a sandbox reclaimed for idleness (`sandbox_idle_timeout`)."""
    return Unauthorized(EXPIRED.format(id=sandbox_id), code="sandbox_expired", headers=CHALLENGE)


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
    shown = {**summary(sandbox, timestamp), "base_url": base_url, "keys": keys}
    return {**shown, "control_token": sandbox.control_token}
