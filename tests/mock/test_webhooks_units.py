"""The webhook modules on their own: signing against the verifier libraries (and what they reject), the
message log's bounds, the target rule, and the events the mock can emit against the contract's."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook
from svix.webhooks import WebhookVerificationError as SvixVerificationError

from incident_contract.document import load_spec
from incident_contract.webhooks import delivery, events
from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.settings import WebhookSettings
from incident_mock.kit.webhooks.events import check_events, emitted
from incident_mock.kit.webhooks.messages import Message, MessageLog
from incident_mock.kit.webhooks.signing import headers
from incident_mock.kit.webhooks.targets import check_url, new_secret, secret_key
from incident_mock.testing.receiver import Delivery

SPEC = load_spec()
PREFIX = delivery(SPEC).secret_prefix
BODY = json.dumps(
    {
        "event_type": "private_incident.incident_created_v2",
        "private_incident.incident_created_v2": {"id": "01J"},
    }
).encode()


def signed(secret: str, body: bytes = BODY, at: float | None = None) -> dict[str, str]:
    return headers(secret_key(secret, PREFIX), "msg_1", int(time.time() if at is None else at), body)


def rejected_by_both(secret: str, body: bytes, sent: dict[str, str]) -> None:
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, sent)
    with pytest.raises(SvixVerificationError):
        SvixWebhook(secret).verify(body, sent)


def test_both_libraries_accept_what_the_mock_signs() -> None:
    secret = new_secret(PREFIX)
    sent = signed(secret)
    assert Webhook(secret).verify(BODY, sent) == json.loads(BODY)
    SvixWebhook(secret).verify(BODY, sent)
    assert sent["webhook-signature"].startswith(delivery(SPEC).signature_scheme + ",")


def test_a_tampered_body_a_wrong_secret_and_a_stale_timestamp_are_rejected_by_both() -> None:
    secret = new_secret(PREFIX)
    sent = signed(secret)
    rejected_by_both(secret, BODY.replace(b"01J", b"01K"), sent)  # tampered body
    rejected_by_both(new_secret(PREFIX), BODY, sent)  # another secret
    rejected_by_both(secret, BODY, signed(secret, at=time.time() - 3600))  # signed an hour ago
    rejected_by_both(secret, BODY, {**sent, "webhook-id": "msg_2"})  # the signature names another message


def test_the_receiver_keeps_what_fails_verification_apart() -> None:
    from incident_mock.testing.receiver import WebhookReceiver

    secret = new_secret(PREFIX)
    receiver = WebhookReceiver(secret)
    try:
        assert receiver._receive(BODY, signed(secret)) == 204
        assert receiver._receive(BODY + b" ", signed(secret)) == 401
        receiver.fail_next(1, 503)
        assert receiver._receive(BODY, signed(secret)) == 503
        assert [d.status for d in receiver.deliveries] == [204, 503] and len(receiver.rejected) == 1
        assert (
            isinstance(receiver.deliveries[0], Delivery)
            and receiver.events() == ["private_incident.incident_created_v2"] * 2
        )
        with pytest.raises(AssertionError, match="expected 3 deliveries"):
            receiver.wait_for(count=3, timeout=0.01)
    finally:
        receiver.close()


def test_secrets_are_whsec_and_base64_of_24_to_64_bytes() -> None:
    made = new_secret(PREFIX)
    assert made.startswith(PREFIX) and len(base64.b64decode(made.removeprefix(PREFIX))) == 24
    assert len(secret_key(PREFIX + base64.b64encode(b"k" * 64).decode(), PREFIX)) == 64
    for bad in (PREFIX + base64.b64encode(b"k" * 23).decode(), PREFIX + "!!!!", "sk_" + made[6:]):
        with pytest.raises(ValidationFailed):
            secret_key(bad, PREFIX)


def test_only_loopback_hosts_pass_unless_remote_is_allowed() -> None:
    assert check_url("http://127.0.0.1:8000/x", allow_remote=False)
    assert check_url("http://[::1]/", allow_remote=False)
    assert check_url("http://LOCALHOST./", allow_remote=False)
    with pytest.raises(ValidationFailed, match="--webhook-allow-remote"):
        check_url("http://0.0.0.0/", allow_remote=False)
    assert check_url("https://example.com/", allow_remote=True)
    with pytest.raises(ValidationFailed):
        check_url("http://[::1/", allow_remote=True)


def message(n: int, size: int = 10) -> Message:
    return Message(f"msg_{n}", "e", dt.datetime.now(dt.UTC), b"x" * size)


def test_the_log_drops_the_oldest_past_its_entries_or_bytes() -> None:
    log = MessageLog(entries=3, max_bytes=10_000)
    dropped = [m.id for n in range(5) for m in log.add(message(n))]
    assert dropped == ["msg_0", "msg_1"] and [m.id for m in log.oldest(10)] == ["msg_2", "msg_3", "msg_4"]
    assert log.dropped == 2
    by_bytes = MessageLog(entries=100, max_bytes=1000)
    for n in range(4):
        by_bytes.add(message(n, size=300))
    assert (len(by_bytes) == 1 and by_bytes.bytes <= 1000) or len(by_bytes) == 1
    assert by_bytes.get("msg_3") is not None and by_bytes.get("msg_0") is None


def test_every_event_the_mock_emits_is_one_of_the_contracts_and_every_one_is_emitted() -> None:
    assert emitted() == set(events(SPEC))
    check_events(events(SPEC))
    with pytest.raises(KeyError, match=r"public_incident\.incident_created_v2"):
        check_events(["private_incident.incident_created_v2"])


def test_settings_refuse_what_makes_no_sense() -> None:
    for bad in ({"time_scale": 0}, {"time_scale": 1.5}, {"max_pending": 0}, {"window_seconds": -1}):
        with pytest.raises(ValueError, match="must"):
            WebhookSettings(**bad)  # type: ignore[arg-type]
