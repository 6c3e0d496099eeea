"""Reproductions of Schemathesis failures: the request as sent, the key and secret headers [REDACTED].

Body values (idempotency keys included) are shown as sent; an ignored_auth probe shows the credential it
carried (Schemathesis' own made-up one) or that it carried none.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import schemathesis
from click.testing import CliRunner
from schemathesis.openapi.checks import IgnoredAuth
from schemathesis.specs.openapi._auth_retry import INVALID_AUTH_HEADERS

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_conformance.schemathesis_repro import credential_sent, reproduce, sanitization
from incident_mock.app import create_app
from tests.conformance.helpers import offline_context
from tests.conformance.wire import Answer, Request, Wire
from tests.servers import serve

BAD = INVALID_AUTH_HEADERS["_bearer_auth"]


def operation(path: str, method: str) -> Any:
    ctx = offline_context()
    schema = schemathesis.openapi.from_dict(copy.deepcopy(ctx.contract.spec))
    schema.config.update(base_url=ctx.full.base_url)
    return schema[path][method]


def context() -> Any:
    ctx = offline_context()
    ctx.full.key = "real-key-123"
    ctx.full.headers = {"X-Tenant": "acme", "X-Api-Token": "sekrit-456"}
    return ctx


def ignored(case: Any) -> IgnoredAuth:
    from schemathesis.specs.openapi.checks import AuthScenario

    return IgnoredAuth(operation="POST /v2/incidents", message="m", scenario=AuthScenario.INVALID_AUTH,
                       case_id=case.id)  # fmt: skip


def test_a_case_shows_the_key_as_redacted_and_body_values_as_sent() -> None:
    case = operation("/v2/incidents", "POST").Case(body={"idempotency_key": "conformance-abc-1"})
    line = reproduce(context(), case) or ""
    assert "'Authorization: Bearer [REDACTED]'" in line and "real-key-123" not in line
    assert "'X-Tenant: acme'" in line and "'X-Api-Token: [REDACTED]'" in line and "sekrit-456" not in line
    assert "conformance-abc-1" in line and "[Filtered]" not in line


def test_an_ignored_auth_probe_shows_the_bad_credential_it_sent_or_that_it_sent_none() -> None:
    ctx = context()
    probe = operation("/v2/incidents", "POST").Case(
        body={}, headers={"Authorization": BAD, **ctx.full.headers}
    )
    line = reproduce(ctx, probe, ignored(probe)) or ""
    assert f"'Authorization: {BAD}'" in line and "real-key-123" not in line and "sekrit-456" not in line
    assert credential_sent(ctx, probe, ignored(probe)) == f"sent with Authorization: {BAD}"
    bare = operation("/v2/incidents", "POST").Case(body={})
    line = reproduce(ctx, bare, ignored(bare)) or ""
    assert "Authorization" not in line
    assert credential_sent(ctx, bare, ignored(bare)) == "sent without an Authorization header"
    assert credential_sent(ctx, bare, None) == ""


def test_schemathesis_own_output_says_redacted_and_masks_no_body_field() -> None:
    config = sanitization(context())
    assert config["replacement"] == "[REDACTED]"
    assert "x-api-token" in config["keys-to-sanitize"] and "x-tenant" not in config["keys-to-sanitize"]
    assert "key" not in config["sensitive-markers"]  # idempotency_key stays readable


def test_a_schemathesis_run_sends_the_extra_headers_and_its_ignored_auth_failure_shows_the_bad_token(
    tmp_path: Path,
) -> None:
    """End to end: a server that takes any bearer token; Schemathesis' probe with its own token gets in."""

    class AnyBearerToken(Wire):
        def __init__(self, app: Any) -> None:
            super().__init__(app)
            self.tenants: list[tuple[str | None, bool]] = []  # (X-Tenant, sent by Schemathesis)

        def request(self, request: Request) -> Request | Answer:
            self.tenants.append(
                (request.header("x-tenant"), request.header("x-schemathesis-testcaseid") is not None)
            )
            token = request.header("authorization") or ""
            if token.startswith("Bearer ") and not token.startswith("Bearer mock-key-"):
                return request.with_header("authorization", "Bearer mock-key-full")
            return request

    wire = AnyBearerToken(create_app())
    report = tmp_path / "r.json"
    with serve(wire) as url:
        args = ["--base-url", url, "--api-key", "mock-key-full", "--seed", "1", "--rules", "SCHEMA-1",
                "--schema-max-examples", "1", "--header", "X-Tenant: acme", "--header", "X-Api-Token: sekrit-456",
                "--json-report", str(report)]  # fmt: skip
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
    text = result.output + report.read_text()
    assert result.exit_code == 1
    failures = json.loads(report.read_text())["rules"][0]["failures"]
    ignored = [f for f in failures if "(ignored_auth)" in f["title"]]
    assert ignored and all(f"'Authorization: {BAD}'" in f["reproduce"] for f in ignored), ignored
    assert all(f"sent with Authorization: {BAD}" in f["received"] for f in ignored)
    assert "mock-key-full" not in text and "sekrit-456" not in text and "[Filtered]" not in text
    assert {tenant for tenant, _ in wire.tenants} == {"acme"} and any(st for _, st in wire.tenants)
