"""Where the store reads the time: real time by default, or a clock a test (or a sandbox) moves by hand.

Everything time-dependent in the store goes through its `Clock`: incident and severity timestamps, and
the idempotency window (a key is forgotten 24 hours after its create). A test checks the window by
advancing a `ManualClock` instead of waiting.

Each sandbox has its own `SandboxClock` over the app's clock (real time unless a test passed one): it runs
with that clock by default, and can be frozen at an instant, advanced by a duration and released. It
never sleeps and nothing waits on it: delays, timeouts and rate limits read real time, so a frozen clock
never stalls an answer.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import NamedTuple, Protocol

__all__ = ["EARLIEST", "LATEST", "Clock", "ClockState", "ManualClock", "SandboxClock", "SystemClock"]

# The moments a sandbox's clock may show: a ULID's time cannot be before 1970, and a datetime ends in 9999.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
OUT_OF_RANGE = "the clock would show {moment}, outside {earliest} to {latest}"
ZERO = dt.timedelta(0)


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, timezone-aware (UTC)."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that stands still until it is moved: `advance(seconds)` or `set(moment)`."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._moment = start or dt.datetime.now(dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        return self._moment

    def advance(self, seconds: float) -> dt.datetime:
        with self._lock:
            self._moment += dt.timedelta(seconds=seconds)
            return self._moment

    def set(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock's moment must be timezone-aware")
        with self._lock:
            self._moment = moment


class ClockState(NamedTuple):
    """What a sandbox's clock shows: the moment, whether it is frozen, and how far it is from its base
    clock (real time), in either case."""

    now: dt.datetime
    frozen: bool
    offset: dt.timedelta


class SandboxClock:
    """A sandbox's clock over a base clock (real time): running (the base plus an offset) or frozen.

    - `freeze(at)` stops it at `at` (default: the moment it shows now);
    - `advance(delta)` moves a frozen clock forward, or adds `delta` to a running clock's offset;
    - `release(keep_offset=True)` lets it run again from the moment it shows (the offset is kept, so time
      never jumps back); `keep_offset=False` goes back to the base clock;
    - `reset()` is `release(keep_offset=False)`: a reset sandbox is on real time again.

    The state is one tuple swapped whole, so `now()` (every request reads it) takes no lock; the lock only
    keeps two moves from losing one another. Moves outside EARLIEST..LATEST raise ValueError and change
    nothing.
    """

    def __init__(self, base: Clock | None = None, frozen_at: dt.datetime | None = None) -> None:
        self.base: Clock = base or SystemClock()
        self._lock = threading.Lock()
        self._state: tuple[dt.datetime | None, dt.timedelta] = (None, ZERO)  # (frozen at, offset)
        if frozen_at is not None:
            self.freeze(frozen_at)

    def now(self) -> dt.datetime:
        frozen, offset = self._state
        if frozen is not None:
            return frozen
        moment = self.base.now()
        return moment + offset if offset else moment

    def state(self) -> ClockState:
        frozen, offset = self._state
        if frozen is None:
            return ClockState(self.base.now() + offset, False, offset)
        return ClockState(frozen, True, frozen - self.base.now())

    def freeze(self, at: dt.datetime | None = None) -> ClockState:
        with self._lock:
            moment = self.now() if at is None else _checked(at)
            self._state = (moment, self._state[1])
        return self.state()

    def advance(self, delta: dt.timedelta) -> ClockState:
        if delta < ZERO:
            raise ValueError("a clock only moves forward")
        with self._lock:
            frozen, offset = self._state
            _checked(self.now() + delta)
            self._state = (frozen + delta, offset) if frozen is not None else (None, offset + delta)
        return self.state()

    def release(self, keep_offset: bool = True) -> ClockState:
        with self._lock:
            frozen, offset = self._state
            if not keep_offset:
                offset = ZERO
            elif frozen is not None:
                offset = frozen - self.base.now()
            self._state = (None, offset)
        return self.state()

    def reset(self) -> None:
        self.release(keep_offset=False)


def _checked(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("a clock's moment must be timezone-aware")
    if not EARLIEST <= moment < LATEST:
        shown = moment.isoformat()
        raise ValueError(OUT_OF_RANGE.format(moment=shown, earliest=EARLIEST.year, latest=LATEST.year))
    return moment.astimezone(dt.UTC)
