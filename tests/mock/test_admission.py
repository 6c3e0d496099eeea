"""admission.py on its own: the rate limit's token buckets."""

from __future__ import annotations

import pytest

from incident_mock.domain.errors import TooManyRequests
from incident_mock.http.admission import RateLimit


def test_a_key_may_spend_its_bucket_then_waits_for_the_refill() -> None:
    limit = RateLimit(per_minute=2)
    limit.spend("k", moment=0.0)
    limit.spend("k", moment=0.0)
    with pytest.raises(TooManyRequests) as caught:
        limit.spend("k", moment=1.0)
    assert caught.value.headers["Retry-After"] == "29"  # one token every 30 s; 1 s has passed
    assert caught.value.extra["rate_limit"]["limit"] == 2
    limit.spend("other", moment=1.0)  # buckets are per key
    limit.spend("k", moment=31.0)
