"""A registered webhook endpoint: where it sends, how it signs, its delivery log and what it has under way."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from dataclasses import dataclass, field

from incident_mock.webhooks.messages import Message, MessageLog

__all__ = ["Endpoint", "Gate"]


@dataclass(eq=False)
class Gate:
    """A bound on attempts in flight, its semaphore made on the delivering loop when first needed."""

    size: int
    semaphore: asyncio.Semaphore | None = None

    def get(self) -> asyncio.Semaphore:
        if self.semaphore is None:
            self.semaphore = asyncio.Semaphore(self.size)
        return self.semaphore


@dataclass(eq=False)
class Endpoint:
    id: str
    url: str
    event_types: tuple[str, ...]
    secret: str
    key: bytes
    created_at: dt.datetime  # real time
    time_scale: float
    attempt_timeout: float
    out_of_order: bool
    log: MessageLog
    rng: random.Random
    given_up: int = 0
    closed: bool = False
    running: dict[str, asyncio.Task[None]] = field(default_factory=dict)  # message id -> its delivery
    others: set[asyncio.Task[None]] = field(default_factory=set)  # redeliveries, the out-of-order flusher
    window: list[Message] = field(default_factory=list)  # out of order: held, not yet sent
    window_full: asyncio.Event = field(default_factory=asyncio.Event)
    flusher: asyncio.Task[None] | None = None
    gate: asyncio.Semaphore | None = None  # bounds its attempts in flight (made on the delivering loop)
    sandbox_gate: Gate | None = None  # bounds its sandbox's attempts in flight, all endpoints together
