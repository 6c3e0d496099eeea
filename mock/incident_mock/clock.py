"""Where the store reads the time: real time by default, or a clock a test (or a sandbox) moves by hand.

Everything time-dependent in the store goes through its `Clock`: incident and severity timestamps, and
the idempotency window (a key is forgotten 24 hours after its create). A test checks the window by
advancing a `ManualClock` instead of waiting, and each sandbox of the testing kit can own one.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


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
