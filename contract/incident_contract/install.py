"""How to install the distribution or one of its extras: the one line that the README gives for each.

The distribution is not on PyPI: it installs from a clone of its repository, with the line run in the
clone's top folder. `MIN_PIP` is the oldest pip the lines are tested with (the one Python 3.11.0 bundles).
"""

from __future__ import annotations

__all__ = ["DISTRIBUTION", "EXTRAS", "MIN_PIP", "install_line"]

DISTRIBUTION = "incident-contract"
EXTRAS = ("mock", "conformance", "all")
MIN_PIP = "22.3"


def install_line(extra: str | None = None) -> str:
    """The shell line that installs the core (`extra=None`) or the core and one extra, from a clone."""
    if extra is None:
        return "python -m pip install ."
    if extra not in EXTRAS:
        raise ValueError(f"{DISTRIBUTION} has no extra {extra!r}; its extras: {', '.join(EXTRAS)}")
    return f"python -m pip install '.[{extra}]'"
