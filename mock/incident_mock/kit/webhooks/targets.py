"""What an endpoint may be: a URL the mock may send to, and a signing secret.

Only loopback hosts are accepted unless the mock was started with `--webhook-allow-remote`: a mock that
anyone can register endpoints with must not become a way to make requests to other machines. A host name
other than `localhost` is not resolved (it could resolve anywhere), so it counts as remote.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
from urllib.parse import urlsplit

import httpx

from incident_mock.domain import errors
from incident_mock.domain.errors import ValidationFailed

__all__ = ["REMOTE_OPTION", "SECRET_BYTES", "check_url", "is_loopback_host", "new_secret", "secret_key"]

REMOTE_OPTION = "--webhook-allow-remote"
NOT_LOOPBACK = (
    "only loopback targets (127.0.0.0/8, ::1, localhost) are allowed; start the mock with {option} to send "
    "to {host!r}"
)
BAD_URL = "not an http(s) URL naming a host: {detail}"
BAD_SECRET = "not {prefix} followed by the base64 of 24 to 64 bytes"
SECRET_BYTES = 24  # as Svix generates them
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64


def is_loopback_host(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_remote: bool) -> str:
    """The URL as given, once it is an http(s) URL whose host the mock may send to; 422 otherwise."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number, or out of range)
    except ValueError as exc:
        raise ValidationFailed.invalid("url", BAD_URL.format(detail=str(exc)[:100])) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValidationFailed.invalid("url", BAD_URL.format(detail="scheme or host missing"))
    try:  # the host the sender will connect to, as httpx reads the URL, must pass too
        sent_to = httpx.URL(url).host
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValidationFailed.invalid("url", BAD_URL.format(detail=str(exc)[:100])) from None
    if not allow_remote:
        for name in (host, sent_to):
            if not is_loopback_host(name):
                shown = errors.shortened(name)
                raise ValidationFailed.invalid("url", NOT_LOOPBACK.format(option=REMOTE_OPTION, host=shown))
    return url


def new_secret(prefix: str, key: bytes | None = None) -> str:
    """A secret as shown: the prefix, then the key bytes (`SECRET_BYTES` random ones by default) in base64."""
    return prefix + base64.b64encode(secrets.token_bytes(SECRET_BYTES) if key is None else key).decode()


def secret_key(secret: str, prefix: str) -> bytes:
    """The key bytes of a `whsec_...` secret; 422 when it is not one."""
    try:
        key = base64.b64decode(secret.removeprefix(prefix), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith(prefix) or not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValidationFailed.invalid("secret", BAD_SECRET.format(prefix=prefix))
    return key
