"""Stage 8, admission: may this authenticated caller make this request now.

The operation is the one Connexion's router matched (RouteNote put it into the request state).

Runs after Connexion's security (authentication) and before its request validation, so a key without
the operation's scope gets 403 whatever its body says, and a body over the limit gets 413 only once the
key and its scopes are known to be good. Then the rate limit (off unless asked for): each key has a
token bucket of `rate_limit` requests a minute (the buckets are its sandbox's), refilled continuously,
and 429 with `Retry-After` and the `rate_limit` object beyond it.
"""

from __future__ import annotations

import math
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound, TooManyRequests
from incident_mock.http.permissions import Policy
from incident_mock.wire.request_state import request_state

__all__ = ["Admission", "RateLimit"]


class RateLimit:
    """Token buckets per key: `per_minute` requests a minute, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill)

    def spend(
        self, key_id: str, moment: float | None = None, buckets: dict[str, tuple[float, float]] | None = None
    ) -> None:
        """Take a token for this key, or raise TooManyRequests saying when to retry. `buckets` are the
        sandbox's (deleting a sandbox forgets them); by default, this limiter's own."""
        capacity = float(self.per_minute)
        moment = time.monotonic() if moment is None else moment
        buckets = self.buckets if buckets is None else buckets
        tokens, last = buckets.get(key_id, (capacity, moment))
        tokens = min(capacity, tokens + (moment - last) * capacity / 60)
        if tokens < 1:
            buckets[key_id] = (tokens, moment)
            retry = math.ceil((1 - tokens) * 60 / capacity)
            err = TooManyRequests(
                errors.RATE.format(limit=self.per_minute, retry=retry), headers={"Retry-After": str(retry)}
            )
            reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + retry))
            err.extra["rate_limit"] = {
                "name": "api_key",
                "limit": self.per_minute,
                "remaining": 0,
                "retry_after": reset,
            }
            raise err
        buckets[key_id] = (tokens - 1, moment)


class Admission:
    def __init__(self, app: ASGIApp, *, policy: Policy, rate_limit: int | None = None) -> None:
        self.app, self.policy = app, policy
        self.limit = RateLimit(rate_limit) if rate_limit else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = request_state(scope) if scope["type"] == "http" else None
        operation_id = state.operation_id if state is not None else None
        if state is None or operation_id is None:
            await self.app(scope, receive, send)
            return
        if state.caller is None:
            # Every operation is secured, so authentication must have run. It has not when Connexion's
            # routers disagree about the path: one ending in a newline (`/v1/severities/a%0A`) is routed to
            # an operation but skips the security middleware. No such path is in the contract: 404.
            raise NotFound(errors.NO_ROUTE.format(path=scope.get("path", "")))
        self.policy.authorize(state.caller, operation_id)
        if state.too_large is not None:
            raise state.too_large
        if self.limit is not None:
            self.limit.spend(state.caller.key.id, buckets=state.caller.sandbox.buckets)
        await self.app(scope, receive, send)
