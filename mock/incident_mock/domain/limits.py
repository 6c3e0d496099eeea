"""How much the mock may hold: its caps, with their defaults, and the error for reaching one.

The contract declares that a server bounds what it holds and how a create past a bound is answered
(422 `validation_error`, code `capacity_reached`, the message naming the bound: openapi.yaml, the
incident and severity create operations). The numbers are the mock's own, options of `incident-mock`
and of `create_app(limits=...)`, never contract facts.

What bounds the rest of the memory:
- remembered idempotency keys: one per incident created in the window, so at most `max_incidents`
  (incidents are never deleted, and a key is remembered only by a create that stored an incident);
  each holds a 32-byte digest of the payload, never the payload;
- the render cache: `render_cache_bytes` of encoded JSON, and no entry over 1/64 of it;
- the text stored (incident and severity strings, as Python holds them): `max_text_bytes` in all, across
  every sandbox (a sandbox's own fixtures count too). A
  request is at most the contract's `x-max-body-bytes`, but a string Python holds can take up to four
  times its UTF-8 size (one astral character widens the whole string), and the incident cap times the
  body limit is no bound at all; a create or edit past the budget is 422 capacity_reached too.

Across sandboxes: at most `max_sandboxes` of them (a global cap: a slot is freed by deleting a sandbox),
at most `max_total_incidents` incidents and `max_text_bytes` of text in all of them, and their journals at
most `journal_total_bytes` together, each journal within `journal_entries` entries and `journal_bytes`
bytes, a body kept up to `journal_body_bytes` (journal.py). The render cache is per store, but holds one
rendering per incident at most, so the incident and text caps bound it too.

Those three mock-wide budgets are shared fairly (`Shares`): each sandbox is guaranteed a floor of the total
divided by `max_sandboxes` (so the floor does not shrink as sandboxes are added), and may borrow what the
others' floors do not hold. A sandbox past its floor is the one refused (text, incidents) or the one that
loses its oldest journal entries; a sandbox within its floor never loses anything because of another.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Generic, TypeVar

from incident_mock.domain import errors
from incident_mock.domain.errors import ValidationFailed

__all__ = [
    "DEFAULTS",
    "Account",
    "Holding",
    "Limits",
    "Shares",
    "Tally",
    "Totals",
    "beyond_share",
    "capacity_reached",
    "text_bytes",
]

T = TypeVar("T")
SANDBOX_CAP = (
    "The server holds its maximum of {limit} sandboxes (max_sandboxes): none was created. "
    "Delete a sandbox you no longer need (DELETE /_mock/sandboxes/{{sandbox_id}}) to free a slot, "
    "or start the mock with a larger --max-sandboxes"
)
BEYOND_SHARE = (
    "This sandbox is past its share: each sandbox is guaranteed {floor} {what} per sandbox ({cap} / "
    "max_sandboxes) and may borrow only what the others' shares leave free: nothing was stored. "
    "Delete or reset what this sandbox holds, or start the mock with a larger {option}"
)
NO_FLOOR_LEFT = (
    "No room for a new sandbox's share: each sandbox is guaranteed {floor} {what} per sandbox ({cap} / "
    "max_sandboxes), and the other sandboxes hold or borrow the rest of {total}: none was created. "
    "Delete or reset sandboxes that borrow beyond their share, or start the mock with a larger {option}"
)

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    # per store: about 1 KiB each, so RSS about 170 MiB when full (bench/filter_target.py)
    max_incidents: int = 100_000
    max_severities: int = 1_000  # per store
    render_cache_bytes: int = 32 * MIB  # encoded IncidentV2 JSON kept for list pages
    max_text_bytes: int = 256 * MIB  # the strings of all incidents and severities, as held in memory
    # across sandboxes
    max_sandboxes: int = 1_000  # the default sandbox included
    max_total_incidents: int = 200_000  # in all sandboxes together: about 360 MiB
    journal_entries: int = 1_000  # per sandbox
    journal_bytes: int = 4 * MIB  # per sandbox
    journal_body_bytes: int = 16 * KIB  # of each request and response body; longer ones are truncated
    journal_total_bytes: int = 128 * MIB  # all journals together
    max_rows: int = 1_000  # per store, of each declared resource (x-resources) naming no cap of its own

    def __post_init__(self) -> None:
        for item in fields(self):
            if getattr(self, item.name) < 1:
                raise ValueError(f"{item.name} must be at least 1")


@dataclass
class Tally:
    """The steps of work one request or one clock move has done where the work a client can ask for is not
    bounded by what it gets back (schedule handovers walked, people looked up): whoever bounds it reads
    `steps`."""

    steps: int = 0


class Holding(Generic[T]):
    """One holder's part of a `Shares` budget: what it uses, its guaranteed floor, and its `owner` (what
    gives room back when the budget reclaims what it lent)."""

    __slots__ = ("floor", "owner", "used")

    def __init__(self, owner: T, floor: int) -> None:
        self.owner, self.floor, self.used = owner, floor, 0

    @property
    def over(self) -> int:
        """How much it borrows: what it uses beyond its floor."""
        return self.used - self.floor if self.used > self.floor else 0


class Shares(Generic[T]):
    """A budget of `total` units (bytes, incidents, messages) shared fairly by at most `slots` holders.

    Each holder that `join`s is guaranteed a floor of `total // slots`, whatever the others do and however
    many join; what the floors of the others do not hold may be borrowed. Two ways to use it:
    - refusing (`admits`): a holder may take more while the total keeps room for every other holder's
      unused floor. Within its floor that always holds; past it, the holder is the one refused.
    - reclaiming (`fits`, `borrower`): a holder takes room while the total has it; when the total is
      full, a holder past its floor gives up its own oldest units first, and one within its floor takes
      room back from the holder that borrows most (`borrower`), whose owner evicts.
    Accounting is `add` (negative to give back); `reserved` is the unused part of every floor, kept up to
    date in O(1) so the hot paths never walk the holders."""

    def __init__(self, total: int, slots: int) -> None:
        self.total, self.slots = total, slots
        self.floor = total // max(1, slots)
        self.used = 0
        self.reserved = 0  # the sum over holders of max(0, floor - used)
        self.members: dict[int, Holding[T]] = {}

    def __iter__(self) -> Iterator[Holding[T]]:
        return iter(self.members.values())

    def can_join(self, floor: int | None = None) -> bool:
        """Whether a new holder's floor is free: not held by the others' floors nor by what they borrow."""
        return self.used + self.reserved + (self.floor if floor is None else floor) <= self.total

    def join(self, owner: T, floor: int | None = None) -> Holding[T]:
        """A new holder with the budget's floor (or `floor`: 0 for one that only ever borrows)."""
        share = Holding(owner, self.floor if floor is None else floor)
        self.members[id(share)] = share
        self.reserved += share.floor
        return share

    def leave(self, share: Holding[T]) -> None:
        """The holder is gone: what it used and its floor go back to the budget."""
        if self.members.pop(id(share), None) is not None:
            self.add(share, -share.used)
            self.reserved -= share.floor

    def add(self, share: Holding[T], amount: int) -> None:
        """Count `amount` in (out, when negative). On every journal entry: a holder past its floor before
        and after (a busy one) costs three additions."""
        before = share.used
        after = before + amount
        share.used = after
        self.used += amount
        floor = share.floor
        if before < floor or after < floor:
            self.reserved += (floor - after if after < floor else 0) - (
                floor - before if before < floor else 0
            )

    def admits(self, share: Holding[T], more: int) -> bool:
        """Whether `share` may take `more` and leave every other holder's unused floor free."""
        floor, after = share.floor, share.used + more
        unused_before = floor - share.used if share.used < floor else 0
        unused_after = floor - after if after < floor else 0
        return self.used + more + self.reserved - unused_before + unused_after <= self.total

    def fits(self, more: int) -> bool:
        return self.used + more <= self.total

    def borrower(self, other_than: Holding[T] | None = None) -> Holding[T] | None:
        """The holder that borrows most (other than `other_than`), or None when no other borrows."""
        found: Holding[T] | None = None
        for share in self.members.values():
            if (
                share is not other_than
                and share.used > share.floor
                and (found is None or share.over > found.over)
            ):
                found = share
        return found


class Totals:
    """What the stores of all sandboxes hold together, shared fairly: the text and incident budgets."""

    def __init__(self, limits: Limits | None = None) -> None:
        limits = limits or DEFAULTS
        self.limits = limits
        self.text_shares: Shares[object] = Shares(limits.max_text_bytes, limits.max_sandboxes)
        self.incident_shares: Shares[object] = Shares(limits.max_total_incidents, limits.max_sandboxes)

    @property
    def text(self) -> int:
        return self.text_shares.used

    @property
    def incidents(self) -> int:
        return self.incident_shares.used

    def account(self, owner: object) -> Account:
        """A new sandbox's account; 422 capacity_reached when the others hold its floor of either budget."""
        for shares, what, cap, option in (
            (self.text_shares, "bytes of text", "max_text_bytes", "--max-text-mib"),
            (self.incident_shares, "incidents", "max_total_incidents", None),
        ):
            if not shares.can_join():
                raise beyond_share(what, cap, shares, option, new=True)
        return Account(self, owner)


class Account:
    """One sandbox's part of the `Totals`: what its stores count in, and the checks of its shares. A store
    built alone (tests) gets an account of its own `Totals`."""

    def __init__(self, totals: Totals | None = None, owner: object = None) -> None:
        self.totals = totals = totals or Totals()
        self.text = totals.text_shares.join(owner)
        self.incidents = totals.incident_shares.join(owner)

    @classmethod
    def alone(cls, limits: Limits) -> Account:
        """The account of a store that shares nothing: the whole of each budget is its floor."""
        return cls(Totals(dataclasses.replace(limits, max_sandboxes=1)))

    def admit_text(self, more: int) -> None:
        """422 capacity_reached unless the sandbox may hold `more` bytes of text."""
        if not self.totals.text_shares.admits(self.text, more):
            raise beyond_share("bytes of text", "max_text_bytes", self.totals.text_shares, "--max-text-mib")

    def admit_incident(self) -> None:
        if not self.totals.incident_shares.admits(self.incidents, 1):
            raise beyond_share("incidents", "max_total_incidents", self.totals.incident_shares)

    def add_text(self, amount: int) -> None:
        self.totals.text_shares.add(self.text, amount)

    def add_incidents(self, amount: int) -> None:
        self.totals.incident_shares.add(self.incidents, amount)

    def close(self) -> None:
        """The sandbox is gone: its floors and whatever it still counted go back."""
        self.totals.text_shares.leave(self.text)
        self.totals.incident_shares.leave(self.incidents)


DEFAULTS = Limits()


def text_bytes(*values: object) -> int:
    """The memory the strings among `values` take (inside lists and dicts too), as Python holds them."""
    total, stack = 0, list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            total += sys.getsizeof(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return total


# What frees room under each cap, said so that following it works.
RESET = (
    "Reset the sandbox to its fixtures (POST /_mock/reset for the default one, "
    "POST /_mock/sandboxes/{sandbox_id}/actions/reset for another)"
)
FREES = {
    "max_sandboxes": "Delete a sandbox you no longer need (DELETE /_mock/sandboxes/{sandbox_id})",
    "max_total_incidents": "Reset or delete sandboxes (DELETE /_mock/sandboxes/{sandbox_id})",
    "max_text_bytes": "Reset or delete sandboxes (DELETE /_mock/sandboxes/{sandbox_id})",
    "max_endpoints": "Delete an endpoint (DELETE /_mock/sandboxes/{sandbox_id}/webhooks/{endpoint_id})",
}


def capacity_reached(what: str, cap: str, limit: int, option: str | None = None) -> ValidationFailed:
    """422 capacity_reached, naming the cap, what frees room under it and the `incident-mock` option that
    sets it."""
    option = option or "--" + cap.replace("_", "-")
    frees = FREES.get(cap, RESET)
    return ValidationFailed(
        errors.CAPACITY.format(limit=limit, what=what, cap=cap, option=option, frees=frees),
        code="capacity_reached",
    )


def beyond_share(
    what: str, cap: str, shares: Shares[object], option: str | None = None, *, new: bool = False
) -> ValidationFailed:
    """422 capacity_reached for a sandbox past its fair share of a mock-wide budget, naming the floor each
    sandbox is guaranteed and what gives room back."""
    option = option or "--" + cap.replace("_", "-")
    message = BEYOND_SHARE if not new else NO_FLOOR_LEFT
    return ValidationFailed(
        message.format(floor=shares.floor, what=what, cap=cap, option=option, total=shares.total),
        code="capacity_reached",
    )
