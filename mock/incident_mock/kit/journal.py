"""A sandbox's request journal: what its keys sent to the contract's API and what they were answered.

Framework-free: the journal stage (http/journaling.py) hands each finished request to `Journal.record`, and
the control plane lists (`select`) and clears it. An entry keeps the request and response bodies as the bytes
that crossed the wire, up to `body_limit` each; a longer body keeps its first `body_limit` bytes and, when
shown, ends in a marker saying how long it was. Bodies are parsed only when an entry is shown, so recording
costs a request almost nothing. Tokens are never recorded: an entry names the caller's key by its id, and
keeps no header at all.

Bounds: at most `max_entries` entries and `max_bytes` bytes per journal (the oldest go first, counted in
`dropped`), and every journal of the mock draws on one `JournalBudget`, shared fairly (limits.Shares): each
journal is guaranteed a floor of the total divided by the number of sandboxes the mock may hold, and may
borrow what the others leave free. When the total is full, a journal past its floor drops its own oldest
entries; one within its floor takes room back from the journal that borrows most (whose oldest entries
go, counted in its `dropped`); only then is the new entry recorded without bodies, or not at all. A
journal within its floor never loses an entry because of another.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from incident_mock.domain.limits import Holding, Shares

__all__ = ["MARKER", "Entry", "Journal", "JournalBudget", "shown"]

Json = dict[str, Any]
OVERHEAD = 512  # what an entry costs besides its strings and bodies, as Python holds it (about)
MARKER = "... [truncated: {size} bytes in all]"
OMITTED = "[omitted: the journals of all sandboxes are at their total size]"


class JournalBudget(Shares["Journal"]):
    """The bytes all journals hold together, against their total cap, shared fairly by `slots` journals
    (a sandbox's each; the journal of requests no sandbox claims only borrows)."""

    def __init__(self, limit: int, slots: int = 1) -> None:
        super().__init__(limit, slots)

    @property
    def limit(self) -> int:
        return self.total


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs twice as much, on every request
class Entry:
    sequence: int
    time: dt.datetime
    operation_id: str
    method: str
    path: str
    query: str
    status: int
    key_id: str
    request_id: str
    replayed: bool
    duration_ms: float
    request_body: bytes
    request_size: int  # the whole body's length; more than len(request_body) when truncated
    response_body: bytes
    response_size: int
    omitted: bool = False  # bodies left out for the total budget
    retry_after: str | None = None  # the Retry-After header of the answer, if any
    fault: dict[str, Any] | None = None  # the fault that fired on the request (faults.py), if any

    @property
    def weight(self) -> int:
        return OVERHEAD + len(self.path) + len(self.query) + len(self.request_body) + len(self.response_body)


class Journal:
    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        body_limit: int,
        budget: JournalBudget,
        *,
        floor: int | None = None,
    ) -> None:
        """A journal drawing on `budget`, with its floor (or `floor`: 0 for one that only borrows)."""
        self.max_entries, self.max_bytes, self.body_limit, self.budget = (
            max_entries,
            max_bytes,
            body_limit,
            budget,
        )
        self.share: Holding[Journal] = budget.join(self, floor)
        self.entries: deque[Entry] = deque()
        self.dropped = 0
        self.last_sequence = 0

    @property
    def bytes(self) -> int:
        return self.share.used

    def __len__(self) -> int:
        return len(self.entries)

    def record(
        self,
        time: dt.datetime,
        operation_id: str,
        method: str,
        path: str,
        query: str,
        status: int,
        key_id: str,
        request_id: str,
        replayed: bool,
        duration_ms: float,
        request_body: builtins.bytes,
        response_body: builtins.bytes,
        retry_after: str | None = None,
        fault: dict[str, Any] | None = None,
    ) -> Entry | None:
        """Add an entry; None if it had to be dropped. This runs on every request: the entry is built
        positionally (a third of the cost by keywords); a journal with room takes it after three
        comparisons, a full one first drops its oldest (the steady state of a busy sandbox)."""
        limit = self.body_limit
        self.last_sequence += 1
        request, response = request_body[:limit], response_body[:limit]  # the same object when not longer
        entry = Entry(
            self.last_sequence, time, operation_id, method, path, query, status, key_id, request_id,
            replayed, duration_ms, request, len(request_body), response, len(response_body), False,
            retry_after, fault,
        )  # fmt: skip
        weight = entry.weight
        budget, entries, share = self.budget, self.entries, self.share
        if len(entries) >= self.max_entries:
            self._drop_oldest()
        if (
            len(entries) >= self.max_entries
            or share.used + weight > self.max_bytes
            or budget.used + weight > budget.total
        ):
            fitted = self._make_room(entry, weight)
            if fitted is None:
                return None
            entry, weight = fitted, fitted.weight
        entries.append(entry)
        budget.add(share, weight)
        return entry

    def _make_room(self, entry: Entry, weight: int) -> Entry | None:
        """Make room for `entry`: its own bounds first (its oldest go), then the total's (its own oldest
        when past its floor, else the biggest borrower's); failing that, the entry without its bodies;
        None when even that does not fit."""
        budget, share = self.budget, self.share
        while self.entries and (
            len(self.entries) >= self.max_entries or share.used + weight > self.max_bytes
        ):
            self._drop_oldest()
        while not budget.fits(weight):
            if self.entries and share.used + weight > share.floor:
                self._drop_oldest()  # past its floor: its own oldest go first
                continue
            lender = budget.borrower(share) if share.used + weight <= share.floor else None
            if lender is None:
                if not self.entries:
                    break
                self._drop_oldest()  # nobody borrows: the floors themselves fill the total
                continue
            while lender.used > lender.floor and lender.owner.entries and not budget.fits(weight):
                lender.owner._drop_oldest()  # within its floor: it takes back what another borrows
        if not budget.fits(weight) or share.used + weight > self.max_bytes:
            entry = dataclasses.replace(entry, request_body=b"", response_body=b"", omitted=True)
            weight = entry.weight
            if not budget.fits(weight) or weight > self.max_bytes:
                self.dropped += 1
                return None
        return entry

    def _drop_oldest(self) -> None:
        self.budget.add(self.share, -self.entries.popleft().weight)
        self.dropped += 1

    def select(
        self, operation_id: str | None = None, status: int | None = None, since: int = 0, limit: int = 100
    ) -> list[Entry]:
        """The oldest `limit` entries after sequence `since` that match the filters."""
        found: list[Entry] = []
        for entry in self.entries:
            if entry.sequence <= since:
                continue
            if (operation_id is None or entry.operation_id == operation_id) and (
                status is None or entry.status == status
            ):
                found.append(entry)
                if len(found) >= limit:
                    break
        return found

    def clear(self) -> None:
        """Forget every entry and give their bytes back; sequence numbers go on."""
        self.budget.add(self.share, -self.share.used)
        self.entries.clear()

    def close(self) -> None:
        """Forget every entry and leave the budget: its sandbox is gone, and with it its floor."""
        self.entries.clear()
        self.budget.leave(self.share)

    def restart(self) -> None:
        """Empty, as new: the journal of a sandbox that was reset."""
        self.clear()
        self.dropped = self.last_sequence = 0


def _body(kept: bytes, size: int, omitted: bool) -> tuple[Any, bool]:
    """A body as shown: parsed JSON when whole, else text ending in the truncation marker."""
    if omitted and size:
        return OMITTED, True
    if not size:
        return None, False
    if len(kept) == size:
        try:
            return json.loads(kept), False
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
            return kept.decode("utf-8", "replace"), False
    return kept.decode("utf-8", "ignore") + MARKER.format(size=size), True


def shown(entry: Entry, timestamp: Any) -> Json:
    """An entry as the control plane's JournalEntry; `timestamp` formats the time."""
    request, request_cut = _body(entry.request_body, entry.request_size, entry.omitted)
    response, response_cut = _body(entry.response_body, entry.response_size, entry.omitted)
    return {
        "sequence": entry.sequence,
        "time": timestamp(entry.time),
        "operation_id": entry.operation_id,
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "status": entry.status,
        "key_id": entry.key_id,
        "request_id": entry.request_id,
        "replayed": entry.replayed,
        "retry_after": entry.retry_after,
        "duration_ms": round(entry.duration_ms, 3),
        "request_body": request,
        "request_body_bytes": entry.request_size,
        "request_body_truncated": request_cut,
        "response_body": response,
        "response_body_bytes": entry.response_size,
        "response_body_truncated": response_cut,
        "fault": entry.fault,
    }
