"""Pacing: a target that answers 429 with Retry-After is waited for and asked again, within bounds.

A real deployment may rate-limit the suite. A 429 that says when to come back (`Retry-After`, in seconds
or as an HTTP date) is not the answer under test: the request is sent again after that wait, at most
`retries` times per request, and the whole run waits at most `max_wait` seconds in total. Past either
bound, or for a 429 without a usable Retry-After, the 429 is the answer the rule judges. A 429 means the
request was not processed, so sending a create again is safe (and idempotent anyway).

Every request of the run goes through one Pacer: the suite's own (`Target`) and Schemathesis'
(`schemathesis_hooks`). The clock and the sleep are injectable, so the tests never wait.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = ["DEFAULT_RETRIES", "DEFAULT_WAIT", "Pacer", "retry_after_seconds"]

DEFAULT_RETRIES = 5  # per request
DEFAULT_WAIT = 120.0  # seconds, for the whole run
TOO_MANY_REQUESTS = 429
Answer = TypeVar("Answer")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """Seconds a Retry-After asks for (delta-seconds or an HTTP date); None when it says nothing usable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)  # delta-seconds; a decimal is not RFC 9110's, but its meaning is plain
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - now).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


@dataclass
class Pacer:
    """Waits out 429 + Retry-After answers for every request of a run, within its bounds."""

    retries: int = DEFAULT_RETRIES
    max_wait: float = DEFAULT_WAIT
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], dt.datetime] = _utcnow
    honoured: int = 0  # 429 answers waited out and asked again
    waited: float = 0.0  # seconds spent waiting, in total
    given_back: int = 0  # 429 answers judged as they were (a bound reached, or no usable Retry-After)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def delay(self, status: int, retry_after: str | None, attempt: int) -> float | None:
        """Seconds to wait before asking again (and reserves them), or None: the answer stands."""
        if status != TOO_MANY_REQUESTS:
            return None
        seconds = retry_after_seconds(retry_after, self.now())
        with self.lock:
            if seconds is None or attempt >= self.retries or self.waited + seconds > self.max_wait:
                self.given_back += 1
                return None
            self.honoured += 1
            self.waited += seconds
            return seconds

    def send(
        self,
        send: Callable[[], Answer],
        status: Callable[[Answer], int],
        retry_after: Callable[[Answer], str | None],
    ) -> Answer:
        """`send()` until its answer is not a 429 to wait out; returns the last answer."""
        attempt = 0
        while True:
            answer = send()
            seconds = self.delay(status(answer), retry_after(answer), attempt)
            if seconds is None:
                return answer
            self.sleep(seconds)
            attempt += 1

    def summary(self) -> str:
        return (
            f"{self.honoured} 429 answer(s) waited out ({self.waited:.1f} s in all), "
            f"{self.given_back} judged as they were"
        )
