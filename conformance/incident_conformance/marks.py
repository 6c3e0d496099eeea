"""How the suite marks what it creates on a target, so that anyone can tell it apart and clean it up."""

from __future__ import annotations

__all__ = ["NAME_PREFIX", "TEST_MODE"]

NAME_PREFIX = "[conformance]"  # every incident and severity the suite creates is named with it
TEST_MODE = "test"  # every incident the suite creates has this mode (left out of default lists)
