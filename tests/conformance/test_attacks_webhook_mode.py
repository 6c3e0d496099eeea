"""Attacks on the receiver mode's run, each a defect found on main and fixed here.

- a delivery whose body is JSON nested deeper than Python's recursion limit (well within the receiver's
  1 MiB) crashed the whole run with a RecursionError instead of failing the rule it breaks.
"""

from __future__ import annotations

from pathlib import Path

from tests.conformance.test_webhook_mode import Bench, bench, run  # noqa: F401  (the bench fixture)
from tests.conformance.webhook_wire import Message, Proxy, new_id

NESTED = b"[" * 100_000 + b"]" * 100_000


class SendsADeepNest(Proxy):
    """Forwards every delivery, and after the first one a signed message of deeply nested JSON."""

    sent = False

    def alter(self, message: Message) -> list[Message]:
        if self.sent:
            return [message]
        self.sent = True
        return [message, Message(new_id(), NESTED)]


def test_a_deeply_nested_body_fails_a_rule_and_the_run_goes_on(bench: Bench, tmp_path: Path) -> None:  # noqa: F811
    code, statuses, output, data = run(bench, tmp_path, via=SendsADeepNest(""))
    assert code == 1, output
    failed = {r for r, s in statuses.items() if s == "failed"}
    assert failed and "Traceback" not in output
    assert len(data["deliveries"]) >= 2
