"""Remembered idempotency keys: scoped per API key, kept for the contract's window, a digest per payload.

The contract (openapi.yaml, `Incidents V2#Create`): an idempotency key belongs to the API key that sent
it, so the same `idempotency_key` from another API key is a different create (a replay never hands one
key another key's incident, nor tells it that another key used the idempotency key); it is remembered
for `x-idempotency-window-seconds` after its create, on the store's clock, then forgotten.

What is kept per key is a SHA-256 of the canonical payload, never the payload: a create just under the
body limit must not cost its size a second time. Entries are kept in creation order, so forgetting is
popping from the front; the number of entries is bounded by the store's incident cap (one per stored
incident created within the window).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import OrderedDict
from typing import Any, NamedTuple

__all__ = ["IdempotencyKeys", "Remembered", "digest"]


def digest(payload: dict[str, Any]) -> bytes:
    """Equal for payloads equal as JSON, whatever their key order."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).digest()


class Remembered(NamedTuple):
    """What a create left behind. Stored as a plain tuple of atoms, which the garbage collector stops
    tracking (it keeps tracking a NamedTuple): a full store holds one per incident, and every object the
    collector tracks lengthens its full collections, which stall every client."""

    digest: bytes
    incident_id: str
    at: dt.datetime


class IdempotencyKeys:
    def __init__(self, window: dt.timedelta) -> None:
        self.window = window
        # (API key id, idempotency key) -> (digest, incident id, at), oldest first
        self.entries: OrderedDict[tuple[str, str], tuple[bytes, str, dt.datetime]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.entries)

    def recall(self, key_id: str, idempotency_key: str, moment: dt.datetime) -> Remembered | None:
        """What this API key's create with this idempotency key made, while the window holds it."""
        self.forget_expired(moment)
        found = self.entries.get((key_id, idempotency_key))
        if found is None or moment - found[2] >= self.window:  # past its window, even if not dropped yet
            return None
        return Remembered._make(found)

    def remember(self, key_id: str, idempotency_key: str, remembered: Remembered) -> None:
        self.entries.pop((key_id, idempotency_key), None)  # a key used again goes to the back, in time order
        self.entries[(key_id, idempotency_key)] = (remembered.digest, remembered.incident_id, remembered.at)

    def forget_expired(self, moment: dt.datetime, most: int = 1_000) -> int:
        """Drop entries whose window has passed, oldest first, at most `most` of them (a day after a full
        store, one create must not pay for forgetting all of it); returns how many."""
        dropped = 0
        entries = self.entries
        while entries and dropped < most:
            first = next(iter(entries.values()))
            if moment - first[2] < self.window:
                break
            entries.popitem(last=False)
            dropped += 1
        return dropped
