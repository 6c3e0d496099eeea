"""incident-mock: run the mock, or write the static docs."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import click
from click.decorators import FC

from incident_mock.domain.limits import Limits
from incident_mock.domain.records import ApiKey
from incident_mock.domain.settings import DEFAULT_PORT, MockSettings, TransportLimits, WebhookSettings
from incident_mock.kit.fault_file import FaultFileError, arm_file
from incident_mock.kit.fixtures_check import FixturesInvalid
from incident_mock.server import ADMIN_TOKEN_ENV, MockServer, Refused, raise_descriptor_limit

__all__ = ["main"]

CREATE_TOKEN_ENV = "INCIDENT_MOCK_SANDBOX_CREATE_TOKEN"

KEYS_HELP = """\b
Default keys (from the packaged fixtures):
  mock-key-full     viewer, incident_creator, incident_editor, global_access, manage_settings
  mock-key-creator  incident_creator
  mock-key-viewer   viewer
"""


SETTINGS = MockSettings()  # every default shown in --help comes from here
TRANSPORT, WEBHOOKS, DEFAULTS = SETTINGS.transport, SETTINGS.webhooks, SETTINGS.limits


def count_option(flag: str, default: int, help: str) -> Callable[[FC], FC]:
    """An option taking a whole number of at least 1, its default shown in --help."""
    return click.option(flag, default=default, show_default=True, type=click.IntRange(min=1), help=help)


def banner(base: str, address: str, keys: list[ApiKey], started: float, admin: bool = False) -> str:
    lines = [
        f"incident-mock ready in {time.perf_counter() - started:.2f} s",
        f"  base URL   {base}",
        *([f"  listening  {address}"] if address != base else []),
        f"  docs       {base}/docs/   (contract: {base}/openapi.yaml, {base}/openapi.json)",
        f"  control    {base}/_mock/sandboxes   (sandboxes, journals, reset: {base}/control-plane.yaml)"
        + ("   (Authorization: Bearer <admin token>)" if admin else ""),
        f"  dashboard  {base}/dashboard   (sandboxes, incidents, journals)"
        + ("   (Basic auth: any user, the admin token as password)" if admin else ""),
        "  API keys   (send as Authorization: Bearer <key>)",
        *(f"    {k.token:<18} {', '.join(k.roles)}" for k in keys),
    ]
    return "\n".join(lines)


@click.group(invoke_without_command=True, epilog=KEYS_HELP)
@click.option("--host", default=SETTINGS.host, show_default=True, help="Address to bind.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535), help="Port to bind."
)
@click.option(
    "--public-url",
    metavar="URL",
    help="Where clients reach the mock (served contract's servers, permalinks, dashboard_url); "
    "default: the bound address and port.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    metavar="NAME",
    multiple=True,
    help="Also accept this Host header (repeatable); localhost, 127.0.0.1, [::1], the bound host and "
    "the public URL's host always are. Others get 421.",
)
@click.option(
    "--admin-token",
    envvar=ADMIN_TOKEN_ENV,
    metavar="TOKEN",
    help=f"Require Authorization: Bearer TOKEN on /_mock/ (env {ADMIN_TOKEN_ENV}); "
    "needed to bind beyond loopback.",
)
@click.option(
    "--sandbox-create-token",
    envvar=CREATE_TOKEN_ENV,
    metavar="TOKEN",
    help=f"With --admin-token: a token that may only create sandboxes (env {CREATE_TOKEN_ENV}); each "
    "sandbox created answers its own control token, which manages that sandbox alone.",
)
@click.option(
    "--sandbox-idle-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Delete sandboxes nobody used for SECONDS (never the default one); their tokens then answer 401 "
    "sandbox_expired. Off by default.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    metavar="ORIGIN",
    multiple=True,
    help="Let browser pages on ORIGIN (e.g. http://localhost:3000, or *) call the API (repeatable); "
    "off by default, never on /_mock/.",
)
@click.option(
    "--max-header-bytes",
    default=TRANSPORT.max_head_bytes,
    show_default=True,
    type=click.IntRange(min=1024),
    help="Largest request line plus headers; 431 beyond. Keep it well above the contract's "
    "x-max-url-bytes, which must always fit.",
)
@count_option("--max-headers", TRANSPORT.max_headers, "Most headers in one request; 431 beyond.")
@click.option(
    "--request-timeout",
    default=TRANSPORT.request_timeout,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds to send a whole request (from its first byte, or from connecting); 408 and close beyond.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    help="Connections held at once; past it the oldest idle ones are closed. Default: the open-file limit "
    "less 128 (incident-mock lifts that limit to up to 65536).",
)
@click.option(
    "--keep-alive-timeout",
    default=TRANSPORT.keep_alive_timeout,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds an idle kept-alive connection stays open.",
)
@click.option(
    "--fixtures",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML seed data replacing the packaged fixtures.",
)
@click.option(
    "--faults",
    "faults_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML list of faults to arm at start (the control plane's FaultPayload, plus an optional sandbox).",
)
@click.option("--validate-responses", is_flag=True, help="Answer 500 when a response breaks the contract.")
@click.option("--rate-limit", type=click.IntRange(min=1), help="Requests per minute per key; 429 beyond it.")
@count_option(
    "--max-incidents",
    DEFAULTS.max_incidents,
    "Incidents the store holds; a create past it is 422 capacity_reached.",
)
@count_option(
    "--max-severities",
    DEFAULTS.max_severities,
    "Severities the store holds; a create past it is 422 capacity_reached.",
)
@count_option(
    "--max-rows",
    DEFAULTS.max_rows,
    "Objects of each other declared resource the store holds; a create past it is 422 capacity_reached.",
)
@count_option(
    "--max-text-mib",
    DEFAULTS.max_text_bytes // 2**20,
    "MiB of text (names, summaries, ...) all sandboxes hold together; past it, 422 capacity_reached.",
)
@count_option(
    "--render-cache-mib",
    DEFAULTS.render_cache_bytes // 2**20,
    "MiB of rendered incident JSON kept for list pages.",
)
@count_option(
    "--max-sandboxes",
    DEFAULTS.max_sandboxes,
    "Sandboxes held at once, the default one included; a create past it is 422 capacity_reached.",
)
@count_option(
    "--max-total-incidents",
    DEFAULTS.max_total_incidents,
    "Incidents in all sandboxes together; a create past it is 422 capacity_reached.",
)
@count_option(
    "--journal-entries",
    DEFAULTS.journal_entries,
    "Entries each sandbox's request journal keeps (the oldest are dropped).",
)
@count_option(
    "--journal-kib",
    DEFAULTS.journal_bytes // 2**10,
    "KiB each sandbox's request journal keeps (the oldest entries are dropped).",
)
@count_option(
    "--journal-body-kib",
    DEFAULTS.journal_body_bytes // 2**10,
    "KiB of each request and response body the journal keeps; longer ones are truncated, with a marker.",
)
@count_option(
    "--journal-total-mib", DEFAULTS.journal_total_bytes // 2**20, "MiB all sandboxes' journals keep together."
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**53 - 1),
    help="Make generated ids reproducible: the same seed and the same requests give the same ids (freeze "
    "the sandboxes' clocks too: a ULID begins with its time). Default: random ids.",
)
@click.option(
    "--webhook-time-scale",
    default=WEBHOOKS.time_scale,
    show_default=True,
    type=click.FloatRange(min=0, max=1, min_open=True),
    help="Multiplies the contract's webhook retry schedule (5 s, 5 min, 30 min, ...); 1 is real time. "
    "An endpoint may set its own (time_scale).",
)
@click.option(
    "--webhook-allow-remote",
    is_flag=True,
    help="Let webhook endpoints target any host; by default only loopback (127.0.0.0/8, ::1, localhost).",
)
@count_option("--webhook-max-endpoints", WEBHOOKS.max_endpoints, "Webhook endpoints each sandbox holds.")
@count_option(
    "--webhook-log-entries",
    WEBHOOKS.log_entries,
    "Messages each endpoint's delivery log keeps (oldest dropped).",
)
@count_option(
    "--webhook-log-kib",
    WEBHOOKS.log_bytes // 2**10,
    "KiB each endpoint's delivery log keeps (oldest dropped).",
)
@count_option(
    "--webhook-log-total-mib",
    WEBHOOKS.log_total_bytes // 2**20,
    "MiB the delivery logs of every endpoint of every sandbox keep together (oldest dropped).",
)
@count_option(
    "--webhook-max-pending",
    WEBHOOKS.max_pending,
    "Webhook messages awaiting delivery or retry, in all sandboxes; each sandbox keeps its share "
    "(this / --max-sandboxes) whatever the others do; past it a sandbox over its share gives up its own "
    "oldest.",
)
@count_option(
    "--webhook-sandbox-concurrency",
    WEBHOOKS.sandbox_concurrency,
    "Webhook attempts in flight for one sandbox's endpoints together: receivers that never answer hold "
    "at most this many connections.",
)
@count_option(
    "--webhook-max-connections",
    WEBHOOKS.max_connections,
    "Connections the webhook sender opens, for all sandboxes together; each sandbox keeps its share "
    "(this / --max-sandboxes, at least one).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.pass_context
def main(
    ctx: click.Context,
    host: str,
    port: int,
    public_url: str | None,
    allowed_hosts: tuple[str, ...],
    admin_token: str | None,
    sandbox_create_token: str | None,
    sandbox_idle_timeout: float | None,
    cors_origins: tuple[str, ...],
    max_header_bytes: int,
    max_headers: int,
    request_timeout: float,
    keep_alive_timeout: float,
    max_connections: int | None,
    fixtures: Path | None,
    faults_file: Path | None,
    validate_responses: bool,
    rate_limit: int | None,
    max_incidents: int,
    max_severities: int,
    max_rows: int,
    max_text_mib: int,
    render_cache_mib: int,
    max_sandboxes: int,
    max_total_incidents: int,
    journal_entries: int,
    journal_kib: int,
    journal_body_kib: int,
    journal_total_mib: int,
    seed: int | None,
    webhook_time_scale: float,
    webhook_allow_remote: bool,
    webhook_max_endpoints: int,
    webhook_log_entries: int,
    webhook_log_kib: int,
    webhook_log_total_mib: int,
    webhook_max_pending: int,
    webhook_sandbox_concurrency: int,
    webhook_max_connections: int,
    log_level: str,
) -> None:
    """Run the incident-contract mock: a stateful server for openapi.yaml."""
    if ctx.invoked_subcommand is not None:
        return
    if sandbox_create_token and not admin_token:
        raise click.UsageError("--sandbox-create-token needs --admin-token (without it /_mock/ is open)")
    started = time.perf_counter()
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    settings = MockSettings(
        fixtures=fixtures or SETTINGS.fixtures,
        validate_responses=validate_responses,
        rate_limit=rate_limit,
        seed=seed,
        limits=Limits(
            max_incidents,
            max_severities,
            render_cache_mib * 2**20,
            max_text_mib * 2**20,
            max_sandboxes=max_sandboxes,
            max_total_incidents=max_total_incidents,
            journal_entries=journal_entries,
            journal_bytes=journal_kib * 2**10,
            journal_body_bytes=journal_body_kib * 2**10,
            journal_total_bytes=journal_total_mib * 2**20,
            max_rows=max_rows,
        ),
        webhooks=WebhookSettings(
            time_scale=webhook_time_scale,
            allow_remote=webhook_allow_remote,
            max_endpoints=webhook_max_endpoints,
            log_entries=webhook_log_entries,
            log_bytes=webhook_log_kib * 2**10,
            log_total_bytes=webhook_log_total_mib * 2**20,
            max_pending=webhook_max_pending,
            sandbox_concurrency=webhook_sandbox_concurrency,
            max_connections=webhook_max_connections,
        ),
        public_url=public_url,
        allowed_hosts=allowed_hosts,
        admin_token=admin_token,
        sandbox_create_token=sandbox_create_token or None,
        sandbox_idle_timeout=sandbox_idle_timeout,
        cors_origins=cors_origins,
        host=host,
        port=port,
        transport=TransportLimits(
            max_header_bytes, max_headers, request_timeout, keep_alive_timeout, max_connections
        ),
        log_level=log_level,
        access_log=log_level == "debug",
    )
    raise_descriptor_limit()
    try:
        mock = MockServer(settings=settings)
    except Refused as exc:
        click.echo(f"incident-mock: {exc}", err=True)
        sys.exit(2)
    except FixturesInvalid as exc:
        click.echo(f"incident-mock: --fixtures {settings.fixtures}: {exc}", err=True)
        sys.exit(2)
    armed = 0
    if faults_file is not None:
        try:
            armed = len(arm_file(mock.app.sandboxes, faults_file))
        except FaultFileError as exc:
            mock.socket.close()
            click.echo(f"incident-mock: --faults {faults_file}: {exc}", err=True)
            sys.exit(2)
    # The socket listens already: a client that connects now is served as soon as uvicorn runs.
    click.echo(banner(mock.url, mock.address, mock.app.holder.store.keys, started, admin=bool(admin_token)))
    if faults_file is not None:
        listed = f"{mock.url}/_mock/sandboxes/default/faults"
        click.echo(f"  faults     {armed} armed from {faults_file}   (listed at {listed})")
    # uvicorn shuts down gracefully, then re-raises the signal it caught: treat that as a clean stop.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        mock.run()
    click.echo("incident-mock stopped")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
def docs(out: Path) -> None:
    """Write the static documentation site to OUT."""
    from incident_contract.docs import build_site

    written = build_site(out)
    click.echo(f"wrote {len(written)} files to {out}")
