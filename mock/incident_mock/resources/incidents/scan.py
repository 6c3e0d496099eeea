"""One list request's pass over the incidents: one pass, run in steps, so no list holds the event loop.

A filtered list needs its `total_record_count`, so it looks at every incident once, collecting the page
on the way; an unfiltered one takes its total from the store's counters and stops as soon as the page is
full. Either way each incident is tested once, by one predicate compiled from the whole query
(listing.matcher), whatever the number of filter values.

The pass covers the incidents that existed when the request came (creates append past that point), and
runs in `step`s of `STEP` incidents. The handler awaits between steps, so other clients are answered
while a list walks 100,000 incidents; the store itself stays synchronous and framework-free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from incident_contract.query import ListQuery
from incident_mock.domain.records import IncidentRecord

__all__ = ["STEP", "Scan"]

STEP = 4_000  # incidents per step: a few milliseconds of work


class Scan:
    def __init__(
        self,
        incidents: Sequence[IncidentRecord],
        modes: frozenset[str],
        private_ok: bool,
        test: Callable[[IncidentRecord], bool] | None,
        query: ListQuery,
    ) -> None:
        self.incidents, self.modes, self.private_ok, self.test = incidents, modes, private_ok, test
        self.page_size = query.page_size
        self.newest_first = query.sort_by != "created_at_oldest_first"
        self.size = len(incidents)
        self.counting = test is not None  # a filtered total needs every incident
        self.position = 0  # incidents looked at, in the list's order (newest first unless sort_by says)
        self.collect_from = 0  # how many of those come before the page (the cursor and what precedes it)
        self.page: list[IncidentRecord] = []
        self.more = False
        self.total = 0
        self.done = False

    def visible(self, rec: IncidentRecord) -> bool:
        return rec.mode in self.modes and (self.private_ok or rec.visibility == "public")

    def start_after(self, seq: int) -> None:
        """The page starts just past the incident with this sequence number (the `after` cursor)."""
        self.collect_from = self.size - seq if self.newest_first else seq + 1
        if not self.counting:
            self.position = self.collect_from

    def step(self, budget: int | None = None) -> bool:
        """Look at up to `budget` (default `STEP`) more incidents; True once the pass is complete.

        A counting pass takes its incidents a step's slice at a time (a slice, not an index per incident:
        the loop is the cost). An unfiltered one stops at the page's end, so it takes small windows: a slice
        touches every incident it holds, and a step's worth of incidents out of cache cost more than the
        page itself (4,000 of them: about 0.1 ms, on every list request).
        """
        if self.done:
            return True
        end = min(self.position + (budget or STEP), self.size)
        if self.counting:
            self._walk(end)
        else:
            window = 2 * self.page_size + 2  # the page, the one past it, and room for a few hidden ones
            while not self.more and self.position < end:
                self._walk(min(self.position + window, end))
                window *= 4
        self.done = self.position >= self.size or (self.more and not self.counting)
        return self.done

    def _walk(self, end: int) -> None:
        """Test the incidents from the current position up to `end` (in the list's order)."""
        incidents, test, modes, private_ok = self.incidents, self.test, self.modes, self.private_ok
        page, size, collect_from = self.page, self.page_size, self.collect_from
        counting, more, total = self.counting, self.more, self.total
        start = self.position
        reached = end
        if self.newest_first:
            chunk = incidents[self.size - end : self.size - start][::-1]
        else:
            chunk = incidents[start:end]
        if len(chunk) < end - start:  # the store was reset and is being freed: what is gone is not listed
            chunk, reached = [], self.size
        position = start  # counts the incidents looked at, this one included
        for rec in chunk:
            position += 1
            if rec.mode not in modes or (not private_ok and rec.visibility != "public"):
                continue
            if test is not None and not test(rec):
                continue
            total += 1
            if position > collect_from and not more:
                if len(page) < size:
                    page.append(rec)
                else:
                    more = True
                    if not counting:
                        reached = position
                        break
        self.position, self.more = reached, more
        if counting:
            self.total = total

    def result(self) -> tuple[list[IncidentRecord], str | None, int]:
        """The page, the cursor of the next page (None on the last), and the visible total."""
        return self.page, (self.page[-1].id if self.more else None), self.total
