"""IDEMP: the idempotency key in a create body makes retries safe (IETF Idempotency-Key semantics).

Replays return the first incident, a changed payload is refused, concurrent retries create one
incident, a rejected create does not use up its key, and a key's idempotency keys are its own: another
API key re-sending them learns nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from incident_conformance.checks.auth import key_scopes
from incident_conformance.context import CREATE, CREATING, LIST, SHOW, VIEW_PRIVATE, RunContext, incident_of
from incident_conformance.rules import Finding, Level, RuleSkipped, expect, found, rule
from incident_conformance.target import Exchange

REPLAYED = "idempotent-replayed"


def _reordered(payload: dict[str, Any]) -> dict[str, Any]:
    """The same payload with its keys in reverse order: equal as JSON, different as bytes."""
    reordered: dict[str, Any] = json.loads(json.dumps(dict(reversed(list(payload.items())))))
    return reordered


@rule(
    "IDEMP-1",
    Level.MUST,
    "replay_with_equal_payload_returns_the_same_incident",
    "Sending a create again with the same idempotency_key and an equal payload (keys reordered) answers 200 "
    "with the first incident and Idempotent-Replayed: true, and creates no second incident.",
    calls=(*CREATING, LIST),
)
def replay(ctx: RunContext) -> Iterator[Finding]:
    payload = ctx.create_payload("replay")
    first = ctx.send_create(payload)
    original = incident_of(first)
    if failure := expect("id" in original, "first create", "an incident", first.describe(), first.curl):
        yield failure
        return
    before = ctx.total()
    again = ctx.send_create(_reordered(payload))
    success = ctx.contract.success_status(CREATE)
    yield from found(
        expect(
            again.status == success and incident_of(again).get("id") == original["id"],
            "replay of the create",
            f"{success} with incident {original['id']}",
            f"{again.status} with incident {incident_of(again).get('id')}",
            again.curl,
        ),
        expect(
            again.headers.get(REPLAYED) == "true",
            "Idempotent-Replayed header on the replay",
            "Idempotent-Replayed: true",
            f"Idempotent-Replayed: {again.headers.get(REPLAYED)!r}",
            again.curl,
        ),
        expect(
            REPLAYED not in first.headers,
            "first create",
            "no Idempotent-Replayed header",
            f"Idempotent-Replayed: {first.headers.get(REPLAYED)!r}",
            first.curl,
        ),
    )
    after = ctx.total()
    if failure := expect(
        before == after, "test-mode total after the replay", f"{before} (no duplicate)", f"{after}"
    ):
        yield failure


@rule(
    "IDEMP-2",
    Level.MUST,
    "key_reuse_with_different_payload_is_rejected",
    "Reusing an idempotency_key with a different payload is 422 validation_error, code "
    "idempotency_key_reused, field idempotency_key, and the original incident is unchanged.",
    calls=(*CREATING, SHOW),
)
def reuse(ctx: RunContext) -> Iterator[Finding]:
    payload = ctx.create_payload("reuse")
    first = ctx.send_create(payload)
    original = incident_of(first)
    if failure := expect("id" in original, "first create", "an incident", first.describe(), first.curl):
        yield failure
        return
    changed = {**payload, "name": f"{payload['name']} (changed)"}
    answer = ctx.send_create(changed)
    title = "create reusing the key with another name"
    if failure := ctx.expect_error(answer, title, 422, "idempotency_key_reused", "idempotency_key"):
        yield failure
    shown = ctx.full.request("GET", ctx.path(SHOW, id=original["id"]))
    name = incident_of(shown).get("name")
    want = f"name {payload['name']!r}"
    if failure := expect(
        name == payload["name"], "the original incident", want, f"name {name!r}", shown.curl
    ):
        yield failure


@rule(
    "IDEMP-3",
    Level.MUST,
    "concurrent_creates_with_one_key_create_one_incident",
    "N creates sent at once with one idempotency_key and an equal payload create exactly one incident, and "
    "every successful answer carries its id.",
    calls=(*CREATING, LIST),
)
def concurrent(ctx: RunContext) -> Iterator[Finding]:
    count = 40 if ctx.options.thorough else 12
    payload = ctx.create_payload("concurrent")
    ctx.full.budget.reserve(count)  # a broken server may create one per request
    before = ctx.total()
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(lambda _: ctx.send_create(payload), range(count)))
    ids = {incident_of(a).get("id") for a in answers if 200 <= a.status < 300}
    statuses = sorted({a.status for a in answers})
    after = ctx.total()
    yield from found(
        expect(
            len(ids) == 1 and None not in ids,
            f"{count} concurrent creates with one key",
            "every 2xx answer carries the same incident id",
            f"{len(ids)} distinct ids {sorted(map(str, ids))[:5]}, statuses {statuses}",
            answers[0].curl,
        ),
        expect(
            before is not None and after == before + 1,
            "test-mode total after the concurrent creates",
            f"{(before or 0) + 1} (one new incident)",
            f"{after} (was {before})",
        ),
    )


@rule(
    "IDEMP-4",
    Level.MUST,
    "rejected_create_does_not_consume_the_key",
    "A create rejected with a 4xx (here an unknown severity_id) does not use up its idempotency_key: the "
    "corrected retry with the same key creates the incident (not a replay).",
    calls=CREATING,
)
def rejected_then_retry(ctx: RunContext) -> Iterator[Finding]:
    payload = ctx.create_payload("retry")
    bad = ctx.send_create({**payload, "severity_id": f"conformance-unknown-{ctx.run_id}"})
    if failure := ctx.expect_error(
        bad, "create with an unknown severity_id", 422, "invalid_value", "severity_id"
    ):
        yield failure
    retry = ctx.send_create(payload)
    success = ctx.contract.success_status(CREATE)
    if failure := expect(
        retry.status == success and "id" in incident_of(retry) and retry.headers.get(REPLAYED) != "true",
        "corrected retry with the same key",
        f"{success}, a new incident, no Idempotent-Replayed",
        f"{retry.describe()} Idempotent-Replayed={retry.headers.get(REPLAYED)!r}",
        retry.curl,
    ):
        yield failure


@rule(
    "IDEMP-5",
    Level.MUST,
    "distinct_keys_create_distinct_incidents",
    "Creates with different idempotency_keys and otherwise equal payloads create different incidents.",
    calls=CREATING,
)
def distinct(ctx: RunContext) -> Iterator[Finding]:
    base = ctx.create_payload("distinct")
    answers = [ctx.send_create({**base, "idempotency_key": ctx.idempotency_key("d")}) for _ in range(3)]
    ids = [incident_of(a).get("id") for a in answers]
    if failure := expect(
        None not in ids and len(set(ids)) == 3 and all(REPLAYED not in a.headers for a in answers),
        "three creates with three keys",
        "three different incidents, none replayed",
        f"ids {ids}",
        answers[-1].curl,
    ):
        yield failure


def _shape(answer: Exchange) -> tuple[Any, ...]:
    """What an answer tells a client, less what differs between any two requests (ids, messages)."""
    data = answer.json()
    entries = data.get("errors") if isinstance(data, dict) and answer.status >= 400 else None
    errors = sorted(
        (str(e.get("code")), str((e.get("source") or {}).get("field")))
        for e in entries or []
        if isinstance(e, dict)
    )
    kind = data.get("type") if isinstance(data, dict) and answer.status >= 400 else None
    return answer.status, kind, tuple(errors), answer.headers.get(REPLAYED)


def _show(shape: tuple[Any, ...]) -> str:
    status, kind, errors, replayed = shape
    codes = ", ".join(f"{code}({named})" for code, named in errors)
    return f"{status} {kind or ''} {codes} Idempotent-Replayed={replayed!r}".replace("  ", " ")


@rule(
    "IDEMP-6",
    Level.MUST,
    "replay_by_another_key_reveals_nothing",
    "An idempotency_key belongs to the API key that sent it. Another key that may create but not see private "
    "incidents, re-sending a private create of --api-key with the same idempotency_key, never gets that "
    "incident back, and reusing the key with an unknown severity_id answers exactly as with a key never used "
    "(nothing tells it that another key used the idempotency_key).",
    needs_creator=True,
    calls=CREATING,
)
def other_key(ctx: RunContext) -> Iterator[Finding]:
    creator = ctx.creator_target()
    roles, scopes = key_scopes(ctx, creator)
    held = f"roles {', '.join(roles) or 'none'}"
    if VIEW_PRIVATE in scopes:
        raise RuleSkipped(f"--creator-key can see private incidents ({held}): nothing could leak to it")
    if not set(ctx.contract.scopes(CREATE)) <= scopes:
        raise RuleSkipped(f"--creator-key may not create incidents ({held})")
    path = ctx.path(CREATE)
    payload = ctx.create_payload("other-key", visibility="private")
    first = ctx.send_create(payload)
    original = incident_of(first)
    if failure := expect("id" in original, "first create", "an incident", first.describe(), first.curl):
        yield failure
        return
    # The control: the creator's own never-used key, sent what the shared one is sent, in the same order,
    # so that the answers compare whatever the target does with rejected creates (IDEMP-4's business). Its
    # name differs, so that no payload is ever sent twice (IDEMP-5's business).
    own = ctx.idempotency_key("never-used")
    control = {**payload, "idempotency_key": own, "name": f"{payload['name']} (control)"}
    unknown = {"severity_id": f"conformance-unknown-{ctx.run_id}"}
    used = creator.create_incident({**payload, **unknown}, path)
    never = creator.create_incident({**control, **unknown}, path)
    yield from found(expect(
        _shape(used) == _shape(never),
        "--creator-key reuses --api-key's idempotency_key with an unknown severity_id",
        f"the answer for a never-used idempotency_key: {_show(_shape(never))}",
        _show(_shape(used)),
        used.curl,
    ))  # fmt: skip
    again = creator.create_incident(payload, path)
    fresh = creator.create_incident(control, path)
    leaked = str(original["id"]) in again.body.decode("utf-8", errors="replace")
    yield from found(
        expect(
            not leaked,
            "--creator-key re-sends --api-key's private create with the same idempotency_key",
            f"anything but incident {original['id']} (--creator-key cannot see it)",
            f"{again.status} with incident {incident_of(again).get('id')}, "
            f"Idempotent-Replayed={again.headers.get(REPLAYED)!r}",
            again.curl,
        ),
        expect(
            leaked or _shape(again) == _shape(fresh),
            "--creator-key re-sends --api-key's private create with the same idempotency_key",
            f"the answer for a never-used idempotency_key: {_show(_shape(fresh))}",
            _show(_shape(again)),
            again.curl,
        ),
    )
