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

Across sandboxes (`Totals` counts what all stores hold together): at most `max_sandboxes` of them, at most
`max_total_incidents` incidents in all of them, and their journals at most `journal_total_bytes` together,
each journal within `journal_entries` entries and `journal_bytes` bytes, a body kept up to
`journal_body_bytes` (journal.py). The render cache is per store, but holds one rendering per incident at
most, so the incident and text caps bound it too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields

from incident_mock.domain import errors
from incident_mock.domain.errors import ValidationFailed

__all__ = ["DEFAULTS", "Limits", "Totals", "capacity_reached", "text_bytes"]

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


class Totals:
    """What the stores of all sandboxes hold together: incidents and text, counted in by each store and
    given back when a store is reset or deleted."""

    def __init__(self) -> None:
        self.incidents = 0
        self.text = 0


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


def capacity_reached(what: str, cap: str, limit: int, option: str | None = None) -> ValidationFailed:
    """422 capacity_reached, naming the cap and the `incident-mock` option that sets it."""
    option = option or "--" + cap.replace("_", "-")
    return ValidationFailed(
        errors.CAPACITY.format(limit=limit, what=what, cap=cap, option=option), code="capacity_reached"
    )
