"""Faults armed in a sandbox: which request fails, and how (guides/faults-clock-seeds.md). Framework-free.

A fault is armed for one operationId, or for every operation, and fires on the next `times` matching
requests, or on each with a `probability` (drawn from a `random.Random` of its own, seeded by `seed`, else by
the sandbox's seed when it has one), or both. Kinds:

- `error`: answer `status` (500 by default) in the contract's ErrorResponse shape. The status must be one
  the operation declares (`incident_contract.facts.declared_errors`); a fault armed for every operation
  fires only on those that declare it, and a status that no matching operation declares is refused (422,
  naming the statuses they do declare). A 429 carries `Retry-After: retry_after`.
- `after_commit`: the operation runs and its effect is stored, then the client gets a 500 (`then: error`)
  or its connection is cut (`then: cut`). It fires only when the operation succeeded (2xx); any other
  answer goes out as it is and the fault is not spent.
- `drop`: the connection is cut before the operation runs: nothing is stored.
- `delay`: wait `seconds` (or a uniform draw between `seconds` and `max_seconds`) of real time, then go on.

At most one fault fires per request: the first armed that matches. A spent fault stays listed (its
`remaining` is 0) until removed, cleared, or pushed out by a new one when the sandbox holds `MAX_FAULTS`.
The request path asks `Faults.armed` (the live ones) first, so a sandbox without faults pays one test of
an empty list (http/fault_injection.py is the stage).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from incident_mock.domain.errors import NotFound, ValidationFailed

__all__ = ["DEFAULT_RETRY_AFTER", "KINDS", "MAX_FAULTS", "ArmedFault", "Faults"]

Json = dict[str, Any]
KINDS = ("error", "after_commit", "drop", "delay")
MAX_FAULTS = 100  # held per sandbox, spent ones included
DEFAULT_STATUS = 500
DEFAULT_RETRY_AFTER = 1
NO_FAULT = "No fault with id {id!r} in this sandbox"
UNKNOWN_OPERATION = "not an operationId of the contract"
NOT_DECLARED = "{status} is not declared by {operation}: it declares {declared}"
NOT_DECLARED_ANY = "{status} is declared by no operation of the contract: they declare {declared}"
ONLY_FOR = "applies to kind {kinds} only"
ONLY_429 = "applies to status 429 only"
NOT_FINITE = "must be a finite number"
BELOW_MIN = "must be at least seconds ({seconds:g})"
FULL = "a sandbox holds at most {limit} faults; remove some (DELETE, or POST .../faults/actions/clear)"
# which kinds each optional field applies to
APPLIES = {
    "status": ("error",),
    "retry_after": ("error",),
    "then": ("after_commit",),
    "seconds": ("delay",),
    "max_seconds": ("delay",),
}


@dataclass(slots=True)
class ArmedFault:
    number: int  # arming order in its sandbox: the first armed that matches fires
    kind: str
    operation_id: str | None
    status: int | None
    retry_after: int | None
    then: str | None
    seconds: float | None
    max_seconds: float | None
    times: int | None
    probability: float | None
    seed: int | None
    remaining: int | None
    rng: random.Random = field(repr=False)
    fired: int = 0

    @property
    def id(self) -> str:
        return f"flt_{self.number}"

    def latency(self) -> float:
        """The delay to add this time, in seconds."""
        low = self.seconds or 0.0
        return low if self.max_seconds is None else self.rng.uniform(low, self.max_seconds)

    def shown(self) -> Json:
        """As the control plane's ArmedFault."""
        return {
            "id": self.id,
            "kind": self.kind,
            "operation_id": self.operation_id,
            "status": self.status,
            "retry_after": self.retry_after,
            "then": self.then,
            "seconds": self.seconds,
            "max_seconds": self.max_seconds,
            "times": self.times,
            "probability": self.probability,
            "seed": self.seed,
            "remaining": self.remaining,
            "fired": self.fired,
        }

    def note(self) -> Json:
        """As the journal's JournalFault: what fired on that request."""
        status = 500 if self.then == "error" else self.status
        return {"id": self.id, "kind": self.kind, "status": status, "then": self.then, "seconds": None}


class Faults:
    """The faults of one sandbox. `declared`: operationId -> the error statuses it declares."""

    def __init__(self, declared: Mapping[str, frozenset[int]]) -> None:
        self.declared = declared
        self.armed: list[
            ArmedFault
        ] = []  # live (not spent), in arming order: the request path reads only this
        self.held: dict[str, ArmedFault] = {}  # every fault listed, spent ones included
        self.last = 0

    def __iter__(self) -> Iterator[ArmedFault]:
        return iter(list(self.held.values()))

    def __len__(self) -> int:
        return len(self.held)

    # --- the control plane ---------------------------------------------------------------------------
    def arm(self, body: Mapping[str, Any], sandbox_seed: int | None = None) -> ArmedFault:
        """A new fault from a body that matches the control plane's FaultPayload; 422 for what the schema
        cannot say (an operation or status the contract does not declare, a field of another kind)."""
        kind = body.get("kind")
        if kind is None:
            raise ValidationFailed("kind is required", code="is_required", field="kind")
        for name in ("seconds", "max_seconds", "probability"):  # NaN and Infinity pass every schema bound
            value = body.get(name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValidationFailed.invalid(name, NOT_FINITE)
        for name, kinds in APPLIES.items():
            if name in body and kind not in kinds:
                raise ValidationFailed.invalid(name, ONLY_FOR.format(kinds=", ".join(kinds)))
        operation = body.get("operation_id")
        if operation is not None and operation not in self.declared:
            raise ValidationFailed.invalid("operation_id", UNKNOWN_OPERATION)
        status = retry = None
        if kind == "error":
            status = int(body.get("status", DEFAULT_STATUS))
            self._check_declared(status, operation)
            retry = body.get("retry_after")
            if retry is not None and status != 429:
                raise ValidationFailed.invalid("retry_after", ONLY_429)
            if status == 429 and retry is None:
                retry = DEFAULT_RETRY_AFTER
        seconds = max_seconds = None
        if kind == "delay":
            if "seconds" not in body:
                raise ValidationFailed("seconds is required", code="is_required", field="seconds")
            seconds, max_seconds = float(body["seconds"]), body.get("max_seconds")
            if max_seconds is not None:
                max_seconds = float(max_seconds)
                if max_seconds < seconds:
                    raise ValidationFailed.invalid("max_seconds", BELOW_MIN.format(seconds=seconds))
        self._make_room()
        times, probability = body.get("times"), body.get("probability")
        if times is None and probability is None:
            times = 1
        seed = body.get("seed", sandbox_seed)
        self.last += 1
        fault = ArmedFault(
            self.last,
            kind,
            operation,
            status,
            retry,
            body.get("then", "error") if kind == "after_commit" else None,
            seconds,
            max_seconds,
            times,
            None if probability is None else float(probability),
            seed,
            times,
            random.Random(seed),
        )
        self.held[fault.id] = fault
        self.armed.append(fault)
        return fault

    def _check_declared(self, status: int, operation: str | None) -> None:
        if operation is not None:
            declared = self.declared[operation]
            if status not in declared:
                shown = ", ".join(map(str, sorted(declared)))
                message = NOT_DECLARED.format(status=status, operation=operation, declared=shown)
                raise ValidationFailed.invalid("status", message)
            return
        every = frozenset().union(*self.declared.values())
        if status not in every:
            shown = ", ".join(map(str, sorted(every)))
            raise ValidationFailed.invalid("status", NOT_DECLARED_ANY.format(status=status, declared=shown))

    def _make_room(self) -> None:
        if len(self.held) < MAX_FAULTS:
            return
        spent = next((f for f in self.held.values() if f.remaining == 0), None)
        if spent is None:
            raise ValidationFailed(FULL.format(limit=MAX_FAULTS), code="capacity_reached", field="faults")
        del self.held[spent.id]

    def get(self, fault_id: str) -> ArmedFault:
        found = self.held.get(fault_id)
        if found is None:
            raise NotFound(NO_FAULT.format(id=fault_id[:100]))
        return found

    def remove(self, fault_id: str) -> None:
        fault = self.get(fault_id)
        del self.held[fault_id]
        if fault in self.armed:
            self.armed.remove(fault)

    def clear(self) -> None:
        """Forget every fault; ids go on (a removed fault's id never names another)."""
        self.armed.clear()
        self.held.clear()

    # --- the request path ----------------------------------------------------------------------------
    def pick(self, operation_id: str) -> ArmedFault | None:
        """The fault that fires on this request, spent by one; or None."""
        for fault in self.armed:
            if fault.operation_id is not None and fault.operation_id != operation_id:
                continue
            if fault.status is not None and fault.status not in self.declared.get(operation_id, ()):
                continue
            if fault.probability is not None and fault.rng.random() >= fault.probability:
                continue
            fault.fired += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.armed.remove(fault)
            return fault
        return None

    def refund(self, fault: ArmedFault) -> None:
        """Give back what `pick` spent (an after_commit whose operation did not succeed)."""
        fault.fired -= 1
        if fault.remaining is not None:
            fault.remaining += 1
            if fault.remaining == 1 and fault.id in self.held:
                bisect.insort(self.armed, fault, key=_number)


def _number(fault: ArmedFault) -> int:
    return fault.number
