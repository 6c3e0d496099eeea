"""ERR: every error answer, from every layer, has the contract's shape.

Each status of the contract's error table (its `x-error-types`) is provoked on purpose and its
answer checked: JSON ErrorResponse, the table's `type`, `status` equal to the HTTP status, and an
X-Request-Id header equal to `request_id`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from incident_conformance.context import CREATE, CREATING, EDIT, LIST, SHOW, RunContext
from incident_conformance.marks import NAME_PREFIX
from incident_conformance.rules import Finding, Level, Note, expect, rule
from incident_conformance.target import Exchange
from incident_contract.document import HTTP_METHODS

Provoke = Callable[[RunContext], Exchange | None]


def _provocations(ctx: RunContext) -> dict[str, tuple[int, Provoke]]:
    def viewer_create(ctx: RunContext) -> Exchange | None:
        return ctx.viewer.request("POST", ctx.path(CREATE), json_body={}) if ctx.viewer else None

    json_type = {"Content-Type": "application/json"}
    limit = ctx.contract.max_body_bytes

    def post(ctx: RunContext, content: bytes, headers: dict[str, str]) -> Exchange:
        return ctx.full.request("POST", ctx.path(CREATE), content=content, headers=headers)

    return {
        "malformed JSON": (400, lambda c: post(c, b'{"name": ', json_type)),
        "a body that is not UTF-8": (400, lambda c: post(c, b'{"n": "\xff"}', json_type)),
        "a text/plain body": (400, lambda c: post(c, b"name=x", {"Content-Type": "text/plain"})),
        "no API key": (401, lambda c: c.full.request("GET", c.path(LIST), authorization=None)),
        "a viewer create": (403, viewer_create),
        "an unknown incident": (404, lambda c: c.full.request("GET", c.path(SHOW, id=f"missing-{c.run_id}"))),
        "an unknown path": (404, lambda c: c.full.request("GET", f"{c.path(SHOW)}/conformance-{c.run_id}")),
        "a method the path does not offer": (405, lambda c: c.full.request("DELETE", c.path(LIST))),
        f"a body over {limit} bytes": (413, lambda c: post(c, b" " * (limit + 16), json_type)),
        "an empty create body object": (422, lambda c: c.full.request("POST", c.path(CREATE), json_body={})),
    }


def _answers(ctx: RunContext) -> Iterator[tuple[str, int, Exchange] | Note]:
    """(label, the status the contract wants, the answer) for each provocation; a Note for those left out."""
    for label, (status, provoke) in _provocations(ctx).items():
        answer = provoke(ctx)
        yield (
            Note(f"not provoked without --viewer-key: {label}") if answer is None else (label, status, answer)
        )


@rule(
    "ERR-1",
    Level.MUST,
    "every_error_answer_matches_error_response",
    "Each error status of the contract's table (400, 401, 403, 404, 405, 413, 422) is application/json with "
    "an ErrorResponse body whose type is the table's type for that status and whose status field equals it.",
    calls=(CREATE, SHOW),  # the list is asked without a key
)
def error_shape(ctx: RunContext) -> Iterator[Finding]:
    table = ctx.contract.error_types
    for provoked in _answers(ctx):
        if isinstance(provoked, Note):
            yield provoked
            continue
        label, status, answer = provoked
        body = answer.json()
        problems = ctx.contract.schema_errors("ErrorResponse", body) if body is not None else ["not JSON"]
        ctype = answer.headers.get("content-type", "")
        if failure := expect(
            answer.status == status and ctype.startswith("application/json") and not problems
            and body.get("type") == table.get(status) and body.get("status") == status,
            f"error for {label}",
            f"{status} application/json ErrorResponse with type {table.get(status)} and status {status}",
            f"{answer.status} {ctype}: {'; '.join(problems) or answer.describe()}",
            answer.curl,
        ):  # fmt: skip
            yield failure


@rule(
    "ERR-2",
    Level.MUST,
    "error_request_id_is_unique_and_sent_as_header",
    "Every error answer carries a request_id that is unique per request and equal to its X-Request-Id "
    "header.",
    calls=(CREATE, SHOW),  # the list is asked without a key
)
def request_ids(ctx: RunContext) -> Iterator[Finding]:
    seen: set[str] = set()
    for provoked in _answers(ctx):
        if isinstance(provoked, Note):
            yield provoked
            continue
        label, _, answer = provoked
        body = answer.json()
        rid = body.get("request_id") if isinstance(body, dict) else None
        header = answer.headers.get("x-request-id")
        title = f"error for {label}"
        got = f"request_id {rid!r}, X-Request-Id {header!r}"
        if failure := expect(
            bool(rid) and rid == header, title, "X-Request-Id equal to request_id", got, answer.curl
        ):
            yield failure
        if failure := expect(rid not in seen, title, "a new request_id", f"{rid!r} seen before", answer.curl):
            yield failure
        seen.add(str(rid))


@rule(
    "ERR-3",
    Level.MUST,
    "method_not_allowed_lists_the_offered_methods",
    "A method a known path does not offer is 405 method_not_allowed with an Allow header listing exactly the "
    "methods the contract offers on that path.",
)
def allow_header(ctx: RunContext) -> Iterator[Finding]:
    for path, item in ctx.contract.spec["paths"].items():
        offered = {m.upper() for m in HTTP_METHODS if m in item}
        method = next(m for m in ("PATCH", "DELETE", "PUT", "POST") if m not in offered)
        answer = ctx.full.request(method, path.replace("{id}", "conformance-unknown"))
        if failure := ctx.expect_error(answer, f"{method} {path}", 405, "method_not_allowed"):
            yield failure
            continue
        allow = {m.strip().upper() for m in answer.headers.get("allow", "").split(",") if m.strip()}
        if failure := expect(allow == offered, f"{method} {path}", f"Allow: {', '.join(sorted(offered))}",
                             f"Allow: {answer.headers.get('allow')!r}", answer.curl):  # fmt: skip
            yield failure


@rule(
    "ERR-4",
    Level.MUST,
    "non_ascii_text_never_causes_a_server_error",
    "Names and summaries in any script (accents, CJK, right-to-left, emoji) are accepted on create and edit, "
    "and read back unchanged; no answer is a 5xx.",
    calls=(*CREATING, EDIT),
)
def non_ascii(ctx: RunContext) -> Iterator[Finding]:
    samples = [
        "Zahlungsausfall \u2013 Größe",
        "支付超时",
        "خطأ في الدفع",
        "Checkout 🔥💳",
        "Ñandú\u00a0naïve",
    ]
    for text in samples:
        exchange, incident = ctx.create("non-ascii", name=f"{NAME_PREFIX} {text}", summary=text)
        if failure := expect(
            exchange.status < 500 and incident.get("name") == f"{NAME_PREFIX} {text}",
            f"create named {text!r}",
            "the incident, name unchanged",
            exchange.describe(),
            exchange.curl,
        ):
            yield failure
            continue
        body = {"incident": {"summary": text[::-1]}, "notify_incident_channel": False}
        edit = ctx.full.request("POST", ctx.path(EDIT, id=incident["id"]), json_body=body)
        summary = ((edit.json() or {}).get("incident") or {}).get("summary")
        if failure := expect(edit.status == 200 and summary == text[::-1], f"edit summary to {text[::-1]!r}",
                             "200 with the new summary", edit.describe(), edit.curl):  # fmt: skip
            yield failure
