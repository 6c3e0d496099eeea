"""The `incident-conformance` console script: the API run (cli.py), or the receiver mode (webhook_cli.py).

`incident-conformance webhooks ...` runs the receiver mode; any other invocation is the API run, as before.
"""

from __future__ import annotations

import sys

from incident_conformance.cli import ENV_PREFIX
from incident_conformance.cli import main as api_main
from incident_conformance.webhook_cli import webhooks

__all__ = ["WEBHOOKS", "main"]

WEBHOOKS = "webhooks"


def main(argv: list[str] | None = None) -> None:
    import incident_conformance.checks  # noqa: F401  (registers the rules)

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == [WEBHOOKS]:
        name = f"incident-conformance {WEBHOOKS}"
        webhooks.main(args=args[1:], prog_name=name, auto_envvar_prefix=ENV_PREFIX)
    else:
        api_main(args)
