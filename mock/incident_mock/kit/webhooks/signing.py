"""Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")).

Written out rather than borrowed from a verifier library so that the tests, which verify every delivery
with the `standardwebhooks` and `svix` packages, check this against an independent implementation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["headers", "signature"]


def signature(key: bytes, message_id: str, timestamp: int, body: bytes, scheme: str = "v1") -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{scheme},{base64.b64encode(digest).decode()}"


def headers(key: bytes, message_id: str, timestamp: int, body: bytes, scheme: str = "v1") -> dict[str, str]:
    """The headers of one attempt."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, message_id, timestamp, body, scheme),
    }
