"""The delivery engine: asyncio tasks on the server's loop that send, retry and give up.

One `Hub` serves every sandbox. It sends with one `httpx.AsyncClient`, made lazily on the running loop on
the first delivery (so it works under uvicorn and in-process alike) and closed by `aclose()`, which the
app's lifespan calls at shutdown (in-process callers without a lifespan call `app.webhooks.aclose()`).
An API request only creates the message and starts a task: it never waits for a delivery.

Attempts and retries run on real time, never on a sandbox's clock, so a frozen clock stalls nothing: the
wait before retry n is the contract's `retry_schedule_seconds[n]` times the endpoint's time scale. Across
every sandbox at most `max_pending` messages wait for delivery; past it the oldest of the sandbox holding the
most is given up and counted, so a sandbox whose receivers never answer gives up its own messages, never
another's.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any

import httpx

from incident_contract.document import Spec
from incident_contract.webhooks import DeliveryRules, delivery, events
from incident_mock.domain.settings import WebhookSettings
from incident_mock.kit.webhooks.endpoint import Endpoint, Share
from incident_mock.kit.webhooks.events import check_events
from incident_mock.kit.webhooks.messages import Attempt, LogBudget, Message
from incident_mock.kit.webhooks.signing import headers as signed

__all__ = ["Hub"]

log = logging.getLogger(__name__)
USER_AGENT = "incident-mock-webhooks"
MAX_ANSWER_BYTES = 64 * 1024  # read of an answer's body, to reuse the connection; the rest is not read
OVER_PENDING = "given up: more than {limit} messages were pending (--webhook-max-pending)"
NO_LOOP = "given up: no event loop to deliver on"
DROPPED = "given up: dropped from the delivery log (--webhook-log-entries / --webhook-log-kib)"


class Hub:
    def __init__(self, spec: Spec, settings: WebhookSettings) -> None:
        self.settings = settings
        self.delivery: DeliveryRules = delivery(spec)
        self.event_types = tuple(events(spec))
        check_events(self.event_types)
        self.log_budget = LogBudget(settings.log_total_bytes)  # every endpoint's delivery log together
        self.pending: OrderedDict[str, tuple[Endpoint, Message]] = OrderedDict()  # oldest first
        self.given_up = 0  # messages given up because too many were pending
        self.shares: weakref.WeakSet[Share] = weakref.WeakSet()  # the sandboxes' that have sent
        self._loose = Share(settings.sandbox_concurrency)  # for an endpoint made without one
        self.tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def message_id(self, ulid: str) -> str:
        return f"{self.delivery.message_id_prefix}{ulid.lower()}"

    # --- what the sandboxes call -------------------------------------------------------------------
    def send(self, endpoint: Endpoint, message: Message) -> None:
        """Start delivering a new message (without waiting for it)."""
        while self.pending and len(self.pending) >= self.settings.max_pending:
            fullest = max(self.shares, key=lambda s: len(s.pending), default=None)
            oldest = next(iter(fullest.pending)) if fullest and fullest.pending else next(iter(self.pending))
            if oldest not in self.pending:  # settled already: only its share still listed it
                if fullest is not None:
                    fullest.pending.pop(oldest, None)
                continue
            old_endpoint, old = self.pending[oldest]
            self.give_up(old_endpoint, old, OVER_PENDING.format(limit=self.settings.max_pending))
            self.given_up += 1
        share = self._share(endpoint)
        self.shares.add(share)
        self.pending[message.id] = (endpoint, message)
        share.pending[message.id] = message
        if endpoint.out_of_order:
            endpoint.window.append(message)
            if len(endpoint.window) >= self.settings.window_messages:
                endpoint.window_full.set()
            if endpoint.flusher is None or endpoint.flusher.done():
                endpoint.flusher = self._spawn(endpoint, None, self._flush(endpoint))
                if endpoint.flusher is None:  # no loop to send on
                    for held in list(endpoint.window):
                        self.give_up(endpoint, held, NO_LOOP)
        else:
            self._spawn(endpoint, message, self._deliver(endpoint, message, first=True))

    def redeliver(self, endpoint: Endpoint, message: Message) -> None:
        """One more attempt of a message, at once (counted in `message.queued` until it is made)."""
        if self._spawn(endpoint, None, self._redeliver(endpoint, message)) is not None:
            message.queued += 1

    def give_up(self, endpoint: Endpoint, message: Message, reason: str, count: bool = True) -> None:
        """Stop delivering a message: it is `failed`, its retries cancelled."""
        self._settled(endpoint, message)
        if message in endpoint.window:
            endpoint.window.remove(message)
        task = endpoint.running.pop(message.id, None)
        if task is not None:
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
        for task in [*endpoint.running.values(), *endpoint.others]:
            task.cancel()
        endpoint.running.clear()
        endpoint.others.clear()
        endpoint.window.clear()
        for message_id in [m for m, (ep, _) in self.pending.items() if ep is endpoint]:
            self._settled(endpoint, self.pending[message_id][1])

    async def aclose(self) -> None:
        """Cancel every delivery and close the client (at the app's shutdown)."""
        tasks = [t for t in self.tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.tasks.clear()
        for endpoint, message in list(self.pending.values()):
            self._settled(endpoint, message)
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()

    def _share(self, endpoint: Endpoint) -> Share:
        return endpoint.share if endpoint.share is not None else self._loose

    def _settled(self, endpoint: Endpoint, message: Message) -> None:
        """The message waits for delivery no more (delivered, failed or given up)."""
        self.pending.pop(message.id, None)
        self._share(endpoint).pending.pop(message.id, None)

    # --- tasks -------------------------------------------------------------------------------------
    def _spawn(
        self, endpoint: Endpoint, message: Message | None, work: Coroutine[Any, Any, None]
    ) -> asyncio.Task[None] | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the server's loop (a store driven by hand): nothing to send on
            work.close()
            if message is not None:
                self.give_up(endpoint, message, NO_LOOP)
            return None
        task = loop.create_task(work)
        self.tasks.add(task)
        if message is not None:
            endpoint.running[message.id] = task
        else:
            endpoint.others.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self.tasks.discard(finished)
            endpoint.others.discard(finished)
            if message is not None and endpoint.running.get(message.id) is finished:
                del endpoint.running[message.id]
            if not finished.cancelled() and finished.exception() is not None:
                log.error("webhook delivery failed", exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    def _client_for_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                headers={"user-agent": USER_AGENT},
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=self.settings.max_connections),
            )
            self._loop = loop
        return self._client

    async def _deliver(self, endpoint: Endpoint, message: Message, first: bool) -> None:
        """The first attempt (unless made already), then each retry of the schedule, then give up."""
        if first and await self._attempt(endpoint, message, "schedule"):
            return
        for delay in self.delivery.retry_schedule_seconds:
            if message.state != "pending":  # a redelivery got through meanwhile
                return
            wait = delay * endpoint.time_scale
            message.next_attempt_at = time.time() + wait
            await asyncio.sleep(wait)
            message.next_attempt_at = None
            if message.state != "pending" or await self._attempt(endpoint, message, "schedule"):
                return
        message.state = "failed"
        self._settled(endpoint, message)

    async def _flush(self, endpoint: Endpoint) -> None:
        """Out of order: hold messages for a short window, then send them shuffled, never in emitted order."""
        while endpoint.window:
            with suppress(TimeoutError):
                await asyncio.wait_for(endpoint.window_full.wait(), self.settings.window_seconds)
            batch, endpoint.window = endpoint.window, []
            endpoint.window_full.clear()
            order = list(batch)
            endpoint.rng.shuffle(order)
            if len(order) > 1 and order == batch:
                order = order[1:] + order[:1]
            for message in order:
                if message.state == "pending" and not await self._attempt(endpoint, message, "schedule"):
                    self._spawn(endpoint, message, self._deliver(endpoint, message, first=False))

    async def _redeliver(self, endpoint: Endpoint, message: Message) -> None:
        try:
            await self._attempt(endpoint, message, "redeliver")
        finally:
            message.queued -= 1

    async def _attempt(self, endpoint: Endpoint, message: Message, trigger: Any) -> bool:
        """One POST of the message, signed at the time it is sent; True when answered 2xx. At most
        `concurrency` attempts to one endpoint, and `sandbox_concurrency` to one sandbox's endpoints, are in
        flight: a receiver is not flooded, and the pool's connections are not all taken by one endpoint, nor
        by one sandbox whose receivers never answer."""
        if endpoint.gate is None:
            endpoint.gate = asyncio.Semaphore(self.settings.concurrency)
        async with endpoint.gate, self._share(endpoint).gate():
            return await self._post(endpoint, message, trigger)

    async def _post(self, endpoint: Endpoint, message: Message, trigger: Any) -> bool:
        sent_at = time.time()
        stamp = int(sent_at)
        headers = signed(endpoint.key, message.id, stamp, message.body, self.delivery.signature_scheme)
        status: int | None = None
        error: str | None = None
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
                ) as answer,
            ):
                status = answer.status_code
                read = 0
                async for chunk in answer.aiter_raw():
                    read += len(chunk)
                    if read > MAX_ANSWER_BYTES:
                        break
        except (httpx.TimeoutException, TimeoutError):
            error = f"no answer within {endpoint.attempt_timeout:g} s"
        except (httpx.HTTPError, OSError) as exc:
            error = (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:300]
        duration = (time.perf_counter() - started) * 1000
        message.attempts.append(Attempt(len(message.attempts) + 1, sent_at, status, error, duration, trigger))
        ok = status is not None and 200 <= status < 300
        if ok:
            message.state, message.next_attempt_at = "delivered", None
            self._settled(endpoint, message)
        return ok
