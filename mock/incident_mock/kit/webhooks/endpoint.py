"""A registered webhook endpoint (where it sends, how it signs, its delivery log and what it has under way),
and a sandbox's `Share` of the Hub that all its endpoints take together."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from incident_mock.kit.webhooks.messages import LogUsage, Message, MessageLog, Trigger

__all__ = ["Endpoint", "Share"]


@dataclass(eq=False)
class Share:
    """What one sandbox takes of the Hub: its pending messages (one queue, oldest first), the bytes its
    delivery logs hold, its attempts in flight, and its endpoints that have attempts waiting to start (taken
    in turn). `endpoints` is the sandbox's own table of them."""

    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    pending: OrderedDict[Message, Endpoint] = field(default_factory=OrderedDict)
    log: LogUsage = field(default_factory=LogUsage)
    in_flight: int = 0
    ready: deque[Endpoint] = field(default_factory=deque)
    listed: bool = False  # in the Hub's turn of sandboxes with work waiting


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
    share: Share = field(default_factory=Share)  # its sandbox's, shared by all its endpoints
    given_up: int = 0
    closed: bool = False
    # attempts waiting for a slot: scheduled ones (one per message at most), then redeliveries
    due: OrderedDict[Message, None] = field(default_factory=OrderedDict)
    redeliveries: deque[Message] = field(default_factory=deque)
    in_flight: int = 0
    listed: bool = False  # in its share's turn of endpoints
    tasks: dict[asyncio.Task[None], tuple[Message, Trigger]] = field(default_factory=dict)  # attempts
    timers: dict[Message, asyncio.TimerHandle] = field(default_factory=dict)  # retries waiting their time
    window: list[Message] = field(default_factory=list)  # out of order: held, not yet sent
    flush: asyncio.TimerHandle | None = None  # out of order: when the window is sent

    @property
    def waiting(self) -> bool:
        return bool(self.due or self.redeliveries)
