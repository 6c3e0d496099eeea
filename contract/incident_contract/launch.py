"""Console-script entry points that say which extra to install instead of failing with a traceback.

`incident-mock` needs the `[mock]` extra and `incident-conformance` the `[conformance]` extra. Each
script's module is imported only here, so a missing third-party module is caught and answered with the
one command that fixes it (`incident_contract.install`, as the README gives it), and exit code 2 (a usage
error, as click uses).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

from incident_contract.install import DISTRIBUTION, MIN_PIP, install_line

__all__ = ["launch"]

OURS = ("incident_contract", "incident_mock", "incident_conformance")


def launch(module: str, extra: str, script: str) -> None:
    """Import `module` and call its `main`; exit 2 naming the extra when a dependency is missing."""
    try:
        entry: Callable[[], None] = importlib.import_module(module).main
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if not missing or missing in OURS:
            raise
        print(
            f"{script} needs the [{extra}] extra (module {missing!r} is missing); "
            f"in a clone of {DISTRIBUTION}, with pip {MIN_PIP} or newer: {install_line(extra)}",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    entry()
