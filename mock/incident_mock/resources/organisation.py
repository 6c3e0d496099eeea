"""The organisation a sandbox holds: the engine's store with the behaviour modules plugged in, and what
serves the contract's operations.

`Store` is the engine's `ResourceStore` extended by the settings' rules (settings_rules.py) and the incidents'
behaviour (incidents/storage.py);
`BEHAVIOURS` names each behaviour module's `OPERATIONS`; `served` answers operationId -> handler for a
contract, the declared resources served by the engine (engine/serving.py) and the rest by the behaviour
modules, refusing a contract they do not cover exactly. `StoreHolder` keeps one sandbox's current store.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from incident_contract.document import load_spec, spec_path
from incident_mock.domain.clock import Clock
from incident_mock.domain.ids import Ids
from incident_mock.domain.limits import DEFAULTS, Account, Limits
from incident_mock.domain.records import ApiKey
from incident_mock.domain.settings import DEFAULT_FIXTURES
from incident_mock.engine.serving import Handler, serve
from incident_mock.engine.store import KeysChanged, Rules, discard, read_fixtures
from incident_mock.resources import (
    actions,
    attachments,
    automation,
    follow_ups,
    identity,
    memberships,
    oncall,
    people,
)
from incident_mock.resources.alerts import alert_operations as alerts
from incident_mock.resources.incidents import operations as incidents
from incident_mock.resources.incidents.storage import IncidentStore
from incident_mock.resources.service_catalog import handlers as catalog
from incident_mock.resources.settings_rules import SettingsStore

__all__ = [
    "ANNOUNCED",
    "BEHAVIOURS",
    "DEFAULT_FIXTURES",
    "HANDLERS",
    "Rules",
    "Store",
    "StoreHolder",
    "served",
]

Json = dict[str, Any]


class Store(SettingsStore, IncidentStore):
    """The engine's store with the settings' rules (settings_rules.py) and incidents (incidents/storage.py)"""


# behaviour module -> the operations it serves (the name a declaration's `behaviour` gives)
BEHAVIOURS: Mapping[str, Mapping[str, Handler]] = {
    "catalog": catalog.OPERATIONS,
    "identity": identity.OPERATIONS,
    "automation": automation.OPERATIONS,
    "incidents": incidents.OPERATIONS,
    "people": people.OPERATIONS,
    "api_keys": people.API_KEYS,
    "follow_ups": follow_ups.OPERATIONS,
    "actions": actions.OPERATIONS,
    "attachments": attachments.OPERATIONS,
    "memberships": memberships.OPERATIONS,
    "alerts": alerts.OPERATIONS,
    "oncall": oncall.OPERATIONS,
}
# the events behaviour modules announce themselves (x-webhooks), besides the incidents' own
ANNOUNCED: frozenset[str] = follow_ups.EVENTS | actions.EVENTS | memberships.EVENTS


def served(spec_file: Path | None = None) -> dict[str, Handler]:
    """operationId -> handler for the contract at `spec_file` (the packaged one when None); the same
    handlers for the same file, so every app of one contract shares them."""
    return _served(str((spec_file or spec_path()).resolve()))


@functools.cache
def _served(spec_file: str) -> dict[str, Handler]:
    return serve(load_spec(Path(spec_file)), BEHAVIOURS)


HANDLERS = served()


class StoreHolder:
    """The current store of one sandbox; `reset()` swaps in a fresh one built from its fixtures.

    The fixtures are a file (the default sandbox: read again on every reset, so an edited file takes effect)
    or a parsed document shared with other sandboxes and never changed. `dashboard_url`, when given,
    replaces the fixtures': it comes from the address the mock really serves (or `--public-url`), and the
    identity's `dashboard_url` and every incident's `permalink` derive from it. Every store it builds gets
    the same `limits`, `clock`, `totals` and `ids`. A reset gives the old store's counts back to the totals at
    once and frees it in a thread, a slice at a time, so the reset of a big store does not freeze other
    clients.
    """

    def __init__(
        self,
        fixtures: Path | Json,
        rules: Rules,
        dashboard_url: str | None = None,
        *,
        limits: Limits = DEFAULTS,
        clock: Clock | None = None,
        totals: Account | None = None,
        ids: Ids | None = None,
    ) -> None:
        self.fixtures, self.rules, self.dashboard_url = fixtures, rules, dashboard_url
        self.limits, self.clock, self.totals, self.ids = limits, clock, totals or Account.alone(limits), ids
        self.key_listener: KeysChanged | None = None  # hears of the keys every store it builds changes
        self.store = self.build()

    def build(self) -> Store:
        if isinstance(self.fixtures, Path):
            data = read_fixtures(self.fixtures)
        else:  # shared: copy what the store could change (seed payloads) and what is set below
            data = {**self.fixtures, "organisation": dict(self.fixtures["organisation"])}
            data["incidents"] = copy.deepcopy(self.fixtures.get("incidents", []))
        if self.dashboard_url is not None:
            data["organisation"]["dashboard_url"] = self.dashboard_url
        store = Store(
            data, self.rules, limits=self.limits, clock=self.clock, totals=self.totals, ids=self.ids
        )
        store.on_keys = self._keys_changed
        return store

    def _keys_changed(self, removed: Sequence[ApiKey], added: Sequence[ApiKey]) -> None:
        if self.key_listener is not None:
            self.key_listener(removed, added)

    def reset(self) -> threading.Thread:
        """Swap in a fresh store; returns the thread that frees the old one (tests join it)."""
        old = self.store
        old.release()  # first: the fresh store's fixtures may need the share the old one counted
        self.store = self.build()
        return discard(old)
