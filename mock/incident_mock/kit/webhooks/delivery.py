"""The delivery engine: attempts as asyncio tasks on the server's loop, retries as timers, shares per sandbox.

One `Hub` serves every sandbox. It sends with one `httpx.AsyncClient`, made lazily on the running loop on
the first delivery (so it works under uvicorn and in-process alike) and closed by `aclose()`, which the
app's lifespan calls at shutdown (in-process callers without a lifespan call `app.webhooks.aclose()`).
An API request only records the message and queues its attempt: it never waits for a delivery.

Attempts and retries run on real time, never on a sandbox's clock, so a frozen clock stalls nothing: the
wait before retry n is the contract's `retry_schedule_seconds[n]` times the endpoint's time scale.

Sandboxes share the Hub's budgets (delivery-log bytes, pending messages, connections) fairly: each is sure
of a floor of the total divided by `max_sandboxes` (at least one connection), which does not shrink as
others join; past its floor a sandbox may use what is unused, and when a budget is full, a sandbox over its
floor loses its own oldest entries first: one within its floor loses nothing because of another.

- pending messages: one queue per sandbox, one counter; past `max_pending`, a sandbox over its floor gives
  up its own oldest message, one within its floor makes the longest queue give up its oldest;
- log bytes: past `log_total_bytes`, the same, dropping the sandbox's oldest logged message (a log always
  keeps its newest);
- connections: an attempt starts only when its sandbox has a slot, within its floor or borrowed from the
  slack the floors leave (`max_connections - floor * max_sandboxes`); the floors are never lent, so a
  sandbox's silent receivers hold only its own slots. An attempt's deadline starts once it has its slot,
  and the client's pool is as large as all slots together: no attempt waits for a connection.

Attempts waiting for a slot are started in turn: sandbox by sandbox, and within one endpoint by endpoint,
a few per turn of the loop, so one sandbox's fan-out neither delays another's nor the API.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Mapping
from functools import partial
from typing import Any

import httpx

from incident_contract.document import Spec
from incident_contract.webhooks import DeliveryRules, delivery, events
from incident_mock.domain.limits import DEFAULTS
from incident_mock.domain.settings import WebhookSettings
from incident_mock.kit.webhooks.endpoint import Endpoint, Share
from incident_mock.kit.webhooks.events import check_events
from incident_mock.kit.webhooks.messages import Attempt, LogBudget, Message, Trigger
from incident_mock.kit.webhooks.signing import headers as signed

__all__ = ["Hub"]

log = logging.getLogger(__name__)
USER_AGENT = "incident-mock-webhooks"
MAX_ANSWER_BYTES = 64 * 1024  # read of an answer's body, to reuse the connection; the rest is not read
STARTS_PER_TURN = 4  # attempts started per turn of the loop: the API's requests are served in between
OVER_PENDING = "given up: more than {limit} messages were pending (--webhook-max-pending)"
NO_LOOP = "given up: no event loop to deliver on"
DROPPED = "given up: dropped from the delivery log (--webhook-log-entries / --webhook-log-kib)"
NO_ANSWER = "no answer within {timeout:g} s"
NO_CONNECTION = "no connection within {timeout:g} s"
REACHED = ("connection.connect_tcp.complete", "http11.send_request_headers.started")


class Hub:
    def __init__(
        self, spec: Spec, settings: WebhookSettings, max_sandboxes: int = DEFAULTS.max_sandboxes
    ) -> None:
        self.settings = settings
        self.delivery: DeliveryRules = delivery(spec)
        self.event_types = tuple(events(spec))
        check_events(self.event_types)
        self.log_budget = LogBudget(settings.log_total_bytes, max_sandboxes)  # every delivery log together
        self.pending_floor = settings.max_pending // max_sandboxes
        self.slot_floor = max(1, settings.max_connections // max_sandboxes)
        self.slots = max(settings.max_connections, self.slot_floor * max_sandboxes)  # the client's pool
        self.slack = self.slots - self.slot_floor * max_sandboxes  # what sandboxes may borrow past floors
        self.borrowed = 0
        self.pending = 0  # messages not yet delivered nor given up, in every sandbox's queue
        self.given_up = 0  # messages given up because too many were pending
        self.shares: weakref.WeakSet[Share] = weakref.WeakSet()  # the sandboxes' that have sent
        self.turn: deque[Share] = deque()  # sandboxes with attempts waiting, in turn
        self.short: OrderedDict[Share, None] = OrderedDict()  # ... waiting for a slot to borrow
        self.tasks: set[asyncio.Task[None]] = set()
        self.order = itertools.count(1)
        self._pumping = False
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def message_id(self, ulid: str) -> str:
        return f"{self.delivery.message_id_prefix}{ulid.lower()}"

    # --- what the sandboxes call -------------------------------------------------------------------
    def log(self, endpoint: Endpoint, message: Message) -> list[Message]:
        """Log a new message in its endpoint's delivery log; returns the messages dropped for room (any
        endpoint's of the same sandbox, or of a sandbox over its share of the shared budget)."""
        message.seq = next(self.order)
        self.shares.add(endpoint.share)
        gone = [(endpoint, m) for m in endpoint.log.add(message)]
        budget, own = self.log_budget, endpoint.share
        while budget.used > budget.limit:
            victim = _oldest_logged(own.endpoints) if own.log.bytes > budget.floor else None
            if victim is None:
                largest = self._largest(lambda s: s.log.bytes)
                victim = _oldest_logged(largest.endpoints) if largest is not None else None
            if victim is None:
                break
            gone.append((victim, victim.log.drop_oldest()))
        dropped = []
        for where, old in gone:
            if old.state == "pending":
                self.give_up(where, old, DROPPED, count=False)
            if where is endpoint:
                dropped.append(old)
        return dropped

    def send(self, endpoint: Endpoint, message: Message) -> None:
        """Start delivering a new message (without waiting for it)."""
        own = endpoint.share
        while self.pending >= self.settings.max_pending:
            share = own if len(own.pending) >= max(1, self.pending_floor) else None
            share = share or self._largest(lambda s: len(s.pending))
            if share is None or not share.pending:
                break
            old, old_endpoint = next(iter(share.pending.items()))
            self.give_up(old_endpoint, old, OVER_PENDING.format(limit=self.settings.max_pending))
            self.given_up += 1
        self.shares.add(own)
        own.pending[message] = endpoint
        self.pending += 1
        if not self._loop_running():
            self.give_up(endpoint, message, NO_LOOP)
        elif endpoint.out_of_order:
            endpoint.window.append(message)
            loop = asyncio.get_running_loop()
            if len(endpoint.window) >= self.settings.window_messages:
                self._flush(endpoint)
            elif endpoint.flush is None:
                endpoint.flush = loop.call_later(self.settings.window_seconds, self._flush, endpoint)
        else:
            self._queue(endpoint, message, "schedule")

    def redeliver(self, endpoint: Endpoint, message: Message) -> None:
        """One more attempt of a message, at once (counted in `message.queued` until it is made)."""
        if self._loop_running():
            message.queued += 1
            self._queue(endpoint, message, "redeliver")

    def give_up(self, endpoint: Endpoint, message: Message, reason: str, count: bool = True) -> None:
        """Stop delivering a message: it is `failed`, its retries cancelled."""
        self._settled(endpoint, message)
        if message in endpoint.window:
            endpoint.window.remove(message)
        for task, (attempted, trigger) in list(endpoint.tasks.items()):
            if attempted is message and trigger == "schedule":
                task.cancel()
        if message.state == "pending":
            message.state, message.next_attempt_at = "failed", None
            message.error = reason
        if count:
            endpoint.given_up += 1

    def stop(self, endpoint: Endpoint) -> None:
        """The endpoint is gone: cancel everything it has under way."""
        endpoint.closed = True
        endpoint.log.clear()
        for task in endpoint.tasks:
            task.cancel()
        for message in [*endpoint.timers, *endpoint.due, *endpoint.window]:
            self._settled(endpoint, message)
        if endpoint.flush is not None:
            endpoint.flush.cancel()
            endpoint.flush = None
        endpoint.window.clear()
        endpoint.redeliveries.clear()
        for message in [m for m, where in endpoint.share.pending.items() if where is endpoint]:
            self._settled(endpoint, message)

    async def aclose(self) -> None:
        """Cancel every delivery and close the client (at the app's shutdown)."""
        for share in list(self.shares):
            for endpoint in list(share.endpoints.values()):
                for message in list(endpoint.timers):
                    self._settled(endpoint, message)
            for message, endpoint in list(share.pending.items()):
                self._settled(endpoint, message)
        tasks = [t for t in self.tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()

    def _largest(self, size: Any) -> Share | None:
        return max(self.shares, key=size, default=None)

    def _settled(self, endpoint: Endpoint, message: Message) -> None:
        """The message waits for delivery no more (delivered, failed or given up)."""
        if endpoint.share.pending.pop(message, None) is not None:
            self.pending -= 1
        timer = endpoint.timers.pop(message, None)
        if timer is not None:
            timer.cancel()
        endpoint.due.pop(message, None)

    # --- queueing and starting attempts ------------------------------------------------------------
    @staticmethod
    def _loop_running() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # called outside the server's loop (a store driven by hand): nothing to send on
            return False
        return True

    def _queue(self, endpoint: Endpoint, message: Message, trigger: Trigger) -> None:
        if endpoint.closed:
            return
        if trigger == "schedule":
            endpoint.due[message] = None
        else:
            endpoint.redeliveries.append(message)
        self._list(endpoint)
        self._wake()

    def _list(self, endpoint: Endpoint) -> None:
        """Put the endpoint in its sandbox's turn, and the sandbox in the Hub's, if it has attempts to start
        and room for one more in flight."""
        share = endpoint.share
        free = endpoint.in_flight < self.settings.concurrency
        if endpoint.waiting and free and not endpoint.closed and not endpoint.listed:
            endpoint.listed = True
            share.ready.append(endpoint)
        self._list_share(share)

    def _wake(self) -> None:
        if not self._pumping:
            self._pumping = True
            asyncio.get_running_loop().call_soon(self._pump)

    def _room(self, share: Share) -> bool | None:
        """True: a slot is free for the sandbox; False: it has all it may take; None: it must wait for
        another sandbox to give back a borrowed slot."""
        if share.in_flight >= self.settings.sandbox_concurrency:
            return False
        if share.in_flight < self.slot_floor or self.borrowed < self.slack:
            return True
        return None

    def _pump(self) -> None:
        """Start a few waiting attempts, one sandbox after another; come back on the next turn of the loop
        while some still wait."""
        self._pumping = False
        started = 0
        while self.turn and started < STARTS_PER_TURN:
            share = self.turn.popleft()
            share.listed = False
            room = self._room(share)
            if not room:
                if room is None:
                    self.short[share] = None
                continue
            while share.ready:
                endpoint = share.ready.popleft()
                endpoint.listed = False
                job = self._next_job(endpoint)
                if job is not None:
                    self._start(endpoint, *job)
                    started += 1
                    self._list(endpoint)
                    break
            self._list_share(share)
        if self.turn:
            self._wake()

    def _list_share(self, share: Share) -> None:
        if share.ready and not share.listed and share not in self.short:
            share.listed = True
            self.turn.append(share)

    @staticmethod
    def _next_job(endpoint: Endpoint) -> tuple[Message, Trigger] | None:
        if endpoint.closed:
            return None
        if endpoint.redeliveries:
            return endpoint.redeliveries.popleft(), "redeliver"
        while endpoint.due:
            message, _ = endpoint.due.popitem(last=False)
            if message.state == "pending":
                return message, "schedule"
        return None

    def _start(self, endpoint: Endpoint, message: Message, trigger: Trigger) -> None:
        share = endpoint.share
        if share.in_flight >= self.slot_floor:
            self.borrowed += 1
        share.in_flight += 1
        endpoint.in_flight += 1
        task = asyncio.get_running_loop().create_task(self._run(endpoint, message, trigger))
        self.tasks.add(task)
        endpoint.tasks[task] = (message, trigger)
        task.add_done_callback(partial(self._finished, endpoint))

    def _finished(self, endpoint: Endpoint, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        endpoint.tasks.pop(task, None)
        share = endpoint.share
        share.in_flight -= 1
        endpoint.in_flight -= 1
        if share.in_flight >= self.slot_floor:
            self.borrowed -= 1
            short, self.short = list(self.short), OrderedDict()  # a borrowed slot is back: they may try
            for waiting in short:
                self._list_share(waiting)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery failed", exc_info=task.exception())
        self.short.pop(share, None)  # a slot of its own is back
        self._list(endpoint)
        self._list_share(share)
        if self.turn:
            self._wake()

    async def _run(self, endpoint: Endpoint, message: Message, trigger: Trigger) -> None:
        try:
            if trigger == "schedule":
                message.scheduled += 1
            ok = await self._post(endpoint, message, trigger)
        finally:
            if trigger == "redeliver":
                message.queued -= 1
        if not ok and trigger == "schedule" and message.state == "pending" and not endpoint.closed:
            self._retry_later(endpoint, message)

    def _retry_later(self, endpoint: Endpoint, message: Message) -> None:
        """Wait the schedule's next delay (a timer, not a task), then queue the retry; none left: failed."""
        made = message.scheduled - 1  # retries made so far
        schedule = self.delivery.retry_schedule_seconds
        if made >= len(schedule):
            message.state, message.next_attempt_at = "failed", None
            self._settled(endpoint, message)
            return
        wait = schedule[made] * endpoint.time_scale
        message.next_attempt_at = time.time() + wait
        endpoint.timers[message] = asyncio.get_running_loop().call_later(wait, self._due, endpoint, message)

    def _due(self, endpoint: Endpoint, message: Message) -> None:
        endpoint.timers.pop(message, None)
        message.next_attempt_at = None
        if message.state == "pending":
            self._queue(endpoint, message, "schedule")

    def _flush(self, endpoint: Endpoint) -> None:
        """Out of order: send the held messages shuffled, never in emitted order."""
        if endpoint.flush is not None:
            endpoint.flush.cancel()
            endpoint.flush = None
        batch, endpoint.window = endpoint.window, []
        order = list(batch)
        endpoint.rng.shuffle(order)
        if len(order) > 1 and order == batch:
            order = order[1:] + order[:1]
        for message in order:
            if message.state == "pending":
                self._queue(endpoint, message, "schedule")

    # --- one attempt -------------------------------------------------------------------------------
    def _client_for_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                headers={"user-agent": USER_AGENT},
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=self.slots),
            )
            self._loop = loop
        return self._client

    async def _post(self, endpoint: Endpoint, message: Message, trigger: Trigger) -> bool:
        """One POST of the message, signed at the time it is sent; True when answered 2xx within the
        attempt's timeout, body and all. Its error says "no answer" only when it reached the receiver."""
        sent_at = time.time()
        stamp = int(sent_at)
        headers = signed(endpoint.key, message.id, stamp, message.body, self.delivery.signature_scheme)
        status: int | None = None
        error: str | None = None
        reached = False

        async def trace(event: str, info: Mapping[str, Any]) -> None:
            nonlocal reached
            reached = reached or event in REACHED

        started = time.perf_counter()
        try:
            client = self._client_for_loop()
            # httpx's timeout is per read: a receiver trickling a byte at a time would never meet it
            async with (
                asyncio.timeout(endpoint.attempt_timeout),
                client.stream(
                    "POST",
                    endpoint.url,
                    content=message.body,
                    headers=headers,
                    timeout=endpoint.attempt_timeout,
                    extensions={"trace": trace},
                ) as answer,
            ):
                status = answer.status_code
                read = 0
                async for chunk in answer.aiter_raw():
                    read += len(chunk)
                    if read > MAX_ANSWER_BYTES:
                        break
        except (httpx.TimeoutException, TimeoutError):
            error = (NO_ANSWER if reached else NO_CONNECTION).format(timeout=endpoint.attempt_timeout)
        except (httpx.HTTPError, OSError) as exc:
            error = (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:300]
        duration = (time.perf_counter() - started) * 1000
        message.attempts.append(Attempt(len(message.attempts) + 1, sent_at, status, error, duration, trigger))
        ok = error is None and status is not None and 200 <= status < 300
        if ok:
            message.state, message.next_attempt_at = "delivered", None
            self._settled(endpoint, message)
        return ok


def _oldest_logged(endpoints: dict[str, Endpoint]) -> Endpoint | None:
    """The endpoint whose log holds the sandbox's oldest message it may drop (each keeps its newest)."""
    best: tuple[int, Endpoint] | None = None
    for endpoint in endpoints.values():
        first = endpoint.log.first()
        if first is not None and (best is None or first.seq < best[0]):
            best = (first.seq, endpoint)
    return best[1] if best else None
