"""incident-conformance: check a running server against openapi.yaml, rule by rule.

Exit codes: 0 every selected rule passed (skipped rules do not fail a run), 1 a rule failed or could not
finish, 2 the suite could not run (bad arguments, target unreachable, key rejected, invalid spec, or, on
the mock, --api-key lacking scopes the selected rules need; see scopes.py).
Every option can also be set as an environment variable INCIDENT_CONFORMANCE_<OPTION>.
`incident-conformance webhooks` is the webhook receiver mode (see webhook_cli.py); --list-rules lists its
WEBHOOK rules too.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console

from incident_conformance import export, families, report, scopes
from incident_conformance.context import Options, RunContext
from incident_conformance.contract import Contract
from incident_conformance.marks import NAME_PREFIX
from incident_conformance.pacing import DEFAULT_RETRIES, DEFAULT_WAIT, Pacer
from incident_conformance.rules import API, Status, select
from incident_conformance.runner import run_rules
from incident_conformance.schemathesis_run import PROFILES, SCENARIOS_PER_EXAMPLE
from incident_conformance.scopes import SKIP_OPTION
from incident_conformance.settings import SettingsLedger, SnapshotFailed
from incident_conformance.target import Budget, Exchange, Target, tls_verify
from incident_contract.document import Spec, load_spec, spec_path, validate

__all__ = ["main", "run"]

ENV_PREFIX = "INCIDENT_CONFORMANCE"


class CannotRun(Exception):
    """The suite cannot start; the message is the one-line reason (exit code 2)."""


TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP field name (RFC 9110 token)
OWN_HEADERS = ("authorization", "content-type", "content-length")  # the suite sets these per request


class HeaderType(click.ParamType):  # type: ignore[type-arg]
    """`Name: value`; in the environment variable, one header per line."""

    name = "'NAME: VALUE'"
    envvar_list_splitter = "\n"

    def split_envvar_value(self, rv: str) -> list[str]:
        return [line for line in rv.splitlines() if line.strip()]

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        name, colon, rest = str(value).partition(":")
        name, rest = name.strip(), rest.strip()
        if not colon or not TOKEN.fullmatch(name) or any(c in rest for c in "\r\n\0"):
            self.fail(f"{value!r} is not 'Name: value'", param, ctx)
        if name.lower() in OWN_HEADERS:
            self.fail(f"{name} is the suite's own (the keys give Authorization)", param, ctx)
        return name, rest


def _load(path: Path | None) -> Spec:
    try:
        spec = load_spec(path)
        validate(spec)
    except Exception as exc:
        raise CannotRun(f"the spec {path or spec_path()} is not a valid OpenAPI document: {exc}") from None
    return spec


def _preflight(target: Target, label: str, identity_path: str) -> Exchange:
    """The key's identity; CannotRun when the target is unreachable or refuses the key."""
    try:
        answer = target.request("GET", identity_path)
    except httpx.HTTPError as exc:
        raise CannotRun(f"target {target.base_url} unreachable: {exc}") from None
    if answer.status in (401, 403):
        raise CannotRun(f"the target rejected {label} ({answer.describe()})")
    if answer.status != 200:
        raise CannotRun(f"GET {identity_path} with {label} answered {answer.describe()}")
    return answer


def _key_check(ctx: RunContext, rules: list[Any], identity: Exchange, skip_missing: bool) -> dict[str, str]:
    """Measure --api-key against the scopes the rules need; the rules to skip, with the reason.

    On the mock, a key lacking scopes stops the run (CannotRun) unless they are to be skipped; on another
    target it is a warning, and the rules run.
    """
    # Rules skipped for want of --viewer-key or --creator-key need nothing of --api-key.
    runnable = [
        r for r in rules if (ctx.viewer or not r.needs_viewer) and (ctx.creator or not r.needs_creator)
    ]
    check = scopes.check_key(ctx.contract, runnable, identity.json(), ctx.options.allow_settings_writes)
    if check is None:
        click.echo(
            f"incident-conformance: warning: GET {ctx.path('Utilities V1#Identity')} named no roles for "
            "--api-key, so its scopes were not checked (AUTH-4 judges that answer)",
            err=True,
        )
        return {}
    ctx.key_scopes = check.held
    if not check.lacking:
        return {}
    line = check.line(len(rules))
    if skip_missing:
        click.echo(f"incident-conformance: skipping {len(check.lacking)} rule(s): {line}", err=True)
        return {rule_id: check.reason(rule_id) for rule_id in check.lacking}
    if scopes.is_mock(ctx.full):
        raise CannotRun(f"{line}. Use a key with those roles, or {SKIP_OPTION} to skip those rules")
    click.echo(
        f"incident-conformance: warning: {line} (by the contract's roles; this target's may differ, so they "
        f"run; {SKIP_OPTION} skips them)",
        err=True,
    )
    return {}


def _snapshot(ctx: RunContext) -> SettingsLedger:
    """Protect the target's severities before any settings write (see conformance.settings)."""
    try:
        ledger = SettingsLedger.snapshot(ctx.contract, ctx.full, ctx.run_id)
    except (SnapshotFailed, httpx.HTTPError) as exc:
        raise CannotRun(f"--allow-settings-writes: cannot list the severities to protect: {exc}") from None
    for other in (ctx.viewer, ctx.creator):
        if other is not None:
            other.guard = ledger.guard
    return ledger


def _list_rules(fmt: str, rules: Any, spec_file: Path | None) -> None:
    if fmt == "markdown":
        click.echo(report.rules_markdown(rules))
    elif fmt == "json":
        contract = Contract(_load(spec_file))
        data = [{"id": r.id, "level": r.level.value, "name": r.name, "summary": r.summary,
                 "needs_viewer_key": r.needs_viewer, "needs_creator_key": r.needs_creator,
                 "operations": r.operations(contract), "scopes": sorted(r.scopes(contract))}
                for r in rules]  # fmt: skip
        click.echo(json.dumps(data, indent=2))
    else:
        for r in rules:
            click.echo(f"{r.id:<11} {r.level.value:<6} {r.name}")


@click.command(
    context_settings={
        "help_option_names": ["-h", "--help"],
        "max_content_width": 110,
        "auto_envvar_prefix": ENV_PREFIX,
    },
    epilog="The webhooks a deployment sends: see the receiver mode, incident-conformance webhooks --help.",
)
@click.option("--base-url", help="Base URL of the server under test, e.g. http://127.0.0.1:8080.")
@click.option("--api-key", help="A key holding every role of the contract.")
@click.option(
    "--viewer-key", help="A key holding only the viewer role (enables the 403 and private-visibility rules)."
)
@click.option(
    "--creator-key",
    help="A key that may create incidents but not see private ones (enables IDEMP-6, the replay of another "
    "key's create; the mock's is mock-key-creator).",
)
@click.option(
    "--spec",
    "spec_file",
    envvar=f"{ENV_PREFIX}_SPEC",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The contract to check against. Default: the packaged openapi.yaml (never the target's).",
)
@click.option("--profile", type=click.Choice(["quick", "thorough"]), default="quick", show_default=True,
              help="quick: the always-checked families and a sample of the others, drawn from --seed; "
              "thorough: every family, with more examples.")  # fmt: skip
@click.option(
    "--family",
    "families",
    multiple=True,
    envvar=f"{ENV_PREFIX}_FAMILY",
    help="Check this family of operations (one of the contract's tags, e.g. 'Catalog'; repeatable) "
    "instead of the profile's choice.",
)
@click.option("--seed", type=int, help="Seed for generated data (printed at the end; default random).")
@click.option(
    "--rules",
    "include",
    envvar=f"{ENV_PREFIX}_RULES",
    multiple=True,
    help="Run only rules matching this glob (repeatable, comma-separated).",
)
@click.option(
    "--skip-rules",
    "exclude",
    multiple=True,
    envvar=f"{ENV_PREFIX}_SKIP_RULES",
    help="Skip rules matching this glob (repeatable).",
)
@click.option("--list-rules", is_flag=True, help="List the selected rules and exit.")
@click.option(
    SKIP_OPTION,
    "skip_missing_scopes",
    is_flag=True,
    help="Skip, with the reason, the rules that need scopes --api-key lacks (its roles, from GET "
    "/v1/identity, mapped through the contract's x-api-key-roles). Without it, such a key stops a run "
    "against the mock (exit 2), and elsewhere is a warning.",
)
@click.option(
    "--format",
    "list_format",
    envvar=f"{ENV_PREFIX}_FORMAT",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="Format of --list-rules.",
)
@click.option(
    "--junit-xml", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report."
)
@click.option("--json-report", type=click.Path(dir_okay=False, path_type=Path), help="Write a JSON report.")
@click.option(
    "--max-creates",
    type=click.IntRange(min=0),
    default=500,
    show_default=True,
    help="Create at most this many incidents.",
)
@click.option(
    "--allow-settings-writes",
    is_flag=True,
    help="Also check severity create, update and delete (only on severities the run creates and removes).",
)
@click.option(
    "--schema-max-examples",
    type=click.IntRange(min=1),
    help=f"Examples Schemathesis generates per operation; its stateful phase runs {SCENARIOS_PER_EXAMPLE} "
    f"scenarios per example. Default: {PROFILES['quick']['examples']} (quick), "
    f"{PROFILES['thorough']['examples']} (thorough). With --seed, this bounds the Schemathesis rules and "
    "makes them repeatable.",
)
@click.option(
    "--schema-max-time",
    type=click.IntRange(min=1),
    help="Keep Schemathesis generating for this many seconds: not a cap but a duration it fills (its "
    "fuzzing and stateful phases start over until the time is spent). Default: none, bounded by examples.",
)
@click.option(
    "--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for each answer."
)
@click.option(
    "--header",
    "headers",
    envvar=f"{ENV_PREFIX}_HEADER",
    type=HeaderType(),
    multiple=True,
    help="An extra header sent on every request, Schemathesis' included (repeatable; in the environment "
    "variable, one per line). Values of headers whose name looks secret (auth, token, key, cookie, ...) are "
    "shown as [REDACTED] in reproductions.",
)
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    help="PEM file of the CA certificates that verify the target's TLS certificate, instead of the system's "
    "(for an internal CA). Verification cannot be turned off: the run sends a key holding every role.",
)
@click.option(
    "--alert-source",
    help="A test HTTP alert source of the target: ALERT-1..4 fire alerts on it (and resolve them), and "
    "ROUTE-1 with --alert-route. The mock needs none: the rules make their own.",
)
@click.option(
    "--alert-source-token",
    help="The --alert-source's token, when the target does not answer it with the source.",
)
@click.option(
    "--alert-route",
    help="A test alert route of --alert-source that opens incidents: ROUTE-1 fires alerts it routes (and "
    "so opens incidents on the target).",
)
@click.option(
    "--escalation-path",
    help="A test escalation path: ESC-1 escalates to it (paging whoever it names) and cancels at once.",
)
@click.option(
    "--rate-limit-retries",
    type=click.IntRange(min=0),
    default=DEFAULT_RETRIES,
    show_default=True,
    help="A 429 answer with Retry-After is waited out and the request sent again, at most this many times "
    "per request (0: never). Past that, the 429 is the answer judged.",
)
@click.option(
    "--rate-limit-wait",
    type=click.FloatRange(min=0),
    default=DEFAULT_WAIT,
    show_default=True,
    help="Seconds the whole run may spend waiting on Retry-After; a 429 asking for more is judged as it is.",
)
def cli(**params: Any) -> None:
    """Check a server against the incident-contract, rule by rule."""  # fmt: skip
    rules = select(params["include"], params["exclude"], None if params["list_rules"] else API)
    if params["list_rules"]:
        try:
            _list_rules(params["list_format"], rules, params.get("spec_file"))
        except CannotRun as exc:
            click.echo(f"incident-conformance: cannot run: {exc}", err=True)
            sys.exit(2)
        return
    if not params["base_url"] or not params["api_key"]:
        raise click.UsageError(
            "--base-url and --api-key are required (or INCIDENT_CONFORMANCE_BASE_URL / _API_KEY)"
        )
    if not rules:
        raise click.UsageError("no rule matches --rules/--skip-rules")
    try:
        code = run(params, rules)
    except CannotRun as exc:
        click.echo(f"incident-conformance: cannot run: {exc}", err=True)
        sys.exit(2)
    sys.exit(code)


def run(params: dict[str, Any], rules: Any, console: Console | None = None) -> int:
    """Run the rules; returns the exit code (raises CannotRun for 2)."""
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 150)
    started = time.monotonic()
    spec = _load(params.get("spec_file"))
    contract = Contract(spec)
    seed = params["seed"] if params.get("seed") is not None else random.randrange(2**31)
    budget = Budget(params.get("max_creates", 500))
    pacer = Pacer(
        params.get("rate_limit_retries", DEFAULT_RETRIES), params.get("rate_limit_wait", DEFAULT_WAIT)
    )
    ca_bundle = params.get("ca_bundle")
    try:
        verify = tls_verify(ca_bundle)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise CannotRun(f"--ca-bundle {ca_bundle}: not a PEM file of CA certificates ({exc})") from None
    full = Target(params["base_url"], params["api_key"], budget=budget, timeout=params.get("timeout", 30.0),
                  headers=dict(params.get("headers") or ()), verify=verify, pacer=pacer)  # fmt: skip
    identity = contract.path("Utilities V1#Identity")
    viewer = full.with_key(params["viewer_key"]) if params.get("viewer_key") else None
    creator = full.with_key(params["creator_key"]) if params.get("creator_key") else None
    options = Options(
        params.get("profile", "quick"),
        seed,
        bool(params.get("allow_settings_writes")),
        params.get("schema_max_examples"),
        params.get("schema_max_time"),
        ca_bundle,
        tuple(params.get("families") or ()),
        params.get("alert_source"),
        params.get("alert_source_token"),
        params.get("alert_route"),
        params.get("escalation_path"),
    )
    try:
        chosen = families.chosen(contract, options.profile, seed, options.families)
    except families.UnknownFamily as exc:
        full.close()
        raise CannotRun(str(exc)) from None
    ctx = RunContext(contract, full, viewer, options, creator=creator, families=chosen)
    try:
        answer = _preflight(full, "--api-key", identity)
        skip = _key_check(ctx, rules, answer, bool(params.get("skip_missing_scopes")))
        if viewer is not None:
            _preflight(viewer, "--viewer-key", identity)
        if creator is not None:
            _preflight(creator, "--creator-key", identity)
        ctx.on_mock = scopes.is_mock(full)
        if options.allow_settings_writes:
            ctx.settings = _snapshot(ctx)
    except CannotRun:
        full.close()
        raise
    progress = report.Progress(console, len(rules))
    try:
        outcomes = run_rules(ctx, rules, progress.start, progress.done, skip)
    finally:
        try:
            if ctx.settings is not None:
                ctx.settings.cleanup()
        finally:
            full.close()
    seconds = time.monotonic() - started
    failed = any(o.status in (Status.FAILED, Status.ERROR) for o in outcomes)
    report.print_table(console, outcomes)
    report.print_failures(console, outcomes)
    report.print_summary(console, outcomes, budget.created, ctx.settings, seed)
    left = sorted(set(contract.families) - chosen)
    if left:
        console.print(
            f"Families checked: {', '.join(sorted(chosen))}; not checked this run: {', '.join(left)} "
            "(--profile thorough checks every family).",
            highlight=False,
        )
    console.print(f"Finished in {seconds:.1f} s with {full.count} requests (plus Schemathesis').")
    if pacer.honoured or pacer.given_back:
        console.print(f"Rate limited by the target: {pacer.summary()}.", highlight=False)
    if params.get("junit_xml"):
        export.write_junit(params["junit_xml"], outcomes, seconds)
    if params.get("json_report"):
        created = {"incidents": list(budget.created), "mode": "test", "name_prefix": NAME_PREFIX,
                   "settings_writes_allowed": options.allow_settings_writes,
                   "settings": ctx.settings.summary() if ctx.settings is not None else None}  # fmt: skip
        meta = {"tool": "incident-conformance", "base_url": full.base_url, "profile": options.profile,
                "seed": seed, "seconds": round(seconds, 3), "exit_code": int(failed),
                "created": created, "rate_limited": {"honoured": pacer.honoured,
                "waited_seconds": round(pacer.waited, 3), "given_back": pacer.given_back}}  # fmt: skip
        export.write_json(params["json_report"], export.json_report(outcomes, meta))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> None:
    import incident_conformance.checks  # noqa: F401  (registers the rules)

    cli.main(args=argv, prog_name="incident-conformance", auto_envvar_prefix=ENV_PREFIX)
