"""Terminal output: one line per rule as it finishes, the table, each failure readable, and the summary."""

from __future__ import annotations

import io

from rich.console import Console

from incident_conformance.report import Progress, print_failures, print_summary, print_table, rules_markdown
from incident_conformance.rules import Failure, Level, Outcome, Rule, Status


def rule(rule_id: str = "IDEMP-1", needs_viewer: bool = False) -> Rule:
    return Rule(
        rule_id,
        Level.MUST,
        "name_of_it",
        rule_id.split("-")[0],
        "What [it] checks.",
        lambda c: [],
        needs_viewer,
    )


def console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, highlight=False, color_system=None), out


FAILURE = Failure(
    "replay of the create", "200 with incident X", "201 with incident Y", "curl -sS -X POST 'u'"
)


def test_progress_prints_one_line_per_rule_with_its_result_and_time() -> None:
    con, out = console()
    progress = Progress(con, 2)
    progress.start(rule())
    progress.done(Outcome(rule(), Status.FAILED, 1.25, [FAILURE]))
    progress.start(rule("VIS-1"))
    progress.done(Outcome(rule("VIS-1"), Status.SKIPPED, reason="needs --viewer-key"))
    lines = out.getvalue().strip().splitlines()
    assert (
        lines[0].split()[:2] == ["FAIL", "IDEMP-1"] and "(1.2 s)" in lines[0] and "1 failure(s)" in lines[0]
    )
    assert lines[1].split()[:2] == ["SKIP", "VIS-1"] and "needs --viewer-key" in lines[1]


def test_failures_read_expected_received_and_reproduce_and_markup_is_not_eaten() -> None:
    con, out = console()
    print_failures(con, [Outcome(rule(), Status.FAILED, failures=[FAILURE] * 22)])
    text = out.getvalue()
    assert "IDEMP-1 MUST name_of_it" in text and "What [it] checks." in text
    assert text.count("Expected: 200 with incident X") == 20 and "and 2 more" in text
    assert "Received: 201 with incident Y" in text and "Reproduce: curl -sS -X POST 'u'" in text


def test_errors_say_the_rule_could_not_finish() -> None:
    con, out = console()
    print_failures(con, [Outcome(rule(), Status.ERROR, reason="the target stopped answering")])
    assert "could not finish" in out.getvalue() and "stopped answering" in out.getvalue()


def test_table_and_summary_count_every_status_and_name_the_seed() -> None:
    con, out = console()
    outcomes = [
        Outcome(rule(), Status.PASSED),
        Outcome(rule("VIS-1"), Status.SKIPPED),
        Outcome(rule(), Status.FAILED),
    ]
    outcomes[0].notes.append("a note")
    print_table(con, outcomes)
    print_summary(con, outcomes, ["INC1"], None, 42)
    text = out.getvalue()
    assert "3 rules: 1 passed, 1 failed, 1 skipped. Seed 42." in text
    assert (
        "Created 1 incident(s)" in text and "no settings were changed" in text and "IDEMP-1: a note" in text
    )


def test_markdown_lists_each_rule_and_says_which_need_the_viewer_key() -> None:
    text = rules_markdown([rule(), rule("VIS-1", needs_viewer=True)])
    assert text.splitlines()[0] == "| ID | Level | Rule | What it checks |"
    assert "| `IDEMP-1` | MUST | `name_of_it` | What [it] checks. |" in text
    assert "| `VIS-1` | MUST | `name_of_it` | What [it] checks. Needs `--viewer-key`. |" in text
    creator = Rule("IDEMP-6", Level.MUST, "n", "IDEMP", "S.", lambda c: [], needs_creator=True)
    assert (
        rules_markdown([creator]).splitlines()[-1] == "| `IDEMP-6` | MUST | `n` | S. Needs `--creator-key`. |"
    )


def test_a_multi_line_message_keeps_its_indentation_under_its_label() -> None:
    con, out = console()
    message = 'Response violates schema\n\n    {\n        "type": "string"\n    }'
    print_failures(con, [Outcome(rule(), Status.FAILED, failures=[Failure("t", "e", message, "curl x")])])
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "Received:" in line)
    column = lines[start].index("Response")
    assert lines[start + 2] == " " * column + "    {"
    assert lines[start + 3] == " " * column + '        "type": "string"'
    assert lines[start + 5].startswith("    Reproduce: curl x")
