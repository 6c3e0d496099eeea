"""A registered webhook endpoint: where it sends, how it signs, its delivery log and what it has under way."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import OrderedDict
from dataclasses import dataclass, field

from incident_mock.kit.webhooks.messages import Message, MessageLog

__all__ = ["Endpoint", "Share"]


@dataclass(eq=False)
class Share:
    """What one sandbox's endpoints take of the Hub together: attempts in flight (a bound, its semaphore
    made on the delivering loop when first needed) and the messages pending, oldest first."""

    size: int
    semaphore: asyncio.Semaphore | None = None
    loop: asyncio.AbstractEventLoop | None = None
    pending: OrderedDict[str, Message] = field(default_factory=OrderedDict)

    def gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self.semaphore is None or self.loop is not loop:  # a semaphore serves one loop
            self.semaphore, self.loop = asyncio.Semaphore(self.size), loop
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
    share: Share | None = None  # its sandbox's, shared by all its endpoints
