"""Terminal output: a live line per rule, the final table, each failure, and what the run created."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from incident_conformance.marks import NAME_PREFIX
from incident_conformance.rules import Outcome, Rule, Status
from incident_conformance.settings import SettingsLedger

__all__ = [
    "Progress",
    "field",
    "print_failures",
    "print_settings",
    "print_summary",
    "print_table",
    "rules_markdown",
]

STYLE = {
    Status.PASSED: "green",
    Status.FAILED: "bold red",
    Status.SKIPPED: "yellow",
    Status.ERROR: "bold magenta",
}
MARK = {Status.PASSED: "PASS", Status.FAILED: "FAIL", Status.SKIPPED: "SKIP", Status.ERROR: "ERROR"}


class Progress:
    """A spinner while a rule runs, then one line with its result."""

    def __init__(self, console: Console, total: int) -> None:
        self.console, self.total, self.index = console, total, 0
        self.status: AbstractContextManager[Any] | None = None

    def start(self, rule: Rule) -> None:
        self.index += 1
        self.status = self.console.status(f"[{self.index}/{self.total}] {rule.id} {rule.name} ...")
        self.status.__enter__()

    def done(self, outcome: Outcome) -> None:
        if self.status is not None:
            self.status.__exit__(None, None, None)
        rule = outcome.rule
        extra = f" — {escape(outcome.reason)}" if outcome.reason else ""
        extra += f" — {len(outcome.failures)} failure(s)" if outcome.failures else ""
        extra += f" — {escape(outcome.cause)}" if outcome.cause else ""
        self.console.print(
            f"[{STYLE[outcome.status]}]{MARK[outcome.status]:>5}[/] {rule.id:<11} {rule.name} "
            f"[dim]({outcome.seconds:.1f} s)[/]{extra}",
            highlight=False,
        )


def print_table(console: Console, outcomes: list[Outcome]) -> None:
    table = Table(title="incident-conformance results")
    for column in ("rule", "level", "name", "result", "time"):
        table.add_column(column, justify="right" if column == "time" else "left")
    for o in outcomes:
        result = f"[{STYLE[o.status]}]{o.status.value}[/]"
        table.add_row(o.rule.id, o.rule.level.value, o.rule.name, result, f"{o.seconds:.1f} s")
    console.print(table)


def field(label: str, text: str, indent: int = 4) -> str:
    """`label: text`, indented, with every further line of a multi-line text under the first one.

    A Schemathesis message (a schema, the value it rejected) keeps its own indentation, shifted as a block.
    """
    head = f"{' ' * indent}{label}: "
    return head + text.replace("\n", "\n" + " " * len(head))


def print_failures(console: Console, outcomes: list[Outcome]) -> None:
    """Each failed rule's failures under a first line naming it; when the suite can tell what probably made
    it fail (a key refused for a scope it lacks), that first line says so before anything else."""
    for o in outcomes:
        cause = f" [bold yellow]{escape(o.cause)}[/]" if o.cause else ""
        if o.status is Status.ERROR:
            console.print(
                f"\n[bold magenta]{o.rule.id} {o.rule.name}: could not finish[/]{cause}", soft_wrap=True
            )
            console.print(f"  {escape(o.reason)}")
        if not o.failures:
            continue
        if o.cause:
            console.print(
                f"\n[bold red]{o.rule.id} {o.rule.level.value} {o.rule.name}:[/]{cause}", soft_wrap=True
            )
            console.print(f"  {escape(o.rule.summary)}")
        else:
            console.print(
                f"\n[bold red]{o.rule.id} {o.rule.level.value} {o.rule.name}[/]  {escape(o.rule.summary)}"
            )
        for f in o.failures[:20]:
            console.print(f"  [bold]{escape(f.title)}[/]", highlight=False)
            console.print(escape(field("Expected", f.expected)), highlight=False)
            console.print(escape(field("Received", f.received)), highlight=False)
            if f.reproduce:
                console.print(escape(field("Reproduce", f.reproduce)), highlight=False, soft_wrap=True)
        if len(o.failures) > 20:
            console.print(f"  ... and {len(o.failures) - 20} more (see the JSON report)")


def print_summary(
    console: Console, outcomes: list[Outcome], created: list[str], settings: SettingsLedger | None, seed: int
) -> None:
    counts = {s: sum(1 for o in outcomes if o.status is s) for s in Status}
    line = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    console.print(f"\n{len(outcomes)} rules: {line}. Seed {seed}.")
    console.print(
        f"Created {len(created)} incident(s), all with mode test and a {escape(NAME_PREFIX)} name prefix"
        f"{'' if settings else '; no settings were changed (settings writes not allowed)'}.",
        highlight=False,
    )
    if settings is not None:
        print_settings(console, settings)
    for o in outcomes:
        for note in o.notes:
            console.print(f"[dim]{o.rule.id}: {escape(note)}[/]")


def print_settings(console: Console, settings: SettingsLedger) -> None:
    """The settings writes of the run: what it created, updated, deleted and cleaned up."""
    n = len(settings.created)
    console.print(
        f"Settings: created {n} severit{'y' if n == 1 else 'ies'}, each with a {escape(NAME_PREFIX)} name "
        f"prefix; updated {len(settings.updated)} and deleted {len(settings.deleted)} of them in the run; "
        f"cleaned up {len(settings.cleaned_up)} at the end ({len(settings.left_behind)} left behind). "
        f"The {len(settings.protected)} severities that existed before were neither updated nor deleted.",
        highlight=False,
    )
    for severity_id, why in settings.cleanup_failures.items():
        console.print(
            f"[bold yellow]Could not delete severity {escape(severity_id)} ({escape(why)}); "
            "delete it by hand.[/]",
            highlight=False,
        )
    for refused in settings.refused:
        console.print(f"[bold yellow]Refused (pre-existing severity): {escape(refused)}[/]", highlight=False)
    for note in settings.notes:
        console.print(f"[dim]settings: {escape(note)}[/]", highlight=False)


def rules_markdown(rules: list[Rule]) -> str:
    lines = ["| ID | Level | Rule | What it checks |", "|---|---|---|---|"]
    for r in rules:
        needs = " Needs `--viewer-key`." if r.needs_viewer else ""
        needs += " Needs `--creator-key`." if r.needs_creator else ""
        lines.append(f"| `{r.id}` | {r.level.value} | `{r.name}` | {r.summary}{needs} |")
    return "\n".join(lines)
