"""Generated ids: random as before, or reproducible from a seed.

An `Ids` makes the ULIDs of one sandbox (incident and severity ids, request ids, webhook endpoint and
message ids; never webhook secrets, which come from `secrets` alone) or of the mock itself
(sandbox ids and tokens, the request ids of requests no sandbox claims). Unseeded, it is python-ulid's
`ULID()` and `secrets`, as before. Seeded, the randomness comes from its own `random.Random(seed)`, drawn
in the order the requests ask for ids, and a ULID's time (its first 10 characters) from the clock it was
given: the same seed, the same requests and a frozen clock give the same ids. `restart()` starts the
sequence over (a reset sandbox is as new).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import secrets

from ulid import ULID

from incident_mock.domain.clock import Clock

__all__ = ["Ids", "app_seed"]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MILLISECOND = dt.timedelta(milliseconds=1)


def app_seed(seed: int, stream: str = "sandboxes") -> str:
    """What the mock's own generators are seeded with: never the same sequence as a sandbox seeded `seed`,
    nor as each other."""
    return f"incident-mock:{stream}:{seed}"


class Ids:
    def __init__(self, seed: int | str | None, clock: Clock) -> None:
        self.seed, self.clock = seed, clock
        self.random = random.Random(seed) if seed is not None else None

    def ulid(self, clock: Clock | None = None) -> str:
        """A new ULID, as text; seeded, its time is `clock`'s (default: this generator's)."""
        if self.random is None:
            return str(ULID())
        ms = ((clock or self.clock).now() - EPOCH) // MILLISECOND
        return str(ULID.from_bytes(ms.to_bytes(6, "big") + self.random.getrandbits(80).to_bytes(10, "big")))

    def token(self, size: int = 24) -> str:
        """`size` random bytes as URL-safe base64, like `secrets.token_urlsafe`."""
        if self.random is None:
            return secrets.token_urlsafe(size)
        return base64.urlsafe_b64encode(self.random.randbytes(size)).rstrip(b"=").decode()

    def draw(self) -> int:
        """A 53-bit number (a JSON-safe integer): the seed of a sandbox created without one, under a seed."""
        source = self.random or random.SystemRandom()
        return source.getrandbits(53)

    def restart(self) -> None:
        if self.seed is not None:
            self.random = random.Random(self.seed)
