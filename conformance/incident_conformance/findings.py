"""What a rule finds: Failures (a broken expectation, with how to reproduce it) and Notes, and the helpers
that turn a judgement into a Failure. No imports of the package's own: every other module may use these.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Failure", "Finding", "Note", "RuleSkipped", "expect", "found"]


class RuleSkipped(Exception):
    """Raised by a check that cannot run here; the message is the reason shown in the report."""


@dataclass(frozen=True)
class Failure:
    """One broken expectation: what the contract wants, what the target did, and how to see it again."""

    title: str
    expected: str
    received: str
    reproduce: str | None = None


@dataclass(frozen=True)
class Note:
    """Something the report should say about a rule that is not a failure (what it left out, and why)."""

    text: str


Finding = Failure | Note


def expect(
    ok: bool, title: str, expected: str, received: str, reproduce: str | None = None
) -> Failure | None:
    """A Failure unless `ok`: `if failure := expect(...): yield failure`."""
    return None if ok else Failure(title, expected, received, reproduce)


def found(*failures: Failure | None) -> Iterator[Failure]:
    """The failures among several `expect`s: `yield from found(expect(...), expect(...))`."""
    return (f for f in failures if f is not None)
