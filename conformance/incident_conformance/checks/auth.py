"""AUTH: who may call what. 401 for missing or unknown keys, 403 for a missing scope, on every operation.

The operations, their scopes and the roles that grant them are read from the contract
(`x-rbac-scopes`, `x-api-key-roles`), so a new operation is covered without touching this file. The
operations an alert source's own token authenticates (their `security` names it) are not API-key
operations, and these rules leave them out.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from incident_conformance.context import RunContext
from incident_conformance.rules import Finding, Level, Note, expect, rule
from incident_conformance.target import Exchange, Target

IDENTITY = "Utilities V1#Identity"
MISSING = "missing_authorization_material"
UNKNOWN = "invalid_authorization"


def call(ctx: RunContext, target: Target, operation_id: str, **kwargs: Any) -> Exchange:
    """Call an operation with placeholder path ids and, for writes, a body that is not valid.

    A body that fails validation keeps a broken server from writing anything, and the contract says
    auth and scopes are checked before the body.
    """
    method = ctx.contract.method(operation_id)
    body: Any = {} if ctx.contract.body_schema(operation_id) is not None else None
    if body is not None:
        kwargs.setdefault("json_body", body)
    return target.request(method, ctx.path(operation_id, id="conformance-unknown-id"), **kwargs)


@rule(
    "AUTH-1",
    Level.MUST,
    "missing_authorization_is_rejected_with_401",
    "No Authorization header, another scheme or an empty bearer token: 401 authentication_error, code "
    "missing_authorization_material, with WWW-Authenticate: Bearer, on every operation.",
)
def missing_authorization(ctx: RunContext) -> Iterator[Finding]:
    variants: dict[str, str | None] = {"no header": None, "Basic scheme": "Basic Y29uZm9ybWFuY2U6eA==",
                                       "empty bearer token": "Bearer"}  # fmt: skip
    for operation_id in ctx.contract.by_api_key():
        for label, value in variants.items():
            answer = call(ctx, ctx.full, operation_id, authorization=value)
            title = f"{operation_id} with {label}"
            if (failure := ctx.expect_error(answer, title, 401, MISSING)) or (
                failure := expect(
                    answer.headers.get("www-authenticate", "").lower().startswith("bearer"),
                    title,
                    "WWW-Authenticate: Bearer",
                    f"WWW-Authenticate: {answer.headers.get('www-authenticate')!r}",
                    answer.curl,
                )
            ):
                yield failure


@rule(
    "AUTH-2",
    Level.MUST,
    "unknown_key_is_rejected_with_401",
    "A bearer token that is not a known key: 401 authentication_error, code invalid_authorization, on every "
    "operation, even when the body is invalid too (auth is checked first).",
)
def unknown_key(ctx: RunContext) -> Iterator[Finding]:
    token = f"Bearer conformance-{secrets.token_hex(12)}"
    for operation_id in ctx.contract.by_api_key():
        answer = call(ctx, ctx.full, operation_id, authorization=token)
        if failure := ctx.expect_error(answer, f"{operation_id} with an unknown key", 401, UNKNOWN):
            yield failure


def key_scopes(ctx: RunContext, target: Target) -> tuple[list[str], frozenset[str]]:
    """The roles identity reports for a key, and the scopes the contract says they grant."""
    answer = target.request("GET", ctx.path(IDENTITY))
    roles = ((answer.json() or {}).get("identity") or {}).get("roles") or []
    grants = ctx.contract.roles()
    return roles, frozenset().union(*(grants.get(r, frozenset()) for r in roles))


@rule(
    "AUTH-3",
    Level.MUST,
    "key_without_scope_is_forbidden_with_403",
    "A valid key whose roles lack an operation's x-rbac-scopes gets 403 resource_forbidden, code "
    "missing_scope, naming the scope and the roles that grant it, whatever the body; operations its roles "
    "cover are not refused with 401 or 403.",
    needs_viewer=True,
)
def missing_scope(ctx: RunContext) -> Iterator[Finding]:
    viewer = ctx.viewer_target()
    roles, scopes = key_scopes(ctx, viewer)
    for operation_id in ctx.contract.by_api_key():
        needed = [s for s in ctx.contract.scopes(operation_id) if s not in scopes]
        answer = call(ctx, viewer, operation_id)
        title = f"{operation_id} with the viewer key (roles {', '.join(roles) or 'none'})"
        if not needed:
            ok = answer.status not in (401, 403)
            if failure := expect(ok, title, "not 401 or 403", answer.describe(), answer.curl):
                yield failure
        elif failure := ctx.expect_error(answer, title, 403, "missing_scope"):
            yield failure
        else:
            message = " ".join(str(e.get("message", "")) for e in (answer.json() or {}).get("errors", []))
            names = [needed[0], *ctx.contract.roles_granting(needed[0])]
            if failure := expect(
                all(n in message for n in names),
                f"{title}: message",
                f"a message naming {', '.join(names)}",
                repr(message),
                answer.curl,
            ):
                yield failure


@rule(
    "AUTH-4",
    Level.MUST,
    "identity_reports_the_key_roles",
    "GET /v1/identity answers 200 with the roles the key holds: every role of x-api-key-roles for --api-key, "
    "exactly viewer for --viewer-key.",
    calls=(IDENTITY,),  # any valid key may call it: the roles it reports are the rule's to judge
)
def identity_roles(ctx: RunContext) -> Iterator[Finding]:
    expected = sorted(ctx.contract.roles())
    keys = [("--api-key", ctx.full, expected)]
    if ctx.viewer is not None:
        keys.append(("--viewer-key", ctx.viewer, ["viewer"]))
    else:
        yield Note("--viewer-key not given: only the full key's identity was checked")
    for label, target, want in keys:
        answer = target.request("GET", ctx.path(IDENTITY))
        body = answer.json() or {}
        errors = ctx.contract.schema_errors("UtilitiesIdentityResultV1", body)
        if failure := expect(
            answer.status == 200 and not errors, f"identity of {label}", "200 UtilitiesIdentityResultV1",
            f"{answer.describe()} {'; '.join(errors)}", answer.curl,
        ):  # fmt: skip
            yield failure
            continue
        roles = sorted(body["identity"]["roles"])
        hint = " (is it a key holding every role?)" if label == "--api-key" and set(roles) < set(want) else ""
        if failure := expect(
            roles == want, f"roles of {label}{hint}", f"roles {want}", f"roles {roles}", answer.curl
        ):
            yield failure
