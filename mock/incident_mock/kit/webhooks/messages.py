"""Messages and their attempts, and each endpoint's bounded delivery log.

A message's body is fixed when the event happens: every attempt, retries and redeliveries included, sends
the same bytes under the same `webhook-id`. Its `created_at` is the sandbox's clock (the time of the
event); attempts are stamped with real time (the time they were sent, as `webhook-timestamp` says).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

from incident_mock.domain.records import timestamp

__all__ = ["Attempt", "LogBudget", "LogUsage", "Message", "MessageLog", "State", "Trigger", "shown_message"]

Json = dict[str, Any]
State = Literal["pending", "delivered", "failed"]
Trigger = Literal["schedule", "redeliver"]


@dataclass(frozen=True)
class Attempt:
    number: int
    at: float  # Unix seconds, real time
    status: int | None
    error: str | None
    duration_ms: float
    trigger: Trigger


@dataclass(eq=False)
class Message:
    id: str
    event_type: str
    created_at: dt.datetime  # the sandbox's clock
    body: bytes
    state: State = "pending"
    next_attempt_at: float | None = None  # Unix seconds, real time
    error: str | None = None  # why it was given up early (a bound)
    attempts: list[Attempt] = field(default_factory=list)
    queued: int = 0  # redeliveries asked for and not yet made
    scheduled: int = 0  # attempts of the schedule made (the first one and retries)
    seq: int = 0  # the order messages were emitted in, across endpoints (set by the Hub)

    @property
    def size(self) -> int:
        return len(self.body) + 256  # the bytes it holds, with its attempts and bookkeeping, roughly


class LogBudget:
    """The bytes every delivery log holds together, against their total cap (one per Hub), and the floor
    each sandbox is sure of (`limit // max_sandboxes`)."""

    def __init__(self, limit: int, max_sandboxes: int = 1) -> None:
        self.limit, self.used = limit, 0
        self.floor = limit // max_sandboxes


class LogUsage:
    """The bytes one sandbox's delivery logs hold together."""

    def __init__(self) -> None:
        self.bytes = 0


class MessageLog:
    """An endpoint's messages, oldest first, within `entries` messages and `max_bytes` bytes; it counts its
    bytes in its sandbox's `usage` and in the `budget` all logs share (the Hub evicts past that budget)."""

    def __init__(
        self, entries: int, max_bytes: int, budget: LogBudget | None = None, usage: LogUsage | None = None
    ) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self.budget = budget or LogBudget(max_bytes)
        self.usage = usage or LogUsage()
        self.messages: OrderedDict[str, Message] = OrderedDict()
        self.bytes = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self.messages)

    def add(self, message: Message) -> list[Message]:
        """Log a message; returns the oldest ones dropped to keep within this log's own bounds."""
        self.messages[message.id] = message
        self._count(message.size)
        gone: list[Message] = []
        while len(self.messages) > 1 and (len(self.messages) > self.entries or self.bytes > self.max_bytes):
            gone.append(self.drop_oldest())
        return gone

    def first(self) -> Message | None:
        """The oldest message, unless it is the only one (a log always keeps its newest)."""
        return next(iter(self.messages.values())) if len(self.messages) > 1 else None

    def drop_oldest(self) -> Message:
        _, oldest = self.messages.popitem(last=False)
        self._count(-oldest.size)
        self.dropped += 1
        return oldest

    def _count(self, size: int) -> None:
        self.bytes += size
        self.usage.bytes += size
        self.budget.used += size

    def clear(self) -> None:
        """Forget every message (the endpoint is deleted): their bytes go back to the budget."""
        self._count(-self.bytes)
        self.messages.clear()

    def get(self, message_id: str) -> Message | None:
        return self.messages.get(message_id)

    def oldest(self, limit: int) -> list[Message]:
        found: list[Message] = []
        for message in self.messages.values():
            if len(found) >= limit:
                break
            found.append(message)
        return found


def _real(seconds: float) -> str:
    return timestamp(dt.datetime.fromtimestamp(seconds, dt.UTC))


def shown_message(message: Message) -> Json:
    """A message as the control plane's WebhookMessage."""
    return {
        "id": message.id,
        "event_type": message.event_type,
        "created_at": timestamp(message.created_at),
        "state": message.state,
        "next_attempt_at": _real(message.next_attempt_at) if message.next_attempt_at is not None else None,
        "error": message.error,
        "attempts": [
            {
                "attempt": a.number,
                "timestamp": _real(a.at),
                "status": a.status,
                "error": a.error,
                "duration_ms": round(a.duration_ms, 3),
                "trigger": a.trigger,
            }
            for a in message.attempts
        ],
        "payload": json.loads(message.body),
    }
