"""limits.py, clock.py, idempotency.py and the store's caps, with no HTTP: what one store may hold and for
how long (openapi.yaml, "Limits" and the incident create operation's `x-idempotency-window-seconds`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from incident_contract.facts import idempotency_window_seconds
from incident_mock.app import DEFAULT_FIXTURES
from incident_mock.cli import main
from incident_mock.domain.clock import ManualClock, SystemClock
from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.limits import DEFAULTS, Limits
from incident_mock.domain.records import IncidentRecord, now
from incident_mock.engine.catalog import Catalog
from incident_mock.resources.incidents.idempotency import IdempotencyKeys, Remembered, digest
from incident_mock.resources.incidents.render_cache import RenderCache
from incident_mock.resources.organisation import Rules, Store, StoreHolder
from tests.mock.seed import INVESTIGATING, MAJOR

DAY = 24 * 3600


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))


def store_with(fixtures: dict[str, Any], rules: Rules, clock: ManualClock, **limits: int) -> Store:
    return Store(fixtures, rules, clock=clock, limits=Limits(**limits))


def payload(key: str, **extra: Any) -> dict[str, Any]:
    return {"idempotency_key": key, "severity_id": MAJOR, "visibility": "public", **extra}


def test_the_window_is_the_contracts(spec: dict[str, Any], rules: Rules) -> None:
    assert idempotency_window_seconds(spec) == DAY
    assert rules.idempotency_window == dt.timedelta(days=1)


def test_defaults() -> None:
    assert (DEFAULTS.max_incidents, DEFAULTS.max_severities) == (100_000, 1_000)
    assert DEFAULTS.render_cache_bytes == 32 * 1024 * 1024
    assert DEFAULTS.max_text_bytes == 256 * 1024 * 1024
    with pytest.raises(ValueError, match="max_incidents"):
        Limits(max_incidents=0)


def test_the_caps_are_options_of_incident_mock_with_their_defaults() -> None:
    shown = " ".join(CliRunner().invoke(main, ["--help"], terminal_width=200).output.split())
    for option, default in (
        ("--max-incidents", 100_000),
        ("--max-severities", 1_000),
        ("--max-text-mib", 256),
        ("--render-cache-mib", 32),
    ):
        assert option in shown and f"default: {default}" in shown, option


# --- the clock -------------------------------------------------------------------------------------


def test_a_manual_clock_moves_only_when_told(clock: ManualClock) -> None:
    start = clock.now()
    assert clock.now() == start
    assert clock.advance(90) == start + dt.timedelta(seconds=90) == clock.now()
    with pytest.raises(ValueError, match="timezone"):
        clock.set(dt.datetime(2026, 1, 1))
    assert SystemClock().now().tzinfo is dt.UTC


def test_the_store_stamps_incidents_and_severities_with_its_clock(
    fixtures: dict[str, Any], rules: Rules, clock: ManualClock
) -> None:
    store = store_with(fixtures, rules, clock)
    record, _ = store.create_incident(payload("stamped"), store.keys[0])
    assert record.created_at == clock.now()
    clock.advance(60)
    edited = store.edit_incident(record.id, {"incident": {"name": "later"}}, private_ok=True)
    assert edited.updated_at == clock.now() != edited.created_at
    saved = store.save_severity({"name": "Clocked", "description": "d"})
    assert saved["created_at"].startswith("2026-03-01T12:01:00")


# --- idempotency: per API key, for 24 hours, a digest ----------------------------------------------


def test_a_key_is_remembered_for_the_window_then_forgotten(
    fixtures: dict[str, Any], rules: Rules, clock: ManualClock
) -> None:
    store = store_with(fixtures, rules, clock)
    key = store.keys[0]
    first, _ = store.create_incident(payload("daily"), key)
    clock.advance(DAY - 1)
    again, replayed = store.create_incident(payload("daily"), key)
    assert replayed and again is first
    with pytest.raises(ValidationFailed) as reused:
        store.create_incident(payload("daily", name="other"), key)
    assert reused.value.code == "idempotency_key_reused"
    clock.advance(1)
    later, replayed = store.create_incident(payload("daily", name="other"), key)
    assert not replayed and later.id != first.id
    assert store.by_id[first.id] is first  # forgetting the key forgets no incident


def test_keys_are_scoped_to_the_api_key(fixtures: dict[str, Any], rules: Rules, clock: ManualClock) -> None:
    store = store_with(fixtures, rules, clock)
    full, creator = store.key_for("mock-key-full"), store.key_for("mock-key-creator")
    assert full is not None and creator is not None
    mine, _ = store.create_incident(payload("same", visibility="private"), full)
    theirs, replayed = store.create_incident(payload("same", visibility="private"), creator)
    assert not replayed and theirs.id != mine.id
    with pytest.raises(ValidationFailed) as bad:  # what an unused key would get: no sign of the other's
        store.create_incident(payload("same", severity_id="nope"), store.keys[2])
    assert bad.value.code == "invalid_value"


def test_only_a_digest_of_the_payload_is_kept(
    fixtures: dict[str, Any], rules: Rules, clock: ManualClock
) -> None:
    store = store_with(fixtures, rules, clock)
    big = payload("big", summary="s" * 100_000)
    store.create_incident(big, store.keys[0])
    kept = store.idempotency.recall(store.keys[0].id, "big", clock.now())
    assert kept is not None
    assert kept.digest == digest(big) and len(kept.digest) == 32
    assert digest(json.loads(json.dumps(big, sort_keys=True))) == digest(dict(reversed(big.items())))


def test_forgetting_pops_from_the_front_and_stops_at_the_first_live_key() -> None:
    keys = IdempotencyKeys(dt.timedelta(hours=24))
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(5):
        keys.remember("k", f"i{n}", Remembered(b"d", f"inc{n}", start + dt.timedelta(hours=n)))
    assert keys.forget_expired(start + dt.timedelta(hours=26)) == 3
    assert [k for _, k in keys.entries] == ["i3", "i4"]
    assert keys.recall("k", "i4", start + dt.timedelta(hours=27)) is not None
    assert keys.recall("other", "i4", start) is None


def test_forgetting_is_bounded_per_call_and_a_stale_key_is_never_recalled() -> None:
    keys = IdempotencyKeys(dt.timedelta(hours=24))
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(2_500):
        keys.remember("k", f"i{n}", Remembered(b"d", f"inc{n}", start))
    later = start + dt.timedelta(days=2)
    assert keys.recall("k", "i2499", later) is None  # still held, but past its window
    assert len(keys) == 1_500  # that call forgot 1,000 of them
    assert keys.forget_expired(later, most=10**6) == 1_500


# --- caps ------------------------------------------------------------------------------------------


def test_the_incident_cap_refuses_new_creates_but_not_replays(
    fixtures: dict[str, Any], rules: Rules, clock: ManualClock
) -> None:
    store = store_with(fixtures, rules, clock, max_incidents=3)
    key = store.keys[0]
    store.create_incident(payload("a"), key)
    store.create_incident(payload("b"), key)
    with pytest.raises(ValidationFailed) as full:
        store.create_incident(payload("c"), key)
    assert full.value.code == "capacity_reached" and "max_incidents" in str(full.value)
    assert "--max-incidents" in str(full.value)
    assert len(store.incidents) == 3 and len(store.idempotency) == 3
    assert store.create_incident(payload("a"), key)[1]  # a replay still answers


def test_remembered_keys_never_outnumber_incidents(
    fixtures: dict[str, Any], rules: Rules, clock: ManualClock
) -> None:
    store = store_with(fixtures, rules, clock, max_incidents=5)
    for n in range(20):
        with contextlib.suppress(ValidationFailed):
            store.create_incident(payload(f"k{n}"), store.keys[n % 3])
        clock.advance(3600 * 5)
    assert len(store.idempotency) <= len(store.incidents) == 5


def test_the_severity_cap(fixtures: dict[str, Any], rules: Rules, clock: ManualClock) -> None:
    store = store_with(fixtures, rules, clock, max_severities=4)
    store.save_severity({"name": "Fourth", "description": "d"})
    with pytest.raises(ValidationFailed) as full:
        store.save_severity({"name": "Fifth", "description": "d"})
    assert full.value.code == "capacity_reached" and "max_severities" in str(full.value)
    renamed = store.save_severity(
        {"name": "Still fourth", "description": "d"}, store.list_severities()[-1]["id"]
    )
    assert renamed["name"] == "Still fourth"  # updates are not creates


def test_the_text_budget_counts_what_python_holds_and_refuses_past_it(
    fixtures: dict[str, Any], rules: Rules, clock: ManualClock
) -> None:
    store = store_with(fixtures, rules, clock, max_text_bytes=150_000)
    start = store.text
    key = store.keys[0]
    record, _ = store.create_incident(payload("t1", summary="a" * 40_000), key)
    assert store.text - start >= 40_000
    wide = "a" * 20_000 + "\U0001f525"  # one astral character: the whole string takes 4 bytes a character
    with pytest.raises(ValidationFailed) as full:
        store.create_incident(payload("t2", summary=wide * 2), key)
    assert full.value.code == "capacity_reached" and "--max-text-mib" in str(full.value)
    assert len(store.incidents) == 2 and "t2" not in {k for _, k in store.idempotency.entries}
    with pytest.raises(ValidationFailed):
        store.edit_incident(record.id, {"incident": {"summary": wide * 2}}, private_ok=True)
    assert store.by_id[record.id].summary == "a" * 40_000
    held = store.text
    store.edit_incident(record.id, {"incident": {"summary": "short"}}, private_ok=True)
    assert store.text < held - 39_000  # an edit that shrinks gives the bytes back
    with pytest.raises(ValidationFailed):
        store.save_severity({"name": "Verbose", "description": wide * 3})
    saved = store.save_severity({"name": "Verbose", "description": "d" * 50_000})
    before = store.text
    store.delete_severity(saved["id"])
    assert store.text < before - 49_000


def record(n: int, summary: str = "") -> IncidentRecord:
    moment = now()
    return IncidentRecord(
        f"01REC{n}", n, n - 1, f"r{n}", "public", "standard", INVESTIGATING, MAJOR, "t", {}, moment, moment,
        summary=summary,
    )  # fmt: skip


def test_the_render_cache_is_bounded_by_bytes() -> None:
    catalog = Catalog.from_fixtures(yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8")))
    cache = RenderCache(lambda _c, rec: {"summary": rec.summary}, max_bytes=64 * 1024)
    for n in range(100):
        cache.encoded(record(n, "x" * 900), catalog)
    assert cache.bytes <= 64 * 1024 and 0 < len(cache) < 100
    assert cache.bytes == sum(len(e[2]) for e in cache.entries.values())
    assert "01REC99" in cache.entries and "01REC0" not in cache.entries  # the oldest went first
    huge = record(1000, "y" * 2000)  # over 1/64 of the budget: rendered, never kept
    assert b"yyyy" in cache.encoded(huge, catalog) and "01REC1000" not in cache.entries


def test_a_reset_frees_the_old_store_in_a_thread_slice_by_slice(
    fixtures: dict[str, Any], rules: Rules
) -> None:
    holder = StoreHolder(DEFAULT_FIXTURES, rules)
    old = holder.store
    for n in range(5_000):
        old.create_incident(payload(f"r{n}"), old.keys[0])
    freeing = holder.reset()
    assert holder.store is not old and len(holder.store.incidents) == 1
    freeing.join(timeout=60)
    assert not freeing.is_alive()
    assert (len(old.incidents), len(old.by_id), len(old.idempotency)) == (0, 0, 0)
