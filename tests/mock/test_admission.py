"""admission.py and error_handler.py on their own: the rate limit's buckets; every error's type is the contract's."""

from __future__ import annotations

from typing import Any

import pytest

from incident_contract.facts import error_types
from incident_mock import errors
from incident_mock.admission import RateLimit
from incident_mock.errors import ApiError, TooManyRequests, error_body


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


def _subclasses(cls: type[ApiError]) -> list[type[ApiError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _subclasses(sub))]


def test_every_error_class_has_its_type_in_the_contract(spec: dict[str, Any]) -> None:
    types = error_types(spec)
    for cls in _subclasses(ApiError):
        assert cls.status in types, cls.__name__
        body = error_body(cls(errors.INTERNAL), "req-1", types)
        assert (body["type"], body["status"], body["request_id"]) == (types[cls.status], cls.status, "req-1")
