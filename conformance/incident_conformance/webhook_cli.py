"""`incident-conformance webhooks`: the receiver mode, checking the webhooks a deployment delivers.

It listens on --listen (127.0.0.1, a free port, by default), makes changes through the API (a public
and a private incident, mode test unless --mode standard, each edited, the public one moved to another
status), and judges every delivery that reaches it by the WEBHOOK rules. The operator registers
--receiver-url (the address the deployment reaches the receiver at) as a webhook endpoint for the
contract's events beforehand, and passes that endpoint's signing secret as --secret.

Exit codes as the main run: 0 every selected rule passed (skipped ones do not fail a run), 1 a rule
failed or could not finish, 2 the run could not start (bad arguments, target unreachable, key rejected,
address not bindable, the incidents could not be made).
"""

from __future__ import annotations

import base64
import binascii
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import httpx
from rich.console import Console
from rich.markup import escape

from incident_conformance import export, report
from incident_conformance.cli import ENV_PREFIX, CannotRun, HeaderType, _load, _preflight
from incident_conformance.context import Options, RunContext
from incident_conformance.contract import Contract
from incident_conformance.findings import RuleSkipped
from incident_conformance.marks import NAME_PREFIX, TEST_MODE
from incident_conformance.pacing import DEFAULT_RETRIES, DEFAULT_WAIT, Pacer
from incident_conformance.receiver import Receiver, ReceiverLimits, parse_listen
from incident_conformance.rules import WEBHOOK, Rule, Status, select
from incident_conformance.runner import run_rules
from incident_conformance.target import Budget, BudgetExhausted, Target, tls_verify
from incident_conformance.webhook_session import CACHE_KEY, drive, event_of
from incident_contract.webhooks import delivery

__all__ = ["run_webhooks", "webhooks"]

MODES = (TEST_MODE, "standard")
CREATES = 2  # a public and a private incident


def _listen(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    try:
        return parse_listen(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(f"{value!r} is not an http(s) URL")
    return value


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--base-url", help="Base URL of the API of the deployment under test.")
@click.option("--api-key", help="A key that may create, edit and view private incidents.")
@click.option(
    "--secret",
    help="The signing secret of the webhook endpoint registered for --receiver-url (whsec_...), as the "
    "deployment shows it.",
)
@click.option(
    "--listen",
    default="127.0.0.1:0",
    show_default=True,
    callback=_listen,
    help="HOST:PORT the receiver binds (port 0: a free one). It binds this address only.",
)
@click.option(
    "--receiver-url",
    callback=_url,
    help="The URL at which the deployment reaches the receiver (a tunnel's public address, say). "
    "Default: the bound listen address.",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=TEST_MODE,
    show_default=True,
    help="Mode of the incidents the run creates: standard for a deployment that sends nothing for tests.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=3600),
    default=60.0,
    show_default=True,
    help="Seconds to wait, after the last change, for every expected delivery and the retry.",
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0, max=600),
    default=2.0,
    show_default=True,
    help="Seconds to keep listening after that, so that late duplicates are seen.",
)
@click.option(
    "--request-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
    help="Seconds to wait for each API answer.",
)  # fmt: skip
@click.option("--rules", "include", multiple=True, help="Run only WEBHOOK rules matching this glob.")
@click.option("--skip-rules", "exclude", multiple=True, help="Skip WEBHOOK rules matching this glob.")
@click.option("--junit-xml", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML file.")
@click.option("--json-report", type=click.Path(dir_okay=False, path_type=Path), help="Write a JSON report.")
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The contract to check against. Default: the packaged openapi.yaml.",
)
@click.option("--header", "headers", type=HeaderType(), multiple=True, help="A header sent to the API.")
@click.option(
    "--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="CA certificates for the API's TLS."
)
@click.option("--rate-limit-retries", type=click.IntRange(min=0), default=DEFAULT_RETRIES, show_default=True)
@click.option("--rate-limit-wait", type=click.FloatRange(min=0), default=DEFAULT_WAIT, show_default=True)
def webhooks(**params: Any) -> None:
    """Receive the webhooks of a deployment and check each delivery (the WEBHOOK rules)."""
    rules = select(params["include"], params["exclude"], WEBHOOK)
    missing = [name for name in ("base_url", "api_key", "secret") if not params[name]]
    if missing:
        names = ", ".join(f"--{m.replace('_', '-')}" for m in missing)
        raise click.UsageError(f"{names} required (or {ENV_PREFIX}_{missing[0].upper()})")
    if not rules:
        raise click.UsageError("no WEBHOOK rule matches --rules/--skip-rules")
    try:
        code = run_webhooks(params, rules)
    except CannotRun as exc:
        click.echo(f"incident-conformance webhooks: cannot run: {exc}", err=True)
        sys.exit(2)
    sys.exit(code)


def secret_problem(secret: str, prefix: str) -> str | None:
    """What is wrong with a signing secret's format, or None when it is `prefix` + standard base64.

    Standard Webhooks secrets are the prefix and the base64 of the key's bytes. The verifier itself skips
    characters outside base64, so a placeholder such as `whsec_...` would reach it as an empty key.
    """
    if not secret.startswith(prefix):
        return f"--secret must start with {prefix} (the endpoint's signing secret)"
    encoded = secret[len(prefix) :]
    expected = (
        f"--secret is not a usable signing secret: expected {prefix} followed by the base64 of the signing "
        f"key (the letters A-Z and a-z, digits, + and /, and = padding; Standard Webhooks keys are 24 to 64 "
        f"random bytes), copied whole from the endpoint's settings"
    )
    if not encoded:
        return f"{expected}, but nothing follows {prefix}"
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        odd = sorted({c for c in encoded if not (c.isascii() and (c.isalnum() or c in "+/="))})
        shown = " ".join(repr(c) for c in odd[:5])
        why = f"characters base64 does not use: {shown}" if odd else "base64 of the wrong length or padding"
        return f"{expected}, but what follows {prefix} has {why}"
    if not key:
        return f"{expected}, but what follows {prefix} decodes to no bytes"
    return None


def _receiver(params: dict[str, Any], prefix: str) -> Receiver:
    secret = str(params["secret"])
    if (problem := secret_problem(secret, prefix)) is not None:
        raise CannotRun(problem)
    host, port = params.get("listen") or ("127.0.0.1", 0)
    try:
        return Receiver(host, port, secret, ReceiverLimits())
    except OSError as exc:
        raise CannotRun(f"cannot listen on {host}:{port}: {exc}") from None
    except Exception as exc:  # the verifier refuses the secret (bad base64, empty)
        raise CannotRun(f"--secret is not a usable signing secret: {exc}") from None


def run_webhooks(params: dict[str, Any], rules: list[Rule], console: Console | None = None) -> int:
    """Listen, make the changes, judge the deliveries; returns the exit code (raises CannotRun for 2)."""
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 150)
    started = time.monotonic()
    spec = _load(params.get("spec_file"))
    contract = Contract(spec)
    receiver = _receiver(params, delivery(spec).secret_prefix)
    budget = Budget(CREATES)
    try:
        verify = tls_verify(params.get("ca_bundle"))
    except (OSError, ValueError) as exc:
        receiver.close()
        raise CannotRun(f"--ca-bundle: not a PEM file of CA certificates ({exc})") from None
    pacer = Pacer(
        params.get("rate_limit_retries", DEFAULT_RETRIES), params.get("rate_limit_wait", DEFAULT_WAIT)
    )
    headers = dict(params.get("headers") or ())
    full = Target(params["base_url"], params["api_key"], budget=budget, verify=verify, pacer=pacer,
                  timeout=params.get("request_timeout", 30.0), headers=headers)  # fmt: skip
    ctx = RunContext(contract, full, None, Options(ca_bundle=params.get("ca_bundle")))
    receiver_url = params.get("receiver_url") or receiver.url
    mode = str(params.get("mode", TEST_MODE))
    with receiver:
        console.print(f"Receiver listening on {receiver.url}; deliveries expected at {receiver_url}",
                      highlight=False, soft_wrap=True)  # fmt: skip
        try:
            _preflight(full, "--api-key", contract.path("Utilities V1#Identity"))
            session = drive(
                ctx,
                receiver,
                mode=mode,
                receiver_url=receiver_url,
                timeout=params.get("timeout", 60.0),
                settle=params.get("settle", 2.0),
            )
        except (RuleSkipped, BudgetExhausted, httpx.HTTPError) as exc:
            raise CannotRun(f"could not make the changes to be delivered: {exc}") from None
        finally:
            full.close()
    ctx.cache[CACHE_KEY] = session
    progress = report.Progress(console, len(rules))
    outcomes = run_rules(ctx, rules, progress.start, progress.done)
    seconds = time.monotonic() - started
    failed = any(o.status in (Status.FAILED, Status.ERROR) for o in outcomes)
    report.print_table(console, outcomes)
    report.print_failures(console, outcomes)
    counts = ", ".join(f"{n} {s.value}" for s in Status if (n := sum(o.status is s for o in outcomes)))
    console.print(f"\n{len(outcomes)} rules: {counts}.")
    console.print(
        f"Created {len(budget.created)} incident(s), mode {escape(mode)}, named with a {escape(NAME_PREFIX)} "
        f"prefix; expected {len(session.changes)} events; received {len(session.deliveries)} deliveries in "
        f"{session.waited:.1f} s"
        + (
            f" (all expected within {session.ready_after:.2f} s)." if session.ready_after is not None else "."
        ),
        highlight=False,
    )
    for note in session.notes:
        console.print(f"[dim]{escape(note)}[/]")
    for o in outcomes:
        for note in o.notes:
            console.print(f"[dim]{o.rule.id}: {escape(note)}[/]")
    console.print(f"Finished in {seconds:.1f} s with {full.count} API requests.")
    if params.get("junit_xml"):
        export.write_junit(params["junit_xml"], outcomes, seconds)
    if params.get("json_report"):
        meta = {"tool": "incident-conformance webhooks", "base_url": full.base_url,
                "receiver_url": receiver_url, "seconds": round(seconds, 3), "exit_code": int(failed),
                "ready_after_seconds": session.ready_after,
                "created": {"incidents": list(budget.created), "mode": mode,
                            "name_prefix": NAME_PREFIX},
                "changes": [vars(c) for c in session.changes],
                "deliveries": [{"webhook_id": d.webhook_id, "event_type": event_of(d), "answered": d.answered,
                                "bytes": len(d.body), "signature_error": d.signature_error}
                               for d in session.deliveries]}  # fmt: skip
        export.write_json(params["json_report"], export.json_report(outcomes, meta))
    return 1 if failed else 0
