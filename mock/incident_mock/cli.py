"""incident-mock: run the mock, or write the static docs."""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from pathlib import Path
from types import FrameType

import click
import uvicorn

from incident_mock.app import create_app
from incident_mock.records import ApiKey

__all__ = ["main"]

KEYS_HELP = """\b
Default keys (from the packaged fixtures):
  mock-key-full     viewer, incident_creator, incident_editor, global_access, manage_settings
  mock-key-creator  incident_creator
  mock-key-viewer   viewer
"""


def banner(host: str, port: int, keys: list[ApiKey], started: float) -> str:
    base = f"http://{host}:{port}"
    lines = [
        f"incident-mock ready in {time.perf_counter() - started:.2f} s",
        f"  base URL   {base}",
        f"  docs       {base}/docs/   (contract: {base}/openapi.yaml, {base}/openapi.json)",
        f"  control    {base}/_mock/health, POST {base}/_mock/reset",
        "  API keys   (send as Authorization: Bearer <key>)",
        *(f"    {k.token:<18} {', '.join(k.roles)}" for k in keys),
    ]
    return "\n".join(lines)


@click.group(invoke_without_command=True, epilog=KEYS_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to bind.")
@click.option(
    "--fixtures",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML seed data replacing the packaged fixtures.",
)
@click.option("--validate-responses", is_flag=True, help="Answer 500 when a response breaks the contract.")
@click.option("--rate-limit", type=click.IntRange(min=1), help="Requests per minute per key; 429 beyond it.")
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
    fixtures: Path | None,
    validate_responses: bool,
    rate_limit: int | None,
    log_level: str,
) -> None:
    """Run the incident-contract mock: a stateful server for openapi.yaml."""
    if ctx.invoked_subcommand is not None:
        return
    started = time.perf_counter()
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    app = create_app(fixtures, validate_responses=validate_responses, rate_limit=rate_limit)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=log_level == "debug")
    server = uvicorn.Server(config)

    original_startup = server.startup

    async def startup(sockets: object = None) -> None:
        await original_startup(sockets=sockets)  # type: ignore[arg-type]
        if server.started:
            bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
            click.echo(banner(host, bound, app.holder.store.keys, started))

    server.startup = startup  # type: ignore[method-assign]
    # uvicorn shuts down gracefully, then re-raises the signal it caught: treat that as a clean stop.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
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
