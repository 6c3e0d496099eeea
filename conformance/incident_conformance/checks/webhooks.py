"""WEBHOOK: what a deployment delivers to a registered endpoint (`incident-conformance webhooks` only).

These rules judge the deliveries a webhook run collected (see webhook_session.py), never the API's
answers: each reads the run's Session from the context. The contract's `x-webhooks` gives the events
and their message schemas, `x-webhook-delivery` the signing and retry promises.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message

from incident_conformance.context import RunContext
from incident_conformance.receiver import ReceivedDelivery
from incident_conformance.rules import Failure, Finding, Level, Note, RuleSkipped, expect, rule
from incident_conformance.webhook_session import (
    CACHE_KEY,
    PRIVATE,
    PUBLIC,
    Session,
    event_of,
    incident_id_of,
    message_of,
)
from incident_contract.refs import validator
from incident_contract.webhooks import delivery

JSON = "application/json"
NO_DELIVERY = "no delivery arrived to check"


def _session(ctx: RunContext) -> Session:
    session = ctx.cache.get(CACHE_KEY)
    if not isinstance(session, Session):
        raise RuleSkipped("only `incident-conformance webhooks` checks deliveries")
    return session


def _deliveries(ctx: RunContext) -> list[ReceivedDelivery]:
    session = _session(ctx)
    if not session.deliveries:
        raise RuleSkipped(NO_DELIVERY)
    return session.deliveries


def _title(d: ReceivedDelivery) -> str:
    kind = event_of(d) or "no event_type"
    return f"delivery #{d.index + 1} ({kind}, webhook-id {d.webhook_id or '(none)'})"


@rule(
    "WEBHOOK-1",
    Level.MUST,
    "webhook_signature_verifies",
    "Every delivery carries webhook-id (with the contract's message id prefix), webhook-timestamp and "
    "webhook-signature, and the `standardwebhooks` verifier accepts it with the endpoint's secret, "
    "timestamp within its tolerance. Receiver mode (`incident-conformance webhooks`).",
)
def signature_verifies(ctx: RunContext) -> Iterator[Finding]:
    prefix = delivery(ctx.contract.spec).message_id_prefix
    for d in _deliveries(ctx):
        if failure := expect(
            d.signature_error is None and d.webhook_id.startswith(prefix),
            _title(d),
            f"a webhook-id starting {prefix} and a signature that verifies with --secret",
            d.signature_error or f"webhook-id {d.webhook_id!r}",
        ):
            yield failure


def _schema_errors(ctx: RunContext, d: ReceivedDelivery) -> list[str]:
    """Why a message does not match its event's schema. A private payload's extra members are WEBHOOK-3's."""
    session = _session(ctx)
    content_type = Message()
    content_type["content-type"] = d.content_type
    if content_type.get_content_type() != JSON:
        return [f"Content-Type {d.content_type!r}, not {JSON}"]
    data = message_of(d)
    if data is None:
        return ["the body is not a JSON object"]
    kind = data.get("event_type")
    if kind not in session.catalogue:
        return [f"event_type {kind!r} is none of the contract's: {', '.join(session.catalogue)}"]
    event = session.catalogue[str(kind)]
    payload = data.get(event.name)
    if event.private and isinstance(payload, dict) and "id" in payload:
        data = {**data, event.name: {"id": payload["id"]}}
    errors = sorted(validator(ctx.contract.spec, event.schema).iter_errors(data), key=lambda e: list(e.path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:160]}" for e in errors[:5]]


@rule(
    "WEBHOOK-2",
    Level.MUST,
    "webhook_message_matches_its_event_schema",
    "Every delivery is a JSON POST (Content-Type application/json) whose event_type is one of the "
    "contract's x-webhooks events and whose body matches that event's message schema. Receiver mode.",
)
def message_matches_schema(ctx: RunContext) -> Iterator[Finding]:
    for d in _deliveries(ctx):
        errors = _schema_errors(ctx, d)
        if failure := expect(not errors, _title(d), "a message of the event's schema", "; ".join(errors)):
            yield failure


@rule(
    "WEBHOOK-3",
    Level.MUST,
    "private_incident_is_sent_as_its_id_only",
    'A private_incident.* event\'s payload is exactly {"id"}, and no public_incident.* event names an '
    "incident the run created private. Receiver mode.",
)
def private_as_id_only(ctx: RunContext) -> Iterator[Finding]:
    session = _session(ctx)
    for d in _deliveries(ctx):
        kind = event_of(d)
        event = session.catalogue.get(kind or "")
        if event is None:
            continue
        payload = (message_of(d) or {}).get(event.name)
        named = incident_id_of(d)
        if event.private:
            ok = isinstance(payload, dict) and set(payload) == {"id"}
            keys = sorted(payload) if isinstance(payload, dict) else payload
            yield from _some(expect(ok, _title(d), 'the payload {"id": ...} and nothing else',
                                    f"payload members {keys}"))  # fmt: skip
        elif named is not None and session.incidents.get(named) == PRIVATE:
            yield from _some(expect(False, _title(d), f"no {PUBLIC} event for the private incident {named}",
                                    f"{kind} with the incident in full"))  # fmt: skip


def _some(failure: Failure | None) -> Iterator[Failure]:
    if failure is not None:
        yield failure


@rule(
    "WEBHOOK-4",
    Level.MUST,
    "every_change_sends_its_event_once",
    "Each create, edit and status change the run makes is delivered as the event the contract promises "
    "for it, once: matched by incident id, a retry (the same webhook-id) is not another event. "
    "Receiver mode.",
)
def one_event_per_change(ctx: RunContext) -> Iterator[Finding]:
    session = _session(ctx)
    if not session.deliveries:
        yield Failure(
            "no delivery arrived",
            f"the events of {len(session.changes)} changes at {session.receiver_url}",
            f"nothing within --timeout {session.timeout:g} s (is that URL registered as an endpoint for "
            "these events, with this secret, and reachable from the deployment?)",
        )
        return
    seen = session.message_ids()
    actions: dict[tuple[str, str], list[str]] = {}
    for change in session.changes:
        actions.setdefault((change.event, change.incident_id), []).append(change.action)
    for (event, incident), count in session.expected.items():
        got = len(seen.get((event, incident), set()))
        yield from _some(expect(
            got == count,
            f"{event} for incident {incident}",
            f"{count} message(s), for: {'; '.join(actions[(event, incident)])}",
            f"{got} message(s)" + (f": webhook-ids {sorted(seen[(event, incident)])}" if got else
                                   f" within --timeout {session.timeout:g} s"),
        ))  # fmt: skip
    for (event, incident), ids in seen.items():
        visibility = session.incidents.get(incident)
        kind = session.catalogue.get(event)
        leak = kind is not None and not kind.private and visibility == PRIVATE  # WEBHOOK-3's to judge
        promised = (event, incident) in session.expected
        if visibility is not None and kind is not None and not leak and not promised:
            yield Failure(f"{event} for incident {incident}", "none: no change of the run asked for it",
                          f"{len(ids)} message(s): webhook-ids {sorted(ids)}")  # fmt: skip
    if session.overflow:
        yield Note(f"{session.overflow} deliveries past the receiver's cap were refused unrecorded")


@rule(
    "WEBHOOK-5",
    Level.MUST,
    "webhook_retry_keeps_id_and_body",
    "The receiver refuses the first attempt of one message (503): the deployment retries it under the "
    "same webhook-id with the same body; every delivery of one webhook-id has one body. Skipped when "
    "no retry arrives within --timeout (the deployment's first retry may be slower). Receiver mode.",
)
def retry_keeps_id(ctx: RunContext) -> Iterator[Finding]:
    session = _session(ctx)
    deliveries = _deliveries(ctx)
    bodies: dict[str, ReceivedDelivery] = {}
    for d in deliveries:
        first = bodies.setdefault(d.webhook_id, d)
        yield from _some(expect(
            d.body == first.body, _title(d), f"the body of delivery #{first.index + 1}, its first attempt",
            f"another body ({len(d.body)} bytes, not {len(first.body)}): {d.describe()}",
        ))  # fmt: skip
    refused = session.refused
    if refused is None:
        raise RuleSkipped("no delivery with a webhook-id to refuse, so no retry to see")
    renamed = session.renamed_retry()
    retries = session.retries()
    if renamed is not None:
        yield Failure(
            f"the retry of {refused.webhook_id} (refused with 503)",
            f"the same webhook-id {refused.webhook_id}",
            f"the same body under webhook-id {renamed.webhook_id or '(none)'}",
        )
    elif retries:
        delay = retries[0].received_at - refused.received_at
        yield Note(f"refused {refused.webhook_id} once; its retry came {delay:.1f} s later")
    else:
        raise RuleSkipped(
            f"no retry of {refused.webhook_id} (refused with 503) within --timeout {session.timeout:g} s; "
            f"the contract's first retry is {delivery(ctx.contract.spec).retry_schedule_seconds[0]:g} s "
            "after the attempt (a deployment may compress or stretch it)"
        )
