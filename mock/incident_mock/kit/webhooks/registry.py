"""A sandbox's webhook endpoints: registering, finding and deleting them, and emitting its events to them.

`SandboxWebhooks` is the sandbox's side; the `Hub` (delivery.py) sends for every sandbox. The message
body is fixed here, when the event happens, and `created_at` read from the sandbox's store clock.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from typing import Any

from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.ids import Ids
from incident_mock.domain.limits import capacity_reached
from incident_mock.domain.records import IncidentRecord, timestamp
from incident_mock.kit.webhooks.delivery import Hub
from incident_mock.kit.webhooks.endpoint import Endpoint, Share
from incident_mock.kit.webhooks.events import created, updated
from incident_mock.kit.webhooks.messages import Message, MessageLog
from incident_mock.kit.webhooks.targets import check_url, new_secret, secret_key
from incident_mock.resources.organisation import Store

__all__ = ["SandboxWebhooks", "shown_endpoint"]

Json = dict[str, Any]
NO_ENDPOINT = "No webhook endpoint with id {id!r}"
NO_MESSAGE = "No message with id {id!r} in this endpoint's delivery log"
MAX_ATTEMPTS = 64  # of one message, redeliveries included
TOO_MANY_ATTEMPTS = "message_id is invalid: the message has had {limit} attempts, the most the mock makes"


class SandboxWebhooks:
    """One sandbox's endpoints. `now` reads the sandbox's clock (its current store's)."""

    def __init__(self, hub: Hub, now: Callable[[], dt.datetime], seed: Callable[[], Any], ids: Ids) -> None:
        self.hub, self.now, self.seed, self.ids = hub, now, seed, ids  # ids: the sandbox's (seeded or not)
        self.endpoints: dict[str, Endpoint] = {}
        self.registered = 0
        self.share = Share(self.endpoints)  # what its endpoints take of the hub together

    # --- the control plane's operations ------------------------------------------------------------
    def register(self, body: Json) -> Endpoint:
        settings, promises = self.hub.settings, self.hub.delivery
        url = check_url(body["url"], settings.allow_remote)
        if len(self.endpoints) >= settings.max_endpoints:
            raise capacity_reached(
                "webhook endpoints", "max_endpoints", settings.max_endpoints, option="--webhook-max-endpoints"
            )
        # a secret not given comes from the OS's generator, never from the seed: a sandbox with the same seed
        # must not be able to sign for this one's receiver
        secret = body.get("secret") or new_secret(promises.secret_prefix)
        key = secret_key(secret, promises.secret_prefix)
        known = list(self.hub.event_types)
        wanted = body.get("event_types") or known
        self.registered += 1
        sandbox_seed = self.seed()
        seed = f"{sandbox_seed}:{self.registered}" if sandbox_seed is not None else None
        endpoint = Endpoint(
            id=f"ep_{self.ids.ulid().lower()}",
            url=url,
            event_types=tuple(e for e in known if e in wanted),
            secret=secret,
            key=key,
            created_at=self.now(),
            time_scale=float(body.get("time_scale", settings.time_scale)),
            attempt_timeout=float(body.get("attempt_timeout_seconds", promises.attempt_timeout_seconds)),
            out_of_order=bool(body.get("out_of_order", False)),
            log=MessageLog(settings.log_entries, settings.log_bytes, self.hub.log_budget, self.share.log),
            rng=random.Random(seed),
            share=self.share,
        )
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def get(self, endpoint_id: str) -> Endpoint:
        found = self.endpoints.get(endpoint_id)
        if found is None:
            raise NotFound(NO_ENDPOINT.format(id=errors.shortened(endpoint_id)))
        return found

    def delete(self, endpoint_id: str) -> None:
        self.hub.stop(self.endpoints.pop(self.get(endpoint_id).id))

    def message(self, endpoint_id: str, message_id: str) -> tuple[Endpoint, Message]:
        endpoint = self.get(endpoint_id)
        found = endpoint.log.get(message_id)
        if found is None:
            raise NotFound(NO_MESSAGE.format(id=errors.shortened(message_id)))
        return endpoint, found

    def redeliver(self, endpoint_id: str, message_id: str) -> Message:
        endpoint, message = self.message(endpoint_id, message_id)
        if len(message.attempts) + message.queued >= MAX_ATTEMPTS:  # queued ones count: a burst is bounded
            raise ValidationFailed(TOO_MANY_ATTEMPTS.format(limit=MAX_ATTEMPTS), field="message_id")
        self.hub.redeliver(endpoint, message)
        return message

    def close(self) -> None:
        """The sandbox is deleted: stop every delivery."""
        for endpoint in self.endpoints.values():
            self.hub.stop(endpoint)
        self.endpoints.clear()

    # --- events ------------------------------------------------------------------------------------
    def incident_created(self, store: Store, record: IncidentRecord) -> None:
        if self.endpoints:
            self._emit(created(store, record))

    def incident_updated(self, store: Store, record: IncidentRecord, previous_status_id: str) -> None:
        if self.endpoints:
            self._emit(updated(store, record, previous_status_id))

    def takes(self, event_type: str) -> bool:
        """Some endpoint of the sandbox takes this event."""
        return any(event_type in e.event_types for e in self.endpoints.values())

    def announce(self, event_type: str, payload: Json, at: dt.datetime | None = None) -> None:
        """Emit a behaviour's event: `{"event_type": e, e: payload}`, created `at` (default: now on the
        sandbox clock; a shift change passed by a clock move is dated when it happened)."""
        if self.endpoints:
            body = json.dumps({"event_type": event_type, event_type: payload}).encode()
            self._emit([(event_type, body)], at)

    def _emit(self, emitted: list[tuple[str, bytes]], at: dt.datetime | None = None) -> None:
        moment = self.now() if at is None else at
        for event_type, body in emitted:
            for endpoint in list(self.endpoints.values()):
                if event_type not in endpoint.event_types:
                    continue
                message = Message(self.hub.message_id(self.ids.ulid()), event_type, moment, body)
                self.hub.log(endpoint, message)
                self.hub.send(endpoint, message)


def shown_endpoint(endpoint: Endpoint) -> Json:
    """An endpoint as the control plane's WebhookEndpoint."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "secret": endpoint.secret,
        "created_at": timestamp(endpoint.created_at),
        "time_scale": endpoint.time_scale,
        "attempt_timeout_seconds": endpoint.attempt_timeout,
        "out_of_order": endpoint.out_of_order,
        "messages": len(endpoint.log),
        "dropped": endpoint.log.dropped + endpoint.given_up,
    }
