"""The webhooks page: how messages are delivered (`x-webhook-delivery`) and one section per event of
`x-webhooks`, with its signing headers, its message schema and the schema's example.

Swagger UI shows no `x-` extension, so this page is where the webhooks are documented: the static site
writes it as ``webhooks.html``, and the mock serves the same page at ``/docs/webhooks.html``.
"""

from __future__ import annotations

from incident_contract.docs.markup import Spec, esc, json_block, markdown, slug
from incident_contract.docs.reference import parameters_table, properties_of
from incident_contract.refs import resolve
from incident_contract.webhooks import delivery, events

__all__ = ["has_webhooks", "webhook_sections"]


def has_webhooks(spec: Spec) -> bool:
    return bool(spec.get("x-webhooks"))


def _delivery(spec: Spec) -> tuple[str, str, str]:
    promises = delivery(spec)
    waits = ", ".join(f"{seconds:g} s" for seconds in promises.retry_schedule_seconds)
    table = (
        '<table class="delivery">'
        f"<tr><th>signature scheme</th><td><code>{esc(promises.signature_scheme)}</code></td></tr>"
        f"<tr><th>message id prefix</th><td><code>{esc(promises.message_id_prefix)}</code></td></tr>"
        f"<tr><th>secret prefix</th><td><code>{esc(promises.secret_prefix)}</code></td></tr>"
        f"<tr><th>attempt timeout</th><td>{promises.attempt_timeout_seconds:g} s</td></tr>"
        f"<tr><th>waits before each retry</th><td>{esc(waits)}</td></tr>"
        f"<tr><th>attempts in all</th><td>{promises.attempts}</td></tr></table>"
    )
    return "delivery", "Delivery", markdown(promises.description) + table


def _event(spec: Spec, name: str) -> tuple[str, str, str]:
    event = events(spec)[name]
    params = tuple(resolve(spec, p) for p in event.raw.get("parameters", ()))
    message = resolve(spec, {"$ref": f"#/components/schemas/{event.schema}"})
    example = json_block(message["example"]) if "example" in message else ""
    body = (
        f'<p class="summary">{esc(event.summary)}</p>'
        f'<div class="description">{markdown(event.description)}</div>'
        f"<p>Sent as <code>POST</code> to each endpoint registered for <code>{esc(name)}</code>, with "
        f"the message schema <code>{esc(event.schema)}</code>; its payload, under the key "
        f"<code>{esc(name)}</code>, is <code>{esc(event.payload_schema)}</code>.</p>"
        f"{parameters_table(params, 'Headers')}<h4>Message</h4>{properties_of(spec, message)}"
        f'<div class="examples"><p>Example:</p>{example}</div>'
    )
    return "event-" + slug(name), name, body


def webhook_sections(spec: Spec) -> list[tuple[str, str, str]]:
    """(anchor, title, html) for the delivery rules, then each event in the document's order."""
    return [_delivery(spec), *(_event(spec, name) for name in events(spec))]
